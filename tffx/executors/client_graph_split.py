"""Splits a client's TensorFlow graph around its dataset reduction.

The dominant client computation of federated learning reads tensors (the
broadcast model) and reduces over one dataset:

    params ---> pre ---> initial state, captured ---.
      |                                              v
      |         dataset.reduce(state, step)  <-- the client's dataset
      |                                              |
      `-------> post <------ final state <-----------'
                  |
                results

`split(block)` returns the three pieces as graphs that can be inlined,
with `import_graph_def`, into a function over many clients at once (see
`vectorized_computation`): `pre` (tensor parameters -> the reduction's
initial state and captured tensors), `step` (state, one dataset element,
captured -> state: the reduce function's body) and `post` (tensor
parameters, final state -> results). A graph without a dataset parameter is
all `pre`.

It returns a `NotVectorizable` reason instead when the graph is outside
that shape: more than one dataset or reduction, dataset results, dataset
elements whose shapes vary beyond the leading (batch) dimension, the
dataset used other than by the reduction, library function calls other
than the reduce function, or stateful ops (random ops, variables,
iterators...), whose per-client results would change when run together.
This module only reads and rewrites GraphDefs; it runs nothing.
"""

from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

import tensorflow as tf
from tensorflow.core.framework import attr_value_pb2
from tensorflow.python.framework import function_def_to_graph
from tensorflow.python.framework import op_def_registry

from tffx.computations import building_blocks
from tffx.types import computation_types as ct
from tffx.types import type_conversions

_REDUCE_OP = 'ReduceDataset'
# Stateless ops whose OpDef is marked stateful for other reasons.
_STATEFUL_ALLOWED = frozenset({'Placeholder'})


class NotVectorizable(NamedTuple):
  """Why a computation runs per client: the op or feature that prevents it."""
  reason: str


class GraphPart(NamedTuple):
  """A graph to inline: feed `inputs` (tensor names), read `outputs`."""
  graph_def: tf.compat.v1.GraphDef
  inputs: Tuple[Optional[str], ...]  # None: the graph does not read it.
  outputs: Tuple[str, ...]

  def __call__(self, *tensors) -> List[tf.Tensor]:
    """Imports the graph into the current (function) graph on `tensors`."""
    input_map = {
        name: t for name, t in zip(self.inputs, tensors) if name is not None
    }
    return tf.graph_util.import_graph_def(
        self.graph_def, input_map=input_map,
        return_elements=list(self.outputs), name='client')


class ClientGraph(NamedTuple):
  """A client computation split around its reduction (module docstring).

  `tensor_leaves` are the parameter's tensor leaves in flat order, and
  `dataset_leaf` the flat index of the dataset parameter (None without
  one); `pre`'s inputs are the tensor leaves, `post`'s the tensor leaves
  then the final state. `element_specs` are the dataset element's
  components as the reduce function reads them.
  """
  parameter_leaves: Tuple[ct.Type, ...]
  dataset_leaf: Optional[int]
  element_specs: Tuple[tf.TensorSpec, ...]
  num_states: int
  pre: GraphPart
  step: Optional[GraphPart]
  post: Optional[GraphPart]


def _leaves(type_spec: Optional[ct.Type]) -> Optional[List[ct.Type]]:
  """Tensor and sequence leaves in flat (proto) order; None for others."""
  if type_spec is None:
    return []
  if isinstance(type_spec, (ct.TensorType, ct.SequenceType)):
    return [type_spec]
  if isinstance(type_spec, ct.StructType):
    leaves = []
    for element in type_spec:
      inner = _leaves(element)
      if inner is None:
        return None
      leaves.extend(inner)
    return leaves
  return None


def _node(tensor_name: str) -> str:
  return tensor_name.lstrip('^').split(':')[0]


def _stateful_op(nodes) -> Optional[str]:
  """The first node (as 'Op (name)') that is stateful or calls a function."""
  for node in nodes:
    if node.op in _STATEFUL_ALLOWED or node.op == _REDUCE_OP:
      continue
    op_def = op_def_registry.get(node.op)
    if op_def is None:
      return f'a call of library function {node.op} ({node.name})'
    if op_def.is_stateful:
      return f'the stateful op {node.op} ({node.name})'
    for value in node.attr.values():
      if value.HasField('func') or value.list.func:
        return f'the op {node.op} ({node.name}), which calls a function'
  return None


def _element_specs(sequence: ct.SequenceType
                  ) -> Union[Tuple[tf.TensorSpec, ...], NotVectorizable]:
  specs = tuple(tf.nest.flatten(type_conversions.to_tf_spec(sequence.element)))
  for spec in specs:
    if not isinstance(spec, tf.TensorSpec) or spec.shape.rank is None or (
        None in spec.shape.as_list()[1:]):
      return NotVectorizable(
          f'the dataset element {spec} has a shape that varies beyond its '
          f'leading dimension')
  return specs


def _subgraph(graph_def, node_names: Sequence[str]) -> tf.compat.v1.GraphDef:
  """The nodes `node_names` need (data and control inputs), in graph order.

  What TensorFlow's deprecated `extract_sub_graph` does, without the
  deprecation warning it logs (which reaches the CLIs' stderr).
  """
  inputs = {node.name: node.input for node in graph_def.node}
  needed, pending = set(), list(node_names)
  while pending:
    name = pending.pop()
    if name not in needed:
      needed.add(name)
      pending.extend(_node(i) for i in inputs[name])
  sub = tf.compat.v1.GraphDef()
  sub.versions.CopyFrom(graph_def.versions)
  sub.library.CopyFrom(graph_def.library)
  sub.node.extend(n for n in graph_def.node if n.name in needed)
  return sub


def _inputs(parameter_names: Sequence[str], part) -> Tuple[Optional[str], ...]:
  present = {n.name for n in part.node}
  return tuple(n if _node(n) in present else None for n in parameter_names)


def split(block: building_blocks.TensorFlow
         ) -> Union[ClientGraph, NotVectorizable]:
  """The client graph of `block` split around its reduction, or why not."""
  fn_type = block.type_signature
  parameter_leaves = _leaves(fn_type.parameter)
  result_leaves = _leaves(fn_type.result)
  if parameter_leaves is None:
    return NotVectorizable(f'its parameter {fn_type.parameter} holds '
                           f'non-TensorFlow values')
  if result_leaves is None or any(
      not isinstance(t, ct.TensorType) for t in result_leaves):
    return NotVectorizable(f'its result {fn_type.result} is not made of '
                           f'tensors')
  proto = block.proto
  if len(proto.parameter_names) != len(parameter_leaves) or len(
      proto.result_names) != len(result_leaves):
    return NotVectorizable('its graph binds parameters or results in a way '
                           'it does not know')
  graph_def = tf.compat.v1.GraphDef.FromString(proto.graph_def)
  datasets = [i for i, t in enumerate(parameter_leaves)
              if isinstance(t, ct.SequenceType)]
  reductions = [n for n in graph_def.node if n.op == _REDUCE_OP]
  tensor_names = [n for n, t in zip(proto.parameter_names, parameter_leaves)
                  if isinstance(t, ct.TensorType)]
  tensor_leaves = tuple(parameter_leaves)
  if not datasets:
    reason = _stateful_op(graph_def.node) or (
        'a dataset reduction' if reductions else None)
    if reason is not None:
      return NotVectorizable(reason)
    if graph_def.library.function:
      return NotVectorizable('library functions in its graph')
    pre = GraphPart(graph_def, _inputs(tensor_names, graph_def),
                    tuple(proto.result_names))
    return ClientGraph(tensor_leaves, None, (), 0, pre, None, None)
  if len(datasets) > 1 or len(reductions) != 1:
    return NotVectorizable(
        f'{len(datasets)} dataset parameters and {len(reductions)} dataset '
        f'reductions (it handles one of each)')
  (dataset_leaf,) = datasets
  element_specs = _element_specs(parameter_leaves[dataset_leaf])
  if isinstance(element_specs, NotVectorizable):
    return element_specs
  reduce_node = reductions[0]
  return _split_reduction(graph_def, proto, reduce_node, tensor_names,
                          tensor_leaves, dataset_leaf, element_specs)


def _split_reduction(graph_def, proto, reduce_node, tensor_names,
                     parameter_leaves, dataset_leaf,
                     element_specs) -> Union[ClientGraph, NotVectorizable]:
  """`split` for a graph with one dataset parameter and one reduction."""
  dataset_node = _node(proto.parameter_names[dataset_leaf])
  data_inputs = [i for i in reduce_node.input if not i.startswith('^')]
  if _node(data_inputs[0]) != dataset_node:
    return NotVectorizable('a reduction over a dataset built in the graph '
                           '(it handles reductions of the dataset parameter)')
  consumers = [n.name for n in graph_def.node
               if any(_node(i) == dataset_node for i in n.input)]
  if consumers != [reduce_node.name]:
    return NotVectorizable(f'the dataset is used by {consumers}, not only '
                           f'reduced')
  functions = {f.signature.name: f for f in graph_def.library.function}
  reduce_fn = functions.get(reduce_node.attr['f'].func.name)
  if reduce_fn is None or len(functions) != 1:
    return NotVectorizable('library functions besides the reduce function')
  reason = _stateful_op(list(graph_def.node) + list(reduce_fn.node_def))
  if reason is not None:
    return NotVectorizable(reason)
  state_types = list(reduce_node.attr['Tstate'].list.type)
  num_states = len(state_types)
  num_inputs = len(reduce_fn.signature.input_arg)
  if num_inputs - num_states - (len(data_inputs) - 1 - num_states) != len(
      element_specs):
    return NotVectorizable('a reduce function that does not read the '
                           'dataset element as the type says')
  # pre: tensor parameters -> initial state and captured tensors.
  carried = data_inputs[1:]
  pre_graph = _subgraph(graph_def, [_node(i) for i in carried])
  if any(n.name == dataset_node for n in pre_graph.node):
    return NotVectorizable('an initial state that depends on the dataset')
  # Its nodes call no function (the reduction is not among them).
  del pre_graph.library.function[:]
  pre = GraphPart(pre_graph, _inputs(tensor_names, pre_graph),
                  tuple(i if ':' in i else i + ':0' for i in carried))
  # post: the reduction replaced by placeholders of the final state.
  post_graph = tf.compat.v1.GraphDef()
  post_graph.CopyFrom(graph_def)
  del post_graph.node[:]
  state_names = []
  for node in graph_def.node:
    if node is not reduce_node:
      post_graph.node.add().CopyFrom(node)
      continue
    for i, dtype in enumerate(state_types):
      placeholder = post_graph.node.add(name=f'{node.name}/vectorized_{i}',
                                        op='Placeholder')
      placeholder.attr['dtype'].type = dtype
      state_names.append(placeholder.name + ':0')
    final = post_graph.node.add(name=node.name, op='IdentityN')
    final.input.extend(_node(n) for n in state_names)
    final.attr['T'].CopyFrom(attr_value_pb2.AttrValue(
        list=attr_value_pb2.AttrValue.ListValue(type=state_types)))
  post_graph = _subgraph(post_graph, [_node(n) for n in proto.result_names])
  del post_graph.library.function[:]
  post = GraphPart(post_graph,
                   _inputs(tensor_names + state_names, post_graph),
                   tuple(proto.result_names))
  # step: the reduce function's body as a graph.
  step_graph, names = function_def_to_graph.function_def_to_graph_def(
      reduce_fn)
  step_graph.versions.CopyFrom(graph_def.versions)
  step = GraphPart(
      step_graph,
      tuple(arg.name + ':0' for arg in reduce_fn.signature.input_arg),
      tuple(names[reduce_fn.ret[arg.name]]
            for arg in reduce_fn.signature.output_arg))
  return ClientGraph(parameter_leaves, dataset_leaf, element_specs,
                     num_states, pre, step, post)
