"""`tf_computation`: Python/TensorFlow code traced into a serialized graph.

    @tffx.tf_computation(np.int32)
    def add_one(x):
      return x + 1          # add_one.type_signature: (int32 -> int32)

Tracing builds a fresh `tf.Graph` in graph mode:

    parameter type --stamp--> placeholders --> fn(...) --> result leaves
        <x=int32,y=int32*>     x: int32           |        tensors, variant
                               y: variant ->      |        tensors of datasets
                                  from_variant    v
                                             graph_def + tensor names
                                             -> building_blocks.TensorFlow

`fn` receives tensors for tensor leaves, `tf.data.Dataset`s for sequence
leaves and, for structs, the type's Python container (a `structure.Struct`
for a plain `StructType`); with several parameters it receives the struct's
elements as arguments. It may return tensors, datasets, Python scalars or
numpy values, and nests of these in Python containers, which the result type
records (`StructWithPythonType`).

The stored graph is self-contained and safe to run from many threads at once:

- Ops run in program order where they touch the same resource, as inside a
  `tf.function` (TensorFlow's automatic control dependencies), and the
  results depend on every stateful op, variable initializers included. So
  fetching the results runs everything; `initialize_op` only names the group
  of initializers for readers of the proto.
- Every variable handle uses TensorFlow's anonymous shared name: each run
  gets fresh variables, freed with the run's last handle, so concurrent runs
  never share state.
- No node carries a device, so an executor can place the graph anywhere.
- The same program serializes to the same bytes: node names come from a
  fresh graph, function names are replaced by names derived from their
  contents (also keeping imported graphs from clashing), and serialization
  is deterministic.

Inside tracing, calling another TensorFlow computation imports its graph
(`TensorFlowTracingContext`). This module does not run graphs (see
`tffx.executors.tensorflow_runner`) and does not trace federated code.
"""

import hashlib
import re
from typing import Any, Callable, List, Optional

import numpy as np
import tensorflow as tf
# Automatic control dependencies are what `tf.function` applies to its body;
# TensorFlow exposes them publicly only through `tf.function`, whose variable
# rules (created once, lifted out of the graph) do not fit a graph that must
# be self-contained.
from tensorflow.python.eager import context as tf_context
from tensorflow.python.framework import auto_control_deps

from tffx.computations import building_blocks
from tffx.computations import computation_wrapper
from tffx.computations import context_stack
from tffx.computations import errors
from tffx.computations import tensorflow_values
from tffx.proto import computation_pb2
from tffx.types import computation_types as ct
from tffx.types import python_containers
from tffx.types import structure
from tffx.types import type_conversions

# Ops whose `shared_name` names a resource shared by every run of the graph.
_VARIABLE_HANDLE_OPS = frozenset({'VarHandleOp'})
# A trailing `_123` (a TensorFlow uid) or `_<16 hex digits>` (our own digest).
_NAME_SUFFIX = re.compile(r'_(\d+|[0-9a-f]{16})$')
_SCALAR_TYPES = (bool, int, float, complex, str, bytes, np.generic, np.ndarray)
_describe = tensorflow_values.describe


# ---------------------------------------------------------------------------
# Parameters.


def check_parameter_type(parameter_type: ct.Type, name: str) -> None:
  """Raises unless `parameter_type` holds only tensors, sequences and structs.

  Raises:
    TensorFlowParameterTypeError: naming the offending part of the type.
  """
  pending = [parameter_type]
  while pending:
    t = pending.pop()
    if isinstance(t, ct.StructType):
      pending.extend(t.children())
    elif isinstance(t, ct.SequenceType):
      pending.append(t.element)
    elif not isinstance(t, ct.TensorType):
      raise errors.TensorFlowParameterTypeError(
          f'Expected the parameter of TensorFlow computation {name} to hold '
          f'only tensors, sequences and structs of these, found {t} in '
          f'{parameter_type}. Tip: federated values and functions are '
          f'handled by tffx.federated_computation, which can pass their '
          f'members to a tf_computation (e.g. with tffx.federated_map).')


def _stamp_parameter(type_spec: ct.Type, placeholders: List[tf.Tensor]):
  """Creates placeholders for the leaves of `type_spec`; returns fn's value."""
  name = f'arg_{len(placeholders)}'
  if isinstance(type_spec, ct.TensorType):
    placeholder = tf.compat.v1.placeholder(
        type_spec.tf_dtype, type_spec.shape, name=name)
    placeholders.append(placeholder)
    return placeholder
  if isinstance(type_spec, ct.SequenceType):
    placeholder = tf.compat.v1.placeholder(tf.variant, [], name=name)
    placeholders.append(placeholder)
    return tf.data.experimental.from_variant(
        placeholder, type_conversions.to_tf_spec(type_spec.element))
  pairs = [(n, _stamp_parameter(t, placeholders)) for n, t in type_spec.items()]
  return tensorflow_values.build_struct(type_spec, pairs)


# ---------------------------------------------------------------------------
# Results.


def _result_leaves(value: Any, leaves: List[tf.Tensor], where: str) -> ct.Type:
  """Appends the graph tensors of `value`'s leaves; returns its type."""
  if isinstance(value, tf.data.Dataset):
    try:
      element_type = ct.to_type(value.element_spec)
    except TypeError as e:
      raise errors.TensorFlowResultError(
          f'Expected the dataset at {where} to have tensors or structs of '
          f'tensors as elements, found element spec {value.element_spec!r}.'
      ) from e
    leaves.append(tf.data.experimental.to_variant(value))
    return ct.SequenceType(element_type)
  if isinstance(value, structure.Struct):
    return ct.StructType([
        (n, _result_leaves(v, leaves, f'{where}[{n or i}]'))
        for i, (n, v) in enumerate(value.items())
    ])
  if python_containers.is_container(value):
    pairs = [(n, _result_leaves(v, leaves, f'{where}[{i if n is None else n}]'))
             for i, (n, v) in enumerate(python_containers.elements(value))]
    try:
      if any(n is not None and not isinstance(n, str) for n, _ in pairs):
        raise TypeError(f'element names must be strings, found '
                        f'{[n for n, _ in pairs]}')
      return ct.StructWithPythonType(pairs, type(value))
    except TypeError as e:
      raise errors.TensorFlowResultError(
          f'The {type(value).__name__} at {where} cannot be a struct: {e}'
      ) from e
  # Objects with `__tf_tensor__` (TensorFlow's conversion protocol) include
  # Keras 3 variables, e.g. a Keras model's `trainable_variables`.
  if isinstance(value, (tf.Tensor, tf.Variable)) or isinstance(
      value, _SCALAR_TYPES) or hasattr(type(value), '__tf_tensor__'):
    try:
      tensor = tf.convert_to_tensor(value)
      result_type = ct.TensorType(tensor.dtype, tensor.shape)
    except (TypeError, ValueError) as e:
      raise errors.TensorFlowResultError(
          f'Expected a tensor, a dataset or a struct at {where}, found '
          f'{_describe(value)}, which has no tffx tensor type: {e}') from e
    leaves.append(tensor)
    return result_type
  raise errors.TensorFlowResultError(
      f'Expected a tensor, a dataset, a Python or numpy scalar, or a struct '
      f'of these at {where}, found {_describe(value)}. Tip: return '
      f'TensorFlow values, or a list/tuple/dict/namedtuple of them.')


def _pack_graph_result(leaves: list, type_spec: ct.Type) -> Any:
  """Inverse of `_result_leaves`: graph tensors -> tensors/datasets/structs."""
  position = iter(leaves)

  def pack(t):
    if isinstance(t, ct.TensorType):
      return next(position)
    if isinstance(t, ct.SequenceType):
      return tf.data.experimental.from_variant(
          next(position), type_conversions.to_tf_spec(t.element))
    return tensorflow_values.build_struct(t, [(n, pack(e))
                                              for n, e in t.items()])

  return pack(type_spec)


# ---------------------------------------------------------------------------
# Calling a TensorFlow computation while tracing.


def _graph_leaves(value: Any, type_spec: ct.Type, leaves: list, where: str):
  """Appends the graph tensors that feed `type_spec`'s leaves from `value`."""
  if isinstance(type_spec, ct.TensorType):
    if isinstance(value, (tf.Tensor, tf.Variable)):
      if value.dtype != type_spec.tf_dtype:
        raise TypeError(f'expected {type_spec} at {where}, found a tensor of '
                        f'dtype {value.dtype.name}')
      tensor = tf.convert_to_tensor(value)
    else:
      array = tensorflow_values.leaf_array(value, type_spec, where)
      tensor = tf.constant(array, type_spec.tf_dtype)
    if not tf.TensorShape(type_spec.shape).is_compatible_with(tensor.shape):
      raise TypeError(f'expected {type_spec} at {where}, found a tensor of '
                      f'shape {tensor.shape}')
    leaves.append(tensor)
  elif isinstance(type_spec, ct.SequenceType):
    if not isinstance(value, tf.data.Dataset):
      raise TypeError(f'expected a tf.data.Dataset of {type_spec.element} at '
                      f'{where}, found {_describe(value)}')
    leaves.append(tf.data.experimental.to_variant(
        tensorflow_values.conform_dataset(value, type_spec.element)))
  elif isinstance(type_spec, ct.StructType):
    elements = tensorflow_values.struct_elements(value, type_spec)
    for i, ((n, t), v) in enumerate(zip(type_spec.items(), elements)):
      _graph_leaves(v, t, leaves, f'{where}[{n if n is not None else i}]')
  else:
    raise TypeError(f'{type_spec} at {where} has no TensorFlow value')


def _import_scope(name: str) -> str:
  return 'call_' + re.sub(r'[^A-Za-z0-9_.\-]', '_', name or 'tensorflow')


def import_computation(block: building_blocks.TensorFlow, arg: Any) -> Any:
  """Imports `block`'s graph into the current graph and returns its result.

  `arg` is the argument (tensors, datasets, Python values and structs of
  these; None for a no-parameter computation). The result is built as the
  function given to `tf_computation` receives its parameter: tensors,
  datasets, and the result type's Python containers.

  Raises:
    TensorFlowCallError: if `arg` does not fit the parameter type.
  """
  proto = block.proto
  fn_type = block.type_signature
  leaves = []
  if fn_type.parameter is not None:
    try:
      _graph_leaves(arg, fn_type.parameter, leaves, 'the argument')
    except (TypeError, ValueError) as e:
      raise errors.TensorFlowCallError(
          f'Cannot call TensorFlow computation {proto.name} of type {fn_type} '
          f'with {_describe(arg)}: {e}.') from e
  elif arg is not None:
    raise errors.TensorFlowCallError(
        f'TensorFlow computation {proto.name} of type {fn_type} takes no '
        f'argument; given {_describe(arg)}.')
  graph_def = tf.compat.v1.GraphDef.FromString(proto.graph_def)
  results = tf.graph_util.import_graph_def(
      graph_def,
      input_map=dict(zip(proto.parameter_names, leaves)),
      return_elements=list(proto.result_names),
      name=_import_scope(proto.name))
  return _pack_graph_result(results, fn_type.result)


class TensorFlowTracingContext(context_stack.Context):
  """The context inside `tf_computation` tracing: calls import graphs."""

  def invoke(self, comp, arg: Any) -> Any:
    to_block = getattr(comp, 'to_building_block', None)
    block = to_block() if to_block is not None else comp
    if not isinstance(block, building_blocks.TensorFlow):
      raise errors.TensorFlowCallError(
          f'Only TensorFlow computations can be called inside a '
          f'tf_computation; found {comp!r}. Tip: call federated '
          f'computations from other federated computations.')
    return import_computation(block, arg)


# ---------------------------------------------------------------------------
# Graph clean-up: anonymous variables, no devices, canonical function names.


def _all_node_lists(graph_def: tf.compat.v1.GraphDef):
  yield graph_def.node
  for function in graph_def.library.function:
    yield function.node_def


def _make_variables_anonymous(graph_def: tf.compat.v1.GraphDef) -> None:
  anonymous = tf_context.anonymous_name().encode()
  for nodes in _all_node_lists(graph_def):
    for node in nodes:
      if node.op in _VARIABLE_HANDLE_OPS:
        node.attr['shared_name'].s = anonymous


def _drop_unused_placeholders(graph_def: tf.compat.v1.GraphDef,
                              parameter_names: List[str]) -> None:
  """Drops the placeholders of imported graphs, which `input_map` replaced."""
  keep = {n.split(':')[0] for n in parameter_names}
  used = {i.lstrip('^').split(':')[0] for n in graph_def.node for i in n.input}
  nodes = [n for n in graph_def.node
           if n.op != 'Placeholder' or n.name in keep or n.name in used]
  if len(nodes) != len(graph_def.node):
    del graph_def.node[:]
    graph_def.node.extend(nodes)


def _clear_devices(graph_def: tf.compat.v1.GraphDef) -> None:
  for nodes in _all_node_lists(graph_def):
    for node in nodes:
      node.device = ''


def _function_refs(attr_value) -> list:
  """The `NameAttrList`s (function references) inside an `AttrValue`."""
  refs = []
  if attr_value.HasField('func'):
    refs.append(attr_value.func)
  if attr_value.HasField('list'):
    refs.extend(attr_value.list.func)
  for ref in list(refs):
    for nested in ref.attr.values():
      refs.extend(_function_refs(nested))
  return refs


def _callees(nodes, functions) -> list:
  names = []
  for node in nodes:
    if node.op in functions:
      names.append(node.op)
    for attr_value in node.attr.values():
      names.extend(r.name for r in _function_refs(attr_value))
  return [n for n in names if n in functions]


def _rename_functions(nodes, new_names: dict) -> None:
  for node in nodes:
    if node.op in new_names:
      node.op = new_names[node.op]
    for attr_value in node.attr.values():
      for ref in _function_refs(attr_value):
        if ref.name in new_names:
          ref.name = new_names[ref.name]


def _canonicalize_function_names(graph_def: tf.compat.v1.GraphDef) -> None:
  """Names every library function after its contents (callees first).

  TensorFlow names functions with a process-wide counter
  (`__inference_f_123`), so the same program would serialize differently
  from one trace to the next, and two graphs could bring different
  functions of the same name into the graph that imports both.
  """
  functions = {f.signature.name: f for f in graph_def.library.function}
  new_names = {}
  renamed = {}

  def canonicalize(name, path):
    if name in new_names:
      return
    if name in path:
      raise ValueError(f'Recursive TensorFlow function {name}.')
    function = functions[name]
    for callee in _callees(function.node_def, functions):
      canonicalize(callee, path + (name,))
    copy = type(function)()
    copy.CopyFrom(function)
    _rename_functions(copy.node_def, new_names)
    copy.signature.name = ''
    digest = hashlib.sha256(
        copy.SerializeToString(deterministic=True)).hexdigest()[:16]
    new_name = f'{_NAME_SUFFIX.sub("", name)}_{digest}'
    copy.signature.name = new_name
    new_names[name] = new_name
    renamed[new_name] = copy

  for name in sorted(functions):
    canonicalize(name, ())
  _rename_functions(graph_def.node, new_names)
  for gradient in graph_def.library.gradient:
    gradient.function_name = new_names.get(gradient.function_name,
                                           gradient.function_name)
    gradient.gradient_func = new_names.get(gradient.gradient_func,
                                           gradient.gradient_func)
  del graph_def.library.function[:]
  graph_def.library.function.extend(renamed[n] for n in sorted(renamed))


# ---------------------------------------------------------------------------
# Tracing.


def _select(arg: Any, index: int) -> Any:
  return arg[index]


def trace(fn: Callable, parameter_type: Optional[ct.Type],
          unpack: bool) -> building_blocks.TensorFlow:
  """Traces `fn` into a `building_blocks.TensorFlow` (the decorator's tracer).

  Args:
    fn: The Python function.
    parameter_type: Its parameter type, or None for no parameter.
    unpack: Whether `fn` takes the elements of a struct parameter as
      separate arguments.

  Raises:
    TensorFlowParameterTypeError: if the parameter type holds something other
      than tensors, sequences and structs.
    TensorFlowNoneResultError: if `fn` returns None.
    TensorFlowResultError: if `fn` returns something that is not a tensor, a
      dataset, a Python or numpy scalar, or a struct of these.
  """
  name = getattr(fn, '__name__', 'tf_computation')
  if parameter_type is not None:
    check_parameter_type(parameter_type, name)
  graph = tf.Graph()
  placeholders = []
  with graph.as_default():
    arg = None
    if parameter_type is not None:
      if unpack:
        arg = structure.Struct([(n, _stamp_parameter(t, placeholders))
                                for n, t in parameter_type.items()])
      else:
        arg = _stamp_parameter(parameter_type, placeholders)
    leaves = []
    with context_stack.with_context(TensorFlowTracingContext()):
      with auto_control_deps.AutomaticControlDependencies() as deps:
        if parameter_type is None:
          result = fn()
        else:
          result = computation_wrapper.call_with_argument(fn, arg, unpack,
                                                          _select)
        if result is not None:
          result_type = _result_leaves(result, leaves, 'the result')
          leaves = [deps.mark_as_return(t) for t in leaves]
    if result is None:
      raise errors.TensorFlowNoneResultError(
          f'Expected TensorFlow computation {name} to return a value, found '
          f'None. Tip: return the tensors the computation computes; a '
          f'tf_computation has no other effect.')
    initializers = [
        v.initializer for v in tf.compat.v1.global_variables() +
        tf.compat.v1.local_variables()
    ]
    init_op = (tf.group(*initializers, name='initialize')
               if initializers else None)
  graph_def = graph.as_graph_def()
  parameter_names = [p.name for p in placeholders]
  _drop_unused_placeholders(graph_def, parameter_names)
  _make_variables_anonymous(graph_def)
  _clear_devices(graph_def)
  _canonicalize_function_names(graph_def)
  proto = computation_pb2.TensorFlow(
      graph_def=graph_def.SerializeToString(deterministic=True),
      parameter_names=parameter_names,
      result_names=[t.name for t in leaves],
      initialize_op=init_op.name if init_op is not None else '',
      name=name)
  return building_blocks.TensorFlow(
      proto, ct.FunctionType(parameter_type, result_type))


tf_computation = computation_wrapper.make_decorator(trace, 'tf_computation')
tf_computation.__doc__ = """Makes a TensorFlow computation of a function.

    @tf_computation(np.int32)              (int32 -> int32)
    @tf_computation(np.int32, np.int32)    (<x=int32,y=int32> -> int32)
    @tf_computation                        polymorphic: one concrete
                                           computation per argument type
    @tf_computation                        ( -> T) for a no-parameter fn

See the module docstring for what the function receives and may return.
"""
