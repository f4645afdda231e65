"""Client datasets sent as tf.data graphs rather than as their elements.

    controller:  graph_def = to_graph(dataset, element_type)  # None: cannot
    worker:      dataset = from_graph(graph_def, element_type, allowlist)

A dataset built from tensors in memory serializes to the GraphDef of its
pipeline (`DatasetToGraphV2`, its data as constants) in about a
millisecond, where iterating it to send its elements costs tens of
milliseconds per client; the worker rebuilds it (`DatasetFromGraph`) as
fast, and the pipeline then runs there as it would have in process,
shuffles and maps included.

A dataset whose pipeline does not serialize (Python functions, external
state) or holds ops outside the default allowlist gets None from
`to_graph`, and travels as elements instead. A worker checks each graph
against its own allowlist, and its output types and shapes against the
sequence type, before rebuilding it.

This module neither sends nor stores values.
"""

from typing import Optional

from google.protobuf import message as message_lib
import tensorflow as tf

from tffx.computations import tensorflow_values
from tffx.remote import errors
from tffx.remote import graph_allowlist
from tffx.types import computation_types as ct
from tffx.types import errors as type_errors
from tffx.types import type_conversions

_FAIL_ON_EXTERNAL_STATE = tf.data.experimental.ExternalStatePolicy.FAIL.value
_DEFAULT_ALLOWLIST = graph_allowlist.GraphAllowlist()


def to_graph(dataset: tf.data.Dataset,
             element_type: ct.Type) -> Optional[bytes]:
  """The serialized GraphDef of `dataset`'s pipeline, or None if it cannot be.

  The dataset is first shaped as `element_type` says (as a graph would read
  it), so the worker can rebuild it from the type alone.
  """
  try:
    dataset = tensorflow_values.conform_dataset(dataset, element_type)
    graph_def = tf.raw_ops.DatasetToGraphV2(
        input_dataset=tf.data.experimental.to_variant(dataset),
        external_state_policy=_FAIL_ON_EXTERNAL_STATE,
        strip_device_assignment=True).numpy()
  except (tf.errors.OpError, TypeError, ValueError):
    return None
  try:
    _DEFAULT_ALLOWLIST.check_graph_def(
        tf.compat.v1.GraphDef.FromString(graph_def), 'a client dataset')
  except errors.DisallowedOpError:
    return None
  return graph_def


def from_graph(graph_def: bytes, element_type: ct.Type,
               allowlist: graph_allowlist.GraphAllowlist,
               where: str) -> tf.data.Dataset:
  """Rebuilds a dataset of `element_type` from the bytes of `to_graph`.

  Raises:
    SerializationError: if the bytes are not a GraphDef, or the pipeline
      does not yield elements of `element_type`.
    DisallowedOpError: if the graph holds an op the allowlist refuses.
  """
  try:
    graph = tf.compat.v1.GraphDef.FromString(graph_def)
  except message_lib.DecodeError as e:
    raise type_errors.SerializationError(
        f'The dataset graph at {where} ({len(graph_def)} bytes) does not '
        f'parse as a TensorFlow GraphDef: {e}.') from None
  allowlist.check_graph_def(graph, f'the dataset at {where}')
  spec = type_conversions.to_tf_spec(element_type)
  _check_outputs(graph, tf.nest.flatten(spec), element_type, where)
  variant = tf.raw_ops.DatasetFromGraph(graph_def=graph_def)
  return tf.data.experimental.from_variant(variant, spec)


def _check_outputs(graph, specs: list, element_type: ct.Type,
                   where: str) -> None:
  """Checks the dataset the graph returns yields `specs`' dtypes and shapes."""
  returns = [n for n in graph.node if n.op == '_Retval']
  nodes = {n.name: n for n in graph.node}
  source = None
  if len(returns) == 1 and returns[0].input:
    source = nodes.get(returns[0].input[0].split(':')[0].lstrip('^'))
  # Dataset ops name their element types `output_types`, a few (tensor
  # sources) `Toutput_types`.
  types_attr = next((a for a in ('output_types', 'Toutput_types')
                     if source is not None and a in source.attr), None)
  if types_attr is None or 'output_shapes' not in source.attr:
    raise type_errors.SerializationError(
        f'The dataset graph at {where} does not return one dataset.')
  dtypes = [tf.dtypes.as_dtype(t) for t in source.attr[types_attr].list.type]
  shapes = [tf.TensorShape(s) for s in source.attr['output_shapes'].list.shape]
  fits = len(dtypes) == len(specs) and all(
      d == s.dtype and s.shape.is_compatible_with(shape)
      for d, shape, s in zip(dtypes, shapes, specs))
  if not fits:
    found = [f'{d.name}{shape}' for d, shape in zip(dtypes, shapes)]
    raise type_errors.SerializationError(
        f'The dataset graph at {where} yields {found}; the sequence type '
        f'{element_type}* needs {[f"{s.dtype.name}{s.shape}" for s in specs]}.')
