"""Batched versions of element-wise TensorFlow computations.

`federated_map(add_one, x)` over 10,000 scalar clients calls a graph 10,000
times; each call costs ~50-150 us of TensorFlow overhead for a nanosecond
of arithmetic. When the graph only applies element-wise operations, the
same graph run once on the clients' values stacked along a new leading axis
computes every client's result at once:

    add_one: (float32 -> float32)      to_batched(add_one):
      arg_0 = Placeholder[]              arg_0 = Placeholder[?]
      add   = AddV2(arg_0, 1.0)          add   = AddV2(arg_0, 1.0)   (broadcast)

`to_batched(block)` returns that block, of type `(float32[?] -> float32[?])`
here, or None when the rewrite is not certainly exact. It applies when:

- the parameter's leaves are tensors of fully known shape, the results are
  tensors, and the graph calls no library functions;
- every op is a placeholder, a constant or an allowlisted element-wise op
  whose result is correctly rounded (IEEE add, subtract, multiply, divide,
  min/max, comparisons, casts, negation...), so a value computed for a
  stacked input is bit-for-bit the one computed alone (transcendental ops
  such as `exp` are excluded: their vectorized kernels may differ by an ulp);
- broadcasting cannot mix clients: every input of an op that depends on the
  argument has the op's full rank, and inputs that do not (constants) have
  at most that rank, so the new axis lines up only with itself;
- every result depends on the argument (a constant result is not stacked).

This module only analyses and rewrites graphs; the executor decides when to
use the batched block (see `thread_pool_executor`).
"""

from typing import Dict, Optional, Tuple

import tensorflow as tf
from tensorflow.core.framework import tensor_shape_pb2

from tffx.computations import building_blocks
from tffx.proto import computation_pb2
from tffx.types import computation_types as ct

# Element-wise ops whose per-element result does not depend on the shape of
# the operands (correctly rounded or exact), by number of inputs.
_UNARY_OPS = frozenset({
    'Identity', 'Neg', 'Abs', 'Square', 'Cast', 'Floor', 'Ceil', 'Rint',
    'Round', 'Sign', 'LogicalNot'
})
_BROADCASTING_OPS = frozenset({
    'Add', 'AddV2', 'Sub', 'Mul', 'RealDiv', 'Div', 'Maximum', 'Minimum',
    'SquaredDifference', 'Equal', 'NotEqual', 'Less', 'LessEqual', 'Greater',
    'GreaterEqual', 'LogicalAnd', 'LogicalOr', 'SelectV2'
})
_NUMERIC_KINDS = 'biuf'


def to_batched(
    block: building_blocks.TensorFlow) -> Optional[building_blocks.TensorFlow]:
  """The block applying `block` to each slice of stacked arguments, or None.

  See the module docstring for when a block has a batched version. The
  batched block keeps the proto's name, so errors still name the
  computation the user wrote.
  """
  fn_type = block.type_signature
  parameter_leaves = _tensor_leaves(fn_type.parameter)
  result_leaves = _tensor_leaves(fn_type.result)
  if not parameter_leaves or result_leaves is None:
    return None
  if any(t.shape is None or None in t.shape or
         t.dtype.kind not in _NUMERIC_KINDS for t in parameter_leaves):
    return None
  proto = block.proto
  if len(proto.parameter_names) != len(parameter_leaves):
    return None
  graph_def = tf.compat.v1.GraphDef.FromString(proto.graph_def)
  if graph_def.library.function:
    return None
  ranks = {
      _node_name(name): (len(t.shape), True)
      for name, t in zip(proto.parameter_names, parameter_leaves)
  }
  if not _infer_ranks(graph_def, ranks):
    return None
  if not all(ranks.get(_node_name(name), (0, False))[1]
             for name in proto.result_names):
    return None
  return building_blocks.TensorFlow(
      _batched_proto(proto, graph_def),
      ct.FunctionType(_batched_type(fn_type.parameter),
                      _batched_type(fn_type.result)))


def _tensor_leaves(type_spec) -> Optional[list]:
  """The tensor types of a tensor or struct of tensors; None otherwise."""
  if isinstance(type_spec, ct.TensorType):
    return [type_spec]
  if isinstance(type_spec, ct.StructType):
    leaves = []
    for element in type_spec:
      element_leaves = _tensor_leaves(element)
      if element_leaves is None:
        return None
      leaves.extend(element_leaves)
    return leaves
  return None


def _node_name(tensor_name: str) -> str:
  """'add:0' -> 'add'; every allowlisted op has a single output."""
  return tensor_name.split(':')[0]


def _infer_ranks(graph_def, ranks: Dict[str, Tuple[int, bool]]) -> bool:
  """Fills {node: (rank, depends on the argument)}; False if not batchable.

  `ranks` starts with the parameter placeholders. GraphDefs written by
  `tf_computation` list nodes after their inputs, as TensorFlow builds them.
  """
  for node in graph_def.node:
    inputs = [i for i in node.input if not i.startswith('^')]
    if any(':' in i and not i.endswith(':0') for i in inputs):
      return False
    if node.op == 'Placeholder':
      if node.name not in ranks:
        return False
      continue
    if node.op == 'Const':
      ranks[node.name] = (len(node.attr['value'].tensor.tensor_shape.dim),
                          False)
      continue
    known = [ranks.get(_node_name(i)) for i in inputs]
    if None in known:
      return False
    if node.op in _UNARY_OPS and len(known) == 1:
      ranks[node.name] = known[0]
      continue
    if node.op not in _BROADCASTING_OPS or not known:
      return False
    rank = max(r for r, _ in known)
    batched = any(b for _, b in known)
    if batched and any(b and r != rank for r, b in known):
      return False
    ranks[node.name] = (rank, batched)
  return True


def _batched_proto(proto, graph_def) -> computation_pb2.TensorFlow:
  """The proto whose parameter placeholders have a new leading dimension."""
  batched_graph = tf.compat.v1.GraphDef()
  batched_graph.CopyFrom(graph_def)
  parameters = {_node_name(n) for n in proto.parameter_names}
  for node in batched_graph.node:
    node.attr.pop('_output_shapes', None)
    if node.name in parameters:
      shape = node.attr['shape'].shape
      dims = [tensor_shape_pb2.TensorShapeProto.Dim(size=-1)] + list(shape.dim)
      del shape.dim[:]
      shape.dim.extend(dims)
  result = computation_pb2.TensorFlow()
  result.CopyFrom(proto)
  result.graph_def = batched_graph.SerializeToString(deterministic=True)
  return result


def _batched_type(type_spec: ct.Type) -> ct.Type:
  if isinstance(type_spec, ct.TensorType):
    shape = None if type_spec.shape is None else [None] + list(type_spec.shape)
    return ct.TensorType(type_spec.dtype, shape)
  return ct.StructType([(n, _batched_type(t)) for n, t in type_spec.items()])
