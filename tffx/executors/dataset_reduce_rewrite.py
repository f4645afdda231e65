"""Rewrites `dataset.reduce` in a graph into an iterator loop, for speed.

TensorFlow's `ReduceDataset` kernel instantiates its reduce function on
every run: it builds, optimizes (Grappler, MLIR passes) and partitions the
function graph again each time, then releases it. For a client's training
loop (`dataset.reduce(state, step)` over a few batches) that costs ~10 ms
per call, several times the training itself. An explicit iterator loop runs
the same function through an op whose kernel keeps its instantiation:

    ReduceDataset(dataset, state..., captured...; f)
      ==>
    it    = AnonymousIteratorV3()            ; MakeIterator(dataset, it)
    first = IteratorGetNextAsOptional(it)
    While(it, first, state..., captured...)
      cond: OptionalHasValue(optional)
      body: state = f(state..., OptionalGetValue(optional)..., captured...)
            optional = IteratorGetNextAsOptional(it)    (after f)
    ReduceDataset = IdentityN(final state...)   (consumers are unchanged)

The loop calls `f` on the same arguments in the same order, so results are
identical (checked by the differential tests). Only `ReduceDataset` nodes
at the top level of the graph are rewritten; one inside a library function
(a reduce nested in another reduce or in a `tf.function`) is left alone.
This module neither loads nor runs graphs (see `tensorflow_runner`).
"""

import hashlib
from typing import Dict, List

import tensorflow as tf
from tensorflow.core.framework import attr_value_pb2
from tensorflow.core.framework import function_pb2
from tensorflow.core.framework import tensor_shape_pb2
from tensorflow.core.framework import types_pb2

from tffx.computations import building_blocks
from tffx.proto import computation_pb2

_REDUCE_OP = 'ReduceDataset'


def rewrite_block(
    block: building_blocks.TensorFlow) -> building_blocks.TensorFlow:
  """Returns `block` with its top-level dataset reductions made loops.

  The block itself is returned when its graph has no `ReduceDataset` node,
  so blocks without datasets pay only for parsing the graph.
  """
  graph_def = tf.compat.v1.GraphDef.FromString(block.proto.graph_def)
  if not any(node.op == _REDUCE_OP for node in graph_def.node):
    return block
  proto = computation_pb2.TensorFlow()
  proto.CopyFrom(block.proto)
  proto.graph_def = rewrite_graph_def(graph_def).SerializeToString(
      deterministic=True)
  return building_blocks.TensorFlow(proto, block.type_signature)


def rewrite_graph_def(
    graph_def: tf.compat.v1.GraphDef) -> tf.compat.v1.GraphDef:
  """Returns a copy of `graph_def` whose top-level reductions are loops."""
  functions = {f.signature.name: f for f in graph_def.library.function}
  taken = {node.name for node in graph_def.node}
  result = tf.compat.v1.GraphDef()
  result.CopyFrom(graph_def)
  del result.node[:]
  for node in graph_def.node:
    if node.op == _REDUCE_OP and node.attr['f'].func.name in functions:
      _add_loop(node, functions[node.attr['f'].func.name], taken, result)
    else:
      result.node.add().CopyFrom(node)
  return result


def _types(dtypes: List[int]) -> attr_value_pb2.AttrValue:
  return attr_value_pb2.AttrValue(
      list=attr_value_pb2.AttrValue.ListValue(type=dtypes))


def _unknown_shapes(count: int) -> attr_value_pb2.AttrValue:
  unknown = tensor_shape_pb2.TensorShapeProto(unknown_rank=True)
  return attr_value_pb2.AttrValue(
      list=attr_value_pb2.AttrValue.ListValue(shape=[unknown] * count))


def _unique(name: str, taken: set) -> str:
  candidate, suffix = name, 1
  while candidate in taken:
    candidate = f'{name}_{suffix}'
    suffix += 1
  taken.add(candidate)
  return candidate


def _set_element_spec(node, element_types: List[int]) -> None:
  node.attr['output_types'].CopyFrom(_types(element_types))
  node.attr['output_shapes'].CopyFrom(_unknown_shapes(len(element_types)))


def _add_loop(reduce_node, reduce_fn: function_pb2.FunctionDef, taken: set,
              result: tf.compat.v1.GraphDef) -> None:
  """Appends the loop equivalent to `reduce_node` (see the module docstring)."""
  name = reduce_node.name
  state_types = list(reduce_node.attr['Tstate'].list.type)
  captured_types = list(reduce_node.attr['Targuments'].list.type)
  data_inputs = [i for i in reduce_node.input if not i.startswith('^')]
  control_inputs = [i for i in reduce_node.input if i.startswith('^')]
  dataset = data_inputs[0]
  states = data_inputs[1:1 + len(state_types)]
  captured = data_inputs[1 + len(state_types):]
  fn_types = [arg.type for arg in reduce_fn.signature.input_arg]
  element_types = fn_types[len(state_types):len(fn_types) -
                           len(captured_types)]
  loop_types = ([types_pb2.DT_RESOURCE, types_pb2.DT_VARIANT] + state_types +
                captured_types)
  digest = hashlib.sha256(
      reduce_node.SerializeToString(deterministic=True)).hexdigest()[:16]
  cond, body = _loop_functions(reduce_fn.signature.name, digest, loop_types,
                               element_types, len(state_types), fn_types)
  result.library.function.add().CopyFrom(cond)
  result.library.function.add().CopyFrom(body)

  iterator = result.node.add(name=_unique(f'{name}/iterator', taken),
                             op='AnonymousIteratorV3')
  _set_element_spec(iterator, element_types)
  make = result.node.add(name=_unique(f'{name}/make_iterator', taken),
                         op='MakeIterator')
  make.input.extend([dataset, iterator.name] + control_inputs)
  first = result.node.add(name=_unique(f'{name}/first', taken),
                          op='IteratorGetNextAsOptional')
  first.input.extend([iterator.name, '^' + make.name])
  _set_element_spec(first, element_types)
  loop = result.node.add(name=_unique(f'{name}/loop', taken), op='While')
  loop.input.extend([iterator.name, first.name] + states + captured)
  loop.attr['T'].CopyFrom(_types(loop_types))
  loop.attr['cond'].func.name = cond.signature.name
  loop.attr['body'].func.name = body.signature.name
  shapes = _unknown_shapes(len(loop_types))
  for i, shape in enumerate(reduce_node.attr['output_shapes'].list.shape):
    shapes.list.shape[2 + i].CopyFrom(shape)
  loop.attr['output_shapes'].CopyFrom(shapes)
  loop.attr['parallel_iterations'].i = 1
  # Keeps the reduce node's name, so its consumers need no rewiring.
  final = result.node.add(name=name, op='IdentityN')
  final.input.extend(f'{loop.name}:{2 + i}' for i in range(len(state_types)))
  final.attr['T'].CopyFrom(_types(state_types))


def _loop_functions(fn_name: str, digest: str, loop_types: List[int],
                    element_types: List[int], num_states: int,
                    fn_types: List[int]):
  """The While loop's cond and body; loop variables as in `_add_loop`."""
  cond = function_pb2.FunctionDef()
  body = function_pb2.FunctionDef()
  cond.signature.name = f'{fn_name}_loop_cond_{digest}'
  body.signature.name = f'{fn_name}_loop_body_{digest}'
  body.signature.is_stateful = True  # It advances the iterator.
  for fn in (cond, body):
    for i, dtype in enumerate(loop_types):
      fn.signature.input_arg.add(name=f'arg{i}', type=dtype)
  num_captured = len(loop_types) - 2 - num_states

  cond.signature.output_arg.add(name='has_value', type=types_pb2.DT_BOOL)
  cond.node_def.add(name='has', op='OptionalHasValue', input=['arg1'])
  cond.ret['has_value'] = 'has:has_value:0'

  value = body.node_def.add(name='value', op='OptionalGetValue',
                            input=['arg1'])
  _set_element_spec(value, element_types)
  call = body.node_def.add(name='call', op='StatefulPartitionedCall')
  call.input.extend([f'arg{2 + i}' for i in range(num_states)] +
                    [f'value:components:{i}' for i in range(len(element_types))]
                    + [f'arg{2 + num_states + i}' for i in range(num_captured)])
  call.attr['Tin'].CopyFrom(_types(fn_types))
  call.attr['Tout'].CopyFrom(_types(loop_types[2:2 + num_states]))
  call.attr['f'].func.name = fn_name
  following = body.node_def.add(name='next', op='IteratorGetNextAsOptional',
                                input=['arg0', '^call'])
  _set_element_spec(following, element_types)

  returns: Dict[str, str] = {'out0': 'arg0', 'out1': 'next:optional:0'}
  for i in range(num_states):
    returns[f'out{2 + i}'] = f'call:output:{i}'
  for i in range(num_captured):
    returns[f'out{2 + num_states + i}'] = f'arg{2 + num_states + i}'
  for i, dtype in enumerate(loop_types):
    body.signature.output_arg.add(name=f'out{i}', type=dtype)
    body.ret[f'out{i}'] = returns[f'out{i}']
  return cond, body
