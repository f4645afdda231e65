"""Runs one TensorFlow computation for many clients in one TensorFlow call.

`federated_map(client_update, <model, data>)` over 100 clients makes 100
small TensorFlow calls; the same work done as one call over a client axis
is several times faster (and is what fills an accelerator):

    vectorized = vectorized_computation.analyse(block)
    if isinstance(vectorized, VectorizedComputation):
      stacked = vectorized([arg_0, ..., arg_n], device='/device:CPU:0')
    else:
      logging.info('per client: %s', vectorized.reason)

How: `client_graph_split` cuts the graph into `pre` (tensor parameters ->
initial state), the reduce function `step`, and `post` (final state ->
results). One `tf.function` runs, for K clients,

    state = vectorized_map(pre)(params)                   [K, ...] per leaf
    for each phase p:                   (clients' k-th dataset elements of
      s = gather(state, clients of p)    one shape; phases in order of k)
      state[clients of p] = vectorized_map(step)(s, elements of p)
    results = vectorized_map(post)(params, state)

with TensorFlow's `pfor` (`tf.vectorized_map`, without its fallback to a
loop: an op it cannot vectorize is found when the function is traced, at
`analyse`). The clients' datasets are read by a second function, one call
for all K clients, into rows; a phase is the set of clients whose k-th
element has the same shapes (a full batch, or a partial last batch of one
size), so every client sees exactly its own elements, in its own order,
each once: nothing is padded, masked, dropped or repeated. Argument leaves
that are the same object for every client (the broadcast model) are passed
once, unstacked: `pfor` keeps them loop-invariant.

Results agree with per-client execution to float rounding (batched kernels
may sum in another order). `analyse` traces the function once per
computation; calls with the same pattern of shared leaves reuse it.

This module neither loads per-client runners nor schedules clients (see
`thread_pool_executor`).
"""

import hashlib
import threading
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from absl import logging
import numpy as np
import tensorflow as tf
from tensorflow.python.ops.parallel_for import pfor

from tffx.computations import building_blocks
from tffx.computations import tensorflow_values
from tffx.executors import client_graph_split
from tffx.executors import errors as executor_errors
from tffx.executors import tensorflow_runner
from tffx.types import computation_types as ct

NotVectorizable = client_graph_split.NotVectorizable
_COUNT_SPEC = tf.TensorSpec([], tf.int32)
# At most this many clients run in one TensorFlow call (bounds memory).
DEFAULT_MAX_CLIENTS_PER_CALL = 256
# A computation without a dataset costs ~50 us per client call, and a
# vectorized call ~1 ms: executors vectorize it only for this many clients.
_MIN_CLIENTS_WITHOUT_DATASET = 32


def _convert_bitcast(pfor_input):
  """Bitcast per client = Bitcast of the stacked tensor: a size change only
  adds or drops a trailing dimension, so the client axis stays first."""
  stacked = pfor_input.stacked_input(0)
  return pfor.wrap(
      tf.bitcast(stacked, pfor_input.get_attr('type')), True)


# Ops TensorFlow's `pfor` has no converter for (in TF 2.21) and that client
# computations use (Keras metrics bitcast floats).
for _op, _converter in (('Bitcast', _convert_bitcast),):
  # pylint: disable=protected-access
  if _op not in pfor._pfor_converter_registry:
    pfor.RegisterPFor(_op)(_converter)
  # pylint: enable=protected-access

_cache_lock = threading.Lock()
_analysed: Dict[tuple, Union['VectorizedComputation', NotVectorizable]] = {}


def for_map(block: building_blocks.TensorFlow,
            max_clients_per_call: int = DEFAULT_MAX_CLIENTS_PER_CALL
           ) -> Optional['VectorizedComputation']:
  """What an executor calls for `federated_map(block, ...)` over clients.

  Analyses `block` once per process (by proto bytes, type and call size),
  logs once why a block runs per client, and returns its vectorized form
  or None.
  """
  digest = hashlib.sha256(
      block.proto.SerializeToString(deterministic=True)).digest()
  key = (digest, block.type_signature, max_clients_per_call)
  with _cache_lock:
    result = _analysed.get(key)
    if result is None:
      result = analyse(block, max_clients_per_call)
      if isinstance(result, VectorizedComputation) and not result.has_dataset:
        result.min_clients_per_call = _MIN_CLIENTS_WITHOUT_DATASET
      _analysed[key] = result
      if isinstance(result, NotVectorizable):
        logging.info('tffx: TensorFlow computation %s runs client by client, '
                     'not vectorized: %s.', block.proto.name or 'tensorflow',
                     result.reason)
  return result if isinstance(result, VectorizedComputation) else None


def analyse(
    block: building_blocks.TensorFlow,
    max_clients_per_call: int = DEFAULT_MAX_CLIENTS_PER_CALL
) -> Union['VectorizedComputation', NotVectorizable]:
  """The vectorized form of `block`, or why it has none.

  Traces the vectorized function once (with every tensor leaf stacked), so
  an op that `pfor` cannot vectorize is reported here, before any call.
  """
  graph = client_graph_split.split(block)
  if isinstance(graph, NotVectorizable):
    return graph
  computation = VectorizedComputation(block, graph, max_clients_per_call)
  try:
    computation.trace((False,) * len(computation.tensor_leaves))
  except (ValueError, TypeError, NotImplementedError,
          tf.errors.OpError) as e:
    return NotVectorizable(f'TensorFlow cannot vectorize it: '
                           f'{_first_line(e)}')
  return computation


def _first_line(error: Exception) -> str:
  lines = [line.strip() for line in str(error).splitlines() if line.strip()]
  useful = [line for line in lines if 'pfor' in line.lower() or
            'vectoriz' in line.lower() or 'op' in line.lower()]
  return (useful or lines or [type(error).__name__])[0][:300]


class VectorizedComputation:
  """Runs a TensorFlow block for a list of clients' arguments at once."""

  def __init__(self, block: building_blocks.TensorFlow,
               graph: client_graph_split.ClientGraph,
               max_clients_per_call: int):
    if max_clients_per_call < 1:
      raise ValueError(f'Expected max_clients_per_call >= 1, found '
                       f'{max_clients_per_call}.')
    self._name = block.proto.name or 'tensorflow'
    self._type_signature = block.type_signature
    self._graph = graph
    self._max_clients = max_clients_per_call
    # Fewer clients than this run one by one (`__call__` returns None).
    self.min_clients_per_call = 2
    self.tensor_leaves = tuple(
        t for i, t in enumerate(graph.parameter_leaves)
        if i != graph.dataset_leaf)
    self._pack = tensorflow_runner.make_packer(self._type_signature.result)
    self._functions: Dict[Tuple[bool, ...], Any] = {}
    self._lock = threading.Lock()
    self._read = None
    if graph.dataset_leaf is not None:
      self._read = _dataset_reader(graph.element_specs)

  @property
  def name(self) -> str:
    return self._name

  @property
  def max_clients_per_call(self) -> int:
    return self._max_clients

  @property
  def has_dataset(self) -> bool:
    return self._graph.dataset_leaf is not None

  def __call__(self, args: Sequence[Any],
               device: Optional[str] = None) -> Optional[Any]:
    """The clients' results, stacked (a leading client axis on each leaf).

    Returns None, before running anything, when the clients' tensor leaves
    cannot be stacked (shapes differ) or there are fewer than
    `min_clients_per_call` clients; run them one by one then.

    Raises:
      ArgumentTypeError: if an argument does not fit the parameter type.
      TensorFlowExecutionError: if TensorFlow fails while running.
    """
    if len(args) < self.min_clients_per_call:
      return None
    parts = []
    for start in range(0, len(args), self._max_clients):
      part = self._call(args[start:start + self._max_clients], device)
      if part is None:
        return None
      parts.append(part)
    if len(parts) == 1:
      return self._pack(iter(parts[0]))
    return self._pack(
        iter([tf.concat(leaves, 0) for leaves in zip(*parts)]))

  def trace(self, shared: Tuple[bool, ...]) -> Any:
    """The concrete function for this pattern of shared tensor leaves."""
    function = self._functions.get(shared)
    if function is None:
      with self._lock:
        function = self._functions.get(shared)
        if function is None:
          function = _build_function(self._graph, self.tensor_leaves, shared)
          self._functions[shared] = function
    return function

  def _call(self, args: Sequence[Any], device: Optional[str]):
    leaves = [self._flatten(arg, j) for j, arg in enumerate(args)]
    columns = list(zip(*leaves)) if leaves else []
    tensors, shared = [], []
    dataset_leaf = self._graph.dataset_leaf
    tensor_columns = [c for i, c in enumerate(columns) if i != dataset_leaf]
    for column, leaf_type in zip(tensor_columns, self.tensor_leaves):
      first = column[0]
      if all(value is first for value in column):
        shared.append(True)
        tensors.append(_array(first, leaf_type))
        continue
      arrays = [_array(value, leaf_type) for value in column]
      if any(a.shape != arrays[0].shape for a in arrays):
        return None
      shared.append(False)
      tensors.append(np.stack(arrays))
    function = self.trace(tuple(shared))
    try:
      with tf.device(device):
        inputs = [tf.constant(t) for t in tensors]
        inputs.append(tf.constant(len(args), tf.int32))
        if dataset_leaf is not None:
          inputs.extend(self._phases(columns[dataset_leaf]))
        outputs = function(*inputs)
    except tf.errors.OpError as e:
      raise executor_errors.TensorFlowExecutionError(
          f'TensorFlow computation {self._name} of type '
          f'{self._type_signature} failed while running for '
          f'{len(args)} clients at once: {type(e).__name__}: '
          f'{e.message}') from e
    return list(outputs)

  def _flatten(self, arg: Any, client: int) -> List[Any]:
    """The leaves of one client's argument, in the proto's flat order."""
    out = []
    try:
      _flatten_value(arg, self._type_signature.parameter, out)
    except (TypeError, ValueError) as e:
      raise executor_errors.ArgumentTypeError(
          f'Cannot run TensorFlow computation {self._name} of type '
          f'{self._type_signature} for client {client}: {e}.') from e
    return out

  def _phases(self, datasets: Sequence[Any]) -> list:
    """The clients' dataset elements grouped into phases (function inputs).

    Returns the rows of each component in phase order, then the schedule
    of `_schedule`.
    """
    datasets = self._conform(datasets)
    num_components = len(self._graph.element_specs)
    sliced = [_sliced_batches(d, num_components) for d in datasets]
    if all(s is not None for s in sliced):
      arrays = [s[0] for s in sliced]
      counts = np.array([len(s[1]) for s in sliced], np.int64)
      leads = np.repeat(np.concatenate([s[1] for s in sliced])[:, None],
                        num_components, axis=1)
    else:
      variants = [tf.data.experimental.to_variant(d) for d in datasets]
      *rows, leads, counts = self._read(tf.stack(variants))
      leads, counts = leads.numpy(), counts.numpy()
      arrays = _split_by_client([r.numpy() for r in rows], leads, counts)
    order, schedule = _schedule(leads, counts)
    return _rows_in_order(arrays, leads, counts, order,
                          self._graph.element_specs) + schedule

  def _conform(self, datasets: Sequence[Any]) -> List[tf.data.Dataset]:
    """The datasets conformed to the element type (checked once per spec)."""
    element_type = self._graph.parameter_leaves[
        self._graph.dataset_leaf].element
    conformed, accepted = [], None
    for dataset in datasets:
      spec = dataset.element_spec
      if accepted is None or type(spec) is not type(accepted) or (
          spec != accepted):
        result = tensorflow_values.conform_dataset(dataset, element_type)
        if result is dataset:
          accepted = spec
        dataset = result
      conformed.append(dataset)
    return conformed


def _sliced_batches(dataset: tf.data.Dataset, num_components: int):
  """`(rows, batch sizes)` of `from_tensor_slices(rows).batch(b)`, else None.

  The common client dataset is read without running tf.data: its
  components' rows are the sliced arrays themselves.
  """
  # pylint: disable=protected-access
  if type(dataset).__name__ != '_BatchDataset':
    return None
  source = getattr(dataset, '_input_dataset', None)
  if type(source).__name__ != '_TensorSliceDataset':
    return None
  tensors = getattr(source, '_tensors', None)
  if tensors is None or len(tensors) != num_components:
    return None
  try:
    batch = int(dataset._batch_size)
    drop_remainder = bool(dataset._drop_remainder)
  except (AttributeError, TypeError, ValueError):
    return None
  # pylint: enable=protected-access
  if batch < 1 or any(t.shape.rank < 1 for t in tensors):
    return None
  num_rows = int(tensors[0].shape[0])
  full, rest = divmod(num_rows, batch)
  sizes = [batch] * full + ([] if drop_remainder or not rest else [rest])
  used = sum(sizes)
  # `np.asarray` views an eager tensor's buffer; `.numpy()` would copy it.
  return [np.asarray(t)[:used] for t in tensors], np.array(sizes, np.int64)


def _flatten_value(value: Any, type_spec: ct.Type, out: list) -> None:
  if isinstance(type_spec, ct.StructType):
    elements = tensorflow_values.struct_elements(value, type_spec)
    for element, element_type in zip(elements, type_spec):
      _flatten_value(element, element_type, out)
  elif isinstance(type_spec, ct.SequenceType):
    if not isinstance(value, tf.data.Dataset):
      raise TypeError(f'expected a tf.data.Dataset of {type_spec.element}, '
                      f'found {type(value).__name__}')
    out.append(value)
  else:
    out.append(value)


def _array(value: Any, type_spec: ct.TensorType) -> np.ndarray:
  if isinstance(value, np.ndarray) and value.dtype == type_spec.dtype:
    return value
  if isinstance(value, tf.Tensor):
    value = value.numpy()
  return np.asarray(
      tensorflow_values.leaf_array(value, type_spec, 'the argument'),
      type_spec.dtype)


# ---------------------------------------------------------------------------
# Datasets: read every client's elements, then group them into phases.


def _read_options() -> tf.data.Options:
  """tf.data options for reading: optimizing each small pipeline costs more
  than it saves (~2 ms per client)."""
  options = tf.data.Options()
  options.autotune.enabled = False
  options.experimental_optimization.apply_default_optimizations = False
  return options


_READ_OPTIONS = _read_options()


def _dataset_reader(element_specs: Sequence[tf.TensorSpec]):
  """A function reading K datasets (variants) into rows, in one call.

  Returns per component the rows of all elements concatenated (a 0-d
  component is one row), then the leading sizes `[elements, components]`
  and the number of elements of each client.
  """
  structure = tuple(element_specs)
  row_shapes = [
      tf.TensorShape([None]) if s.shape.rank == 0 else
      tf.TensorShape([None]).concatenate(s.shape[1:]) for s in structure
  ]

  @tf.function(input_signature=[tf.TensorSpec([None], tf.variant)])
  def read(variants):
    num_clients = tf.shape(variants)[0]
    arrays = [
        tf.TensorArray(s.dtype, size=0, dynamic_size=True, infer_shape=False,
                       element_shape=shape)
        for s, shape in zip(structure, row_shapes)
    ]
    leads = tf.TensorArray(tf.int32, size=0, dynamic_size=True,
                           element_shape=[len(structure)])
    counts = tf.TensorArray(tf.int32, size=num_clients)

    def client(i, element, arrays, leads, counts):
      dataset = tf.data.experimental.from_variant(
          variants[i], structure).with_options(_READ_OPTIONS)
      it = iter(dataset)
      start = element

      def has_next(element, optional, arrays, leads):
        del element, arrays, leads
        return optional.has_value()

      def read_one(element, optional, arrays, leads):
        values = optional.get_value()
        rows = [tf.reshape(v, [1]) if s.shape.rank == 0 else v
                for v, s in zip(values, structure)]
        arrays = [a.write(element, r) for a, r in zip(arrays, rows)]
        leads = leads.write(element, tf.stack(
            [tf.shape(r)[0] for r in rows]))
        return element + 1, it.get_next_as_optional(), arrays, leads

      element, _, arrays, leads = tf.while_loop(
          has_next, read_one,
          (element, it.get_next_as_optional(), arrays, leads))
      counts = counts.write(i, element - start)
      return i + 1, element, arrays, leads, counts

    _, _, arrays, leads, counts = tf.while_loop(
        lambda i, *_: i < num_clients, client,
        (0, 0, arrays, leads, counts))
    return ([a.concat() for a in arrays] +
            [tf.reshape(leads.stack(), [-1, len(structure)]), counts.stack()])

  return read


def _split_by_client(rows: List[np.ndarray], leads: np.ndarray,
                     counts: np.ndarray) -> List[List[np.ndarray]]:
  """Rows of all clients (client after client) as views per client."""
  per_client = np.add.reduceat(leads, np.r_[0, np.cumsum(counts)[:-1]],
                               axis=0) if len(leads) else np.zeros_like(leads)
  arrays = []
  ends = np.zeros(len(rows), np.int64)
  for k, count in enumerate(counts):
    sizes = per_client[k] if count else np.zeros(len(rows), np.int64)
    arrays.append([r[e:e + n] for r, e, n in zip(rows, ends, sizes)])
    ends = ends + sizes
  return arrays


def _schedule(leads: np.ndarray, counts: np.ndarray) -> tuple:
  """The phases: in order of step, clients whose element has equal shapes.

  Args:
    leads: `[elements, components]` leading sizes, clients' elements in
      order, client after client.
    counts: The number of elements of each client.

  Returns:
    `(order, [clients, client_starts, leads, row_starts])`: `order` lists
    the elements in phase order; phase p updates clients
    `clients[client_starts[p]:client_starts[p + 1]]` with the rows
    `[row_starts[p, c], row_starts[p + 1, c])` of component c (`leads[p, c]`
    rows per client), rows being the elements' rows in `order`.
  """
  num_elements, num_components = leads.shape
  client_of = np.repeat(np.arange(len(counts)), counts)
  first = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
  step_of = np.arange(num_elements) - np.repeat(first, counts)
  # Sort by step, then by shape, then by client.
  keys = [client_of] + [leads[:, c] for c in reversed(range(num_components))
                       ] + [step_of]
  order = np.lexsort(keys)
  sorted_keys = np.column_stack([step_of[order], leads[order]])
  boundaries = np.flatnonzero(
      np.any(sorted_keys[1:] != sorted_keys[:-1], axis=1)) + 1
  starts = np.concatenate([[0], boundaries, [num_elements]] if num_elements
                          else [[0]]).astype(np.int64)
  phase_leads = leads[order][starts[:-1]].reshape([-1, num_components])
  cumulative = np.concatenate([np.zeros((1, num_components), np.int64),
                               np.cumsum(leads[order], axis=0)])
  return order, [
      client_of[order].astype(np.int32), starts.astype(np.int32),
      phase_leads.astype(np.int32), cumulative[starts].astype(np.int32)
  ]


def _rows_in_order(arrays: List[List[Any]], leads: np.ndarray,
                   counts: np.ndarray, order: np.ndarray,
                   specs: Sequence[tf.TensorSpec]) -> list:
  """Each component's rows, element after element in `order`."""
  client_of = np.repeat(np.arange(len(counts)), counts)
  first = np.r_[0, np.cumsum(counts)[:-1]].astype(np.int64)
  rows = []
  for c in range(leads.shape[1]):
    sizes = leads[:, c]
    # Where each element starts in its client's array.
    offsets = np.cumsum(sizes) - sizes
    offsets = offsets - np.repeat(offsets[first[counts > 0]],
                                  counts[counts > 0])
    pieces = [arrays[client_of[e]][c][offsets[e]:offsets[e] + sizes[e]]
              for e in order.tolist()]
    rest = specs[c].shape.as_list()[1:] if specs[c].shape.rank else []
    rows.append(_concatenate([int(sizes.sum())] + rest,
                             specs[c].dtype.as_numpy_dtype, pieces))
  return rows


# TensorFlow kernels need buffers aligned to 64 bytes (EIGEN_MAX_ALIGN_BYTES).
_ALIGNMENT = 64


def _concatenate(shape: List[int], dtype: np.dtype, pieces: list) -> Any:
  """`np.concatenate(pieces)` as a tensor, with a single copy.

  The rows are concatenated into an aligned numpy buffer that the tensor
  then shares (via DLPack): `tf.constant` would copy them again, ~30 MB
  per round for 100 FedAvg clients.
  """
  dtype = np.dtype(dtype)
  size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
  if not size or dtype.kind not in 'iuf':
    return tf.constant(np.concatenate(pieces).astype(dtype, copy=False)
                       if pieces else np.zeros(shape, dtype))
  buffer = np.empty(size + _ALIGNMENT, np.uint8)
  start = -buffer.ctypes.data % _ALIGNMENT
  out = buffer[start:start + size].view(dtype).reshape(shape)
  np.concatenate(pieces, out=out)
  return tf.experimental.dlpack.from_dlpack(out.__dlpack__())


# ---------------------------------------------------------------------------
# The vectorized function.


def _tensor_spec(type_spec: ct.TensorType, stacked: bool) -> tf.TensorSpec:
  shape = None if type_spec.shape is None else list(type_spec.shape)
  if stacked:
    shape = None if shape is None else [None] + shape
  return tf.TensorSpec(shape, type_spec.tf_dtype)


def _build_function(graph: client_graph_split.ClientGraph,
                    tensor_leaves: Sequence[ct.TensorType],
                    shared: Tuple[bool, ...]) -> Any:
  """The concrete function of one call (see the module docstring)."""
  tensor_specs = [_tensor_spec(t, not s)
                  for t, s in zip(tensor_leaves, shared)]

  def run_pre(tensors, num_clients):
    return _vectorized(graph.pre, list(zip(tensors, [not s for s in shared])),
                       num_clients)

  if graph.dataset_leaf is None:

    @tf.function(autograph=False)
    def no_dataset(*args):
      *tensors, num_clients = args
      return run_pre(tensors, num_clients)

    return no_dataset.get_concrete_function(*tensor_specs, _COUNT_SPEC)

  element_specs = graph.element_specs
  num_components = len(element_specs)
  row_specs = [
      tf.TensorSpec([None] + s.shape.as_list()[1:], s.dtype)
      if s.shape.rank else tf.TensorSpec([None], s.dtype)
      for s in element_specs
  ]
  schedule_specs = [
      tf.TensorSpec([None], tf.int32),
      tf.TensorSpec([None], tf.int32),
      tf.TensorSpec([None, num_components], tf.int32),
      tf.TensorSpec([None, num_components], tf.int32),
  ]

  @tf.function(autograph=False)
  def with_dataset(*args):
    tensors = list(args[:len(tensor_specs)])
    num_clients = args[len(tensor_specs)]
    rows = list(args[len(tensor_specs) + 1:][:num_components])
    (clients, client_starts, leads,
     row_starts) = args[len(tensor_specs) + 1 + num_components:]
    carried = run_pre(tensors, num_clients)
    states = list(carried[:graph.num_states])
    captured = list(carried[graph.num_states:])

    def phase(p, *states):
      lo, hi = client_starts[p], client_starts[p + 1]
      members = clients[lo:hi]
      count = hi - lo
      elements = []
      for c, spec in enumerate(element_specs):
        # A slice of contiguous rows: TensorFlow aliases, not copies, it.
        values = rows[c][row_starts[p, c]:row_starts[p + 1, c]]
        if spec.shape.rank == 0:
          shape = [count]
        else:
          shape = tf.concat([[count, leads[p, c]],
                             tf.constant(spec.shape.as_list()[1:],
                                         tf.int32)], 0)
        elements.append(tf.reshape(values, shape))
      def some_clients():
        sliced = ([tf.gather(s, members) for s in states] + elements +
                  [tf.gather(c, members) for c in captured])
        updated = _vectorized(graph.step, [(t, True) for t in sliced], count)
        return [tf.tensor_scatter_nd_update(old, members[:, None], new)
                for old, new in zip(states, updated)]

      def all_clients():
        # The phase's clients are 0..K-1 in order (they are sorted).
        return _vectorized(graph.step, [(t, True) for t in list(states) + elements
                                        + captured], count)

      new_states = tf.cond(tf.equal(count, num_clients), all_clients,
                           some_clients)
      new_states = [tf.ensure_shape(new, old.shape)
                    for old, new in zip(states, new_states)]
      return (p + 1, *new_states)

    num_phases = tf.shape(client_starts)[0] - 1
    _, *states = tf.while_loop(lambda p, *_: p < num_phases, phase,
                               (tf.constant(0), *states))
    tensor_args = [(t, not s) for t, s in zip(tensors, shared)]
    return _vectorized(graph.post, tensor_args + [(s, True) for s in states],
                       num_clients)

  return with_dataset.get_concrete_function(
      *tensor_specs, _COUNT_SPEC, *row_specs, *schedule_specs)


def _vectorized(fn, values: list, num_clients) -> list:
  """`fn(*values)` for each client; `values` are (tensor, is stacked) pairs.

  Stacked values are sliced per client; the others are loop-invariant and
  passed whole. `pfor` does the work, with no fallback to a loop.
  """

  def one_client(sliced):
    client_values, stacked = [], iter(sliced[1:])
    for tensor, is_stacked in values:
      client_values.append(next(stacked) if is_stacked else tensor)
    return fn(*client_values)

  elems = [tf.range(num_clients)] + [t for t, s in values if s]
  return tf.vectorized_map(one_client, elems, fallback_to_while_loop=False)
