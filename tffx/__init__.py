"""tffx: federated computation on TensorFlow graphs."""
