"""The federated type system. See `computation_types` for the overview."""
