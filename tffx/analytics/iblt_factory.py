"""`IbltFactory`: heavy hitters (strings with summed values) through an IBLT.

    {<key=string, value=int64[*S]>*}@CLIENTS
        --encode (tf)--> {<sketch, value_table>}@CLIENTS
        --sketch_agg_factory, value_tensor_agg_factory-->
        <sketch, value_table>@SERVER
        --decode (tf)--> <key=string[k], value=int64[k, *S]>@SERVER

Each client encodes its records into an invertible Bloom lookup table
(`iblt_sketch`); the tables are summed; the server peels the sum into the
distinct strings and the sums of their values. Clients usually send
`value=[1]` per record, so that the decoded values are the strings' counts.
Strings longer than `string_max_bytes` are truncated. The factory does no
thresholding or clipping: every string the table can hold is decoded, with
its exact sums.
"""

import collections
from typing import Any, Optional

import numpy as np
import tensorflow as tf

from tffx.aggregators import errors
from tffx.aggregators import factory
from tffx.aggregators import sum_factory
from tffx.analytics import iblt_sketch
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.templates import aggregation_process
from tffx.templates import measured_process
from tffx.types import computation_types

DATASET_KEY = 'key'
DATASET_VALUE = 'value'


def _record_shapes(value_type: Any):
  """`(value_type, value_shape)` of a valid client dataset type."""
  value_type = computation_types.to_type(value_type)
  element = getattr(value_type, 'element', None)
  names = ([name for name, _ in element.items()]
           if isinstance(element, computation_types.StructType) else None)
  if (not isinstance(value_type, computation_types.SequenceType) or
      names != [DATASET_KEY, DATASET_VALUE] or
      not _is_batch(element[DATASET_KEY], np.str_) or
      not _is_batch(element[DATASET_VALUE], np.int64)):
    raise errors.UnsupportedValueTypeError(
        f'IbltFactory.create expects a `tffx.SequenceType` of batches '
        f'OrderedDict({DATASET_KEY}=string[?], {DATASET_VALUE}=int64[?,...]) '
        f'with the value shape known but for the batch size; found '
        f'{value_type}.')
  return value_type, tuple(element[DATASET_VALUE].shape[1:])


def _is_batch(type_spec, dtype) -> bool:
  return (isinstance(type_spec, computation_types.TensorType) and
          type_spec.dtype == dtype and type_spec.shape is not None and
          len(type_spec.shape) >= 1 and type_spec.shape[0] is None and
          None not in type_spec.shape[1:] and
          (dtype != np.str_ or len(type_spec.shape) == 1))


class IbltFactory(factory.UnweightedAggregationFactory):
  """Aggregates client strings and their int64 values with an IBLT.

  Client data are datasets of batches of records, the strings in `key` and
  their values in `value` (`[1]` for counting); the result is one batch, of
  the distinct strings and their summed values, in no particular order.

      next: (<S@SERVER, {<key=string[?],value=int64[?,*V]>*}@CLIENTS> ->
             <state=S@SERVER,
              result=<key=string[?],value=int64[?,*V]>@SERVER,
              measurements=<num_not_decoded=int64,sketch=..,
                            value_tensor=..>@SERVER>)

  `S` holds the states of `sketch_agg_factory` and `value_tensor_agg_factory`.
  `num_not_decoded` counts the records whose strings could not be decoded
  (more distinct strings than the table holds).
  """

  def __init__(
      self,
      *,
      capacity: int,
      string_max_bytes: int,
      encoding: iblt_sketch.CharacterEncoding = (
          iblt_sketch.CharacterEncoding.UTF8),
      repetitions: int,
      seed: int = 0,
      sketch_agg_factory: Optional[
          factory.UnweightedAggregationFactory] = None,
      value_tensor_agg_factory: Optional[
          factory.UnweightedAggregationFactory] = None,
  ) -> None:
    """Initializes the factory.

    Args:
      capacity: The number of distinct strings the sketch is sized for; > 0.
      string_max_bytes: The maximum length of a string in bytes; > 0.
      encoding: The `CharacterEncoding` of the strings (where they are cut).
      repetitions: The number of hash functions (table rows); >= 3.
      seed: The seed of the hash functions.
      sketch_agg_factory: Sums the sketches; defaults to `SumFactory`.
      value_tensor_agg_factory: Sums the value tables; defaults to
        `SumFactory`.

    Raises:
      ValueError: if `capacity`, `string_max_bytes` or `repetitions` is out
        of range.
      FactoryTypeError: if an aggregation factory is not an unweighted one.
    """
    if capacity < 1:
      raise ValueError(f'capacity should be at least 1, got {capacity}')
    if string_max_bytes < 1:
      raise ValueError(
          f'string_max_bytes should be at least 1, got {string_max_bytes}')
    if repetitions < 3:
      raise ValueError(f'repetitions should be at least 3, got {repetitions}')
    if not isinstance(encoding, iblt_sketch.CharacterEncoding):
      raise ValueError(
          f'encoding should be a CharacterEncoding, got {encoding!r}')
    self._capacity = capacity
    self._string_max_bytes = string_max_bytes
    self._encoding = encoding
    self._repetitions = repetitions
    self._seed = seed
    self._sketch_factory = _unweighted_or_sum(sketch_agg_factory,
                                              'sketch_agg_factory')
    self._value_factory = _unweighted_or_sum(value_tensor_agg_factory,
                                             'value_tensor_agg_factory')

  def create(self, value_type: Any) -> aggregation_process.AggregationProcess:
    """Returns the process for client datasets of `value_type`.

    Raises:
      UnsupportedValueTypeError: if `value_type` is not a sequence of
        `OrderedDict(key=string, value=int64[...])`.
    """
    value_type, value_shape = _record_shapes(value_type)
    size = iblt_sketch.table_size(self._capacity, self._repetitions)
    width = int(np.prod(value_shape, dtype=np.int64))
    sketch_type = computation_types.TensorType(np.int64, [
        self._repetitions, size,
        iblt_sketch.num_chunks(self._string_max_bytes) + 2
    ])
    table_type = computation_types.TensorType(
        np.int64, [self._repetitions, size, width])
    params = dict(string_max_bytes=self._string_max_bytes,
                  repetitions=self._repetitions, seed=self._seed)

    @tensorflow_computation.tf_computation(value_type)
    def encode(dataset):

      def add_batch(tables, batch):
        keys = iblt_sketch.truncate(batch[DATASET_KEY],
                                    self._string_max_bytes, self._encoding)
        values = tf.reshape(batch[DATASET_VALUE], [-1, width])
        sketch, value_table = iblt_sketch.encode(
            keys, values, capacity=self._capacity, **params)
        return (tf.math.floormod(tables[0] + sketch, iblt_sketch.FIELD_SIZE),
                tables[1] + value_table)

      return dataset.reduce(
          (tf.zeros(sketch_type.shape, tf.int64),
           tf.zeros(table_type.shape, tf.int64)), add_batch)

    @tensorflow_computation.tf_computation(sketch_type, table_type)
    def decode(sketch, value_table):
      keys, _, values, num_not_decoded = iblt_sketch.decode(
          sketch, value_table, **params)
      result = collections.OrderedDict([
          (DATASET_KEY, keys),
          (DATASET_VALUE, tf.reshape(values, (-1,) + value_shape)),
      ])
      return result, num_not_decoded

    sketch_process = self._sketch_factory.create(sketch_type)
    value_process = self._value_factory.create(table_type)

    @federated_computation.federated_computation
    def initialize_fn():
      return intrinsics.federated_zip(collections.OrderedDict(
          sketch=sketch_process.initialize(),
          value_tensor=value_process.initialize()))

    @federated_computation.federated_computation(
        initialize_fn.type_signature.result,
        computation_types.type_at_clients(value_type))
    def next_fn(state, dataset):
      encoded = intrinsics.federated_map(encode, dataset)
      sketch_output = sketch_process.next(state.sketch, encoded[0])
      value_output = value_process.next(state.value_tensor, encoded[1])
      result, num_not_decoded = intrinsics.federated_map(
          decode, intrinsics.federated_zip(
              (sketch_output.result, value_output.result)))
      new_state = intrinsics.federated_zip(collections.OrderedDict(
          sketch=sketch_output.state, value_tensor=value_output.state))
      measurements = intrinsics.federated_zip(collections.OrderedDict(
          num_not_decoded=num_not_decoded,
          sketch=sketch_output.measurements,
          value_tensor=value_output.measurements))
      return measured_process.MeasuredProcessOutput(new_state, result,
                                                    measurements)

    return aggregation_process.AggregationProcess(initialize_fn, next_fn)


def _unweighted_or_sum(agg_factory, argument: str):
  if agg_factory is None:
    return sum_factory.SumFactory()
  factory.check_factory(agg_factory, factory.UnweightedAggregationFactory,
                        argument, 'IbltFactory')
  return agg_factory

