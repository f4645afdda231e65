"""Errors of `tffx.backends.mapreduce`."""


class MapReduceFormCompilationError(ValueError):
  """A computation of the right type does not compile into a form.

  For example it broadcasts a value computed from an aggregate (more than one
  round trip), or uses an intrinsic a form cannot express (`federated_select`).
  TFF's class of the same name subclasses `Exception`; this one subclasses
  `ValueError` so that callers catching either keep working.
  """
