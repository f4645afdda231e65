"""Runs the graphs of TensorFlow computations on executor values.

    runner = tensorflow_runner.load(block)   # block: building_blocks.TensorFlow
    result = runner(arg)                     # or runner(arg, device=...)

`load` imports a graph once per process and keeps the runner: blocks with
the same proto bytes and type share one runner, so every client and round
reuses the imported function. A runner is thread-safe.

Values are executor values (see `federated_value`): the argument is built
from numpy arrays, Python scalars, eager tensors, `structure.Struct`s or
Python containers, and `tf.data.Dataset`s; results are numpy arrays (0-d for
scalars; `bytes` objects for strings), `Struct`s named as the result type
(Python containers are rebuilt at the edge, not here) and `tf.data.Dataset`s.
The runner checks the argument's structure and converts leaves to the
parameter's dtypes; it does not check the types of values beyond that.

A call converts the argument, executes the imported function as one eager
op and converts the result. The public way to call a pruned
`ConcreteFunction` costs ~150 us per call, most of it argument binding, so
the op is executed the way every eager op is (`TFE_Py_Execute`, as in
`tensorflow.python.eager.execute.quick_execute`). A scalar `add_one` then
costs ~43 us per call (median; ~27 us of it TensorFlow running the function)
on a shared 2-core machine where one eager `tf.add` costs ~25 us.
`_PUBLIC_CALL` switches back to the public call.

Virtual (logical) devices must be configured before the first `load`,
which initializes TensorFlow's eager context.

This module does not trace functions (see `tensorflow_computation`) and
does not evaluate federated programs.
"""

import hashlib
import threading
from typing import Any, Callable, Dict, Optional

import numpy as np
import tensorflow as tf
from tensorflow.python import pywrap_tfe
from tensorflow.python.eager import context as tf_context
from tensorflow.python.eager import core as tf_core

from tffx.computations import building_blocks
from tffx.computations import errors
from tffx.computations import tensorflow_values
from tffx.executors import errors as executor_errors
from tffx.types import computation_types as ct
from tffx.types import structure
from tffx.types import type_conversions

# Set to True to call the pruned function through its public `__call__`
# (slower; for debugging a TensorFlow upgrade).
_PUBLIC_CALL = False
# How many distinct proto objects `load` remembers by identity before it
# falls back to hashing the proto bytes again.
_MAX_REMEMBERED_PROTOS = 4096

_lock = threading.Lock()
_runners_by_digest: Dict[tuple, 'Runner'] = {}
_runners_by_proto_id: Dict[tuple, tuple] = {}


def load(block: building_blocks.TensorFlow) -> 'Runner':
  """Returns the runner of `block`'s graph, importing the graph only once.

  Raises:
    TypeError: if `block` is not a `building_blocks.TensorFlow`.
    TensorFlowExecutionError: if TensorFlow cannot import the graph or find
      the proto's tensor names in it.
  """
  if not isinstance(block, building_blocks.TensorFlow):
    raise TypeError(f'Expected a building_blocks.TensorFlow, found '
                    f'{type(block).__name__}.')
  proto = block.proto
  key = (id(proto), block.type_signature)
  entry = _runners_by_proto_id.get(key)
  if entry is not None and entry[0] is proto:
    return entry[1]
  digest = hashlib.sha256(proto.SerializeToString(deterministic=True)).digest()
  with _lock:
    runner = _runners_by_digest.get((digest, block.type_signature))
    if runner is None:
      runner = Runner(block)
      _runners_by_digest[(digest, block.type_signature)] = runner
    if len(_runners_by_proto_id) >= _MAX_REMEMBERED_PROTOS:
      _runners_by_proto_id.clear()
    # Holding the proto keeps its id from being reused by another object.
    _runners_by_proto_id[key] = (proto, runner)
  return runner


class Runner:
  """Runs one imported graph. Build it with `load`."""

  def __init__(self, block: building_blocks.TensorFlow):
    proto = block.proto
    self._name = proto.name or 'tensorflow'
    self._type_signature = block.type_signature
    parameter_type = self._type_signature.parameter
    self._flatten = None if parameter_type is None else _make_flattener(
        parameter_type, 'the argument')
    self._pack = make_packer(self._type_signature.result)
    self._num_outputs = len(proto.result_names)
    self._function = None
    if self._num_outputs:
      try:
        self._function = _import(proto)
      except (ValueError, KeyError, tf.errors.OpError) as e:
        raise errors.TensorFlowExecutionError(
            f'Cannot import the graph of TensorFlow computation {self._name} '
            f'of type {self._type_signature}: {e}') from e
      self._op_name = self._function.function_def.signature.name
      ctx = tf_context.context()
      ctx.ensure_initialized()
      self._attrs = ('executor_type', '', 'config_proto',
                     ctx.function_call_options.config_proto_serialized)

  @property
  def name(self) -> str:
    return self._name

  @property
  def type_signature(self) -> ct.FunctionType:
    return self._type_signature

  def __call__(self, arg: Any = None, device: Optional[str] = None) -> Any:
    """Runs the graph on `arg` (None for no parameter), on `device` if given.

    Args:
      arg: The executor value of the parameter, or None.
      device: A device such as '/device:CPU:1' for the graph's ops (ops with
        no kernel there, like dataset ops on an accelerator, fall back to the
        CPU); None uses the current device scope.

    Returns:
      The executor value of the result.

    Raises:
      ArgumentTypeError: if `arg` does not fit the parameter type (see
        `tffx.executors.errors`).
      TensorFlowExecutionError: if TensorFlow fails while running the graph.
    """
    inputs = []
    if self._flatten is not None:
      try:
        self._flatten(arg, inputs)
      except (TypeError, ValueError) as e:
        raise executor_errors.ArgumentTypeError(
            f'Cannot run TensorFlow computation {self._name} of type '
            f'{self._type_signature}: {e}.') from e
    elif arg is not None:
      raise executor_errors.ArgumentTypeError(
          f'TensorFlow computation {self._name} of type '
          f'{self._type_signature} takes no argument; given '
          f'{type(arg).__name__}.')
    if self._function is None:
      return self._pack(iter(()))
    try:
      outputs = self._execute(inputs, device)
    except tf.errors.OpError as e:
      raise errors.TensorFlowExecutionError(
          f'TensorFlow computation {self._name} of type '
          f'{self._type_signature} failed while running: '
          f'{type(e).__name__}: {e.message}') from e
    return self._pack(iter(outputs))

  def _execute(self, inputs: list, device: Optional[str]) -> list:
    if _PUBLIC_CALL:
      with tf.device(device):
        return self._function(*inputs)
    # What `tensorflow.python.eager.execute.quick_execute` does, with the
    # device given directly rather than through a `tf.device` scope.
    # pylint: disable=protected-access
    ctx = tf_context.context()
    try:
      return pywrap_tfe.TFE_Py_Execute(
          ctx._handle, ctx.device_name if device is None else device,
          self._op_name, inputs, self._attrs, self._num_outputs)
    except tf_core._NotOkStatusException as e:
      raise tf_core._status_to_exception(e) from None
    # pylint: enable=protected-access

  def __repr__(self) -> str:
    return f'<Runner {self._name}: {self._type_signature}>'


def _import(proto) -> Any:
  """The graph pruned to a function from parameter to result tensors."""
  graph_def = tf.compat.v1.GraphDef.FromString(proto.graph_def)
  with tf.init_scope():
    wrapped = tf.compat.v1.wrap_function(
        lambda: tf.graph_util.import_graph_def(graph_def, name=''), [])
    graph = wrapped.graph
    # The pruned function keeps its inputs in feed order and its outputs in
    # fetch order, so it binds the leaves depth-first as the proto does.
    return wrapped.prune(
        [graph.get_tensor_by_name(n) for n in proto.parameter_names],
        [graph.get_tensor_by_name(n) for n in proto.result_names])


# ---------------------------------------------------------------------------
# Argument and result conversions, built once per type.


def _make_flattener(type_spec: ct.Type, where: str) -> Callable:
  """Returns `flatten(value, out)` appending the eager inputs for `value`."""
  if isinstance(type_spec, ct.TensorType):
    return _make_tensor_converter(type_spec, where)
  if isinstance(type_spec, ct.SequenceType):
    element_type = type_spec.element

    def flatten_sequence(value, out):
      if not isinstance(value, tf.data.Dataset):
        raise TypeError(f'expected a tf.data.Dataset of {element_type} at '
                        f'{where}, found {type(value).__name__}')
      dataset = tensorflow_values.conform_dataset(value, element_type)
      out.append(tf.data.experimental.to_variant(dataset))

    return flatten_sequence
  if isinstance(type_spec, ct.StructType):
    children = [
        _make_flattener(t, f'{where}[{n if n is not None else i}]')
        for i, (n, t) in enumerate(type_spec.items())
    ]

    def flatten_struct(value, out):
      elements = tensorflow_values.struct_elements(value, type_spec)
      for flatten, element in zip(children, elements):
        flatten(element, out)

    return flatten_struct
  raise TypeError(f'{type_spec} has no TensorFlow value.')


def _make_tensor_converter(type_spec: ct.TensorType, where: str) -> Callable:
  """Returns `convert(value, out)` for one tensor leaf."""
  dtype = type_spec.tf_dtype
  np_dtype = type_spec.dtype
  numeric = np_dtype.kind in 'biufc'
  python_types = {
      'b': (bool,), 'i': (int,), 'u': (int,), 'f': (float, int),
      'c': (complex, float, int)
  }.get(np_dtype.kind, ())
  bounds = np.iinfo(np_dtype) if np_dtype.kind in 'iu' else None

  def convert(value, out):
    # Fast paths: values of the leaf's own dtype, and Python scalars of the
    # leaf's kind in range. A 0-d array converts ~3x faster via `.item()`.
    if (isinstance(value, (np.ndarray, np.generic)) and
        value.dtype == np_dtype and numeric):
      out.append(tf.constant(value.item() if value.ndim == 0 else value,
                             dtype))
    elif isinstance(value, tf.Tensor):
      if value.dtype != dtype:
        raise TypeError(f'expected {type_spec} at {where}, found a tensor of '
                        f'dtype {value.dtype.name}')
      out.append(value)
    elif type(value) in python_types and (
        bounds is None or bounds.min <= value <= bounds.max):
      out.append(tf.constant(value, dtype))
    else:
      array = tensorflow_values.leaf_array(value, type_spec, where)
      try:
        out.append(tf.constant(array, dtype))
      except (TypeError, ValueError) as e:
        raise TypeError(f'expected {type_spec} at {where}, found '
                        f'{type(value).__name__} ({e})') from e

  return convert


def make_packer(type_spec: ct.Type) -> Callable:
  """Returns `pack(outputs)` building the executor value from an iterator."""
  if isinstance(type_spec, ct.TensorType):

    def pack_tensor(outputs):
      value = next(outputs).numpy()
      return value if isinstance(value, np.ndarray) else np.asarray(value)

    return pack_tensor
  if isinstance(type_spec, ct.SequenceType):
    spec = type_conversions.to_tf_spec(type_spec.element)

    def pack_sequence(outputs):
      return tf.data.experimental.from_variant(next(outputs), spec)

    return pack_sequence
  names = type_spec.names()
  children = [make_packer(t) for t in type_spec]

  def pack_struct(outputs):
    return structure.Struct([(n, pack(outputs))
                             for n, pack in zip(names, children)])

  return pack_struct
