"""`concat_factory`: aggregate a structure of tensors as one vector.

    {<a=T[2,3], b=T[4]>}@CLIENTS --flatten, concatenate--> {T[10]}@CLIENTS
        --inner aggregation--> T[10]@SERVER --split, reshape--> <a=.., b=..>

Useful for inner aggregations that work per tensor (e.g. rotations or
quantization with one scale for the whole value). All tensors of the value
must have one numeric dtype and known shapes. State and measurements are
the inner ones.
"""

from typing import Any

import numpy as np
import tensorflow as tf

from tffx.aggregators import errors
from tffx.aggregators import factory
from tffx.aggregators import tensor_math
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.templates import aggregation_process
from tffx.templates import measured_process
from tffx.types import computation_types


def _concat_fns(value_type: computation_types.Type):
  """`(concat: V -> T[n], split: T[n] -> V, T[n])` for the value type."""
  owner = 'concat_factory(...).create'
  value_type = factory.check_value_type(
      value_type, owner, factory.NUMERIC,
      'only numeric tensors can be concatenated.')
  leaves = list(factory.leaf_types(value_type))
  dtypes = {leaf.dtype for leaf in leaves}
  if len(dtypes) != 1:
    raise errors.UnsupportedValueTypeError(
        f'{owner} expects the tensors of `value_type` to have one dtype; '
        f'found {value_type}. Tip: aggregate each dtype with its own factory.')
  if any(leaf.shape is None or None in leaf.shape for leaf in leaves):
    raise errors.UnsupportedValueTypeError(
        f'{owner} expects tensors of known shapes; found {value_type}.')
  dtype = dtypes.pop()
  sizes = [int(np.prod(leaf.shape, dtype=np.int64)) for leaf in leaves]
  vector_type = computation_types.TensorType(dtype, [sum(sizes)])

  @tensorflow_computation.tf_computation(value_type)
  def concat(value):
    return tf.concat(
        [tf.reshape(t, [-1]) for t in tensor_math.flatten(value)], axis=0)

  @tensorflow_computation.tf_computation(vector_type)
  def split(vector):
    parts = tf.split(vector, sizes) if sizes else []
    return tensor_math.pack(value_type, [
        tf.reshape(part, leaf.shape) for part, leaf in zip(parts, leaves)
    ])

  return value_type, concat, split, vector_type


class _UnweightedConcatFactory(factory.UnweightedAggregationFactory):

  def __init__(self, inner: factory.UnweightedAggregationFactory):
    self._inner = inner

  def create(self, value_type: Any) -> aggregation_process.AggregationProcess:
    value_type, concat, split, vector_type = _concat_fns(value_type)
    process = self._inner.create(vector_type)

    @federated_computation.federated_computation(
        process.state_type, computation_types.type_at_clients(value_type))
    def next_fn(state, value):
      output = process.next(state, intrinsics.federated_map(concat, value))
      return measured_process.MeasuredProcessOutput(
          output.state, intrinsics.federated_map(split, output.result),
          output.measurements)

    return aggregation_process.AggregationProcess(process.initialize, next_fn)


class _WeightedConcatFactory(factory.WeightedAggregationFactory):

  def __init__(self, inner: factory.WeightedAggregationFactory):
    self._inner = inner

  def create(self, value_type: Any,
             weight_type: Any) -> aggregation_process.AggregationProcess:
    value_type, concat, split, vector_type = _concat_fns(value_type)
    process = self._inner.create(vector_type, weight_type)

    @federated_computation.federated_computation(
        process.state_type, computation_types.type_at_clients(value_type),
        process.next.type_signature.parameter[2])
    def next_fn(state, value, weight):
      output = process.next(state, intrinsics.federated_map(concat, value),
                            weight)
      return measured_process.MeasuredProcessOutput(
          output.state, intrinsics.federated_map(split, output.result),
          output.measurements)

    return aggregation_process.AggregationProcess(process.initialize, next_fn)


def concat_factory(
    inner_agg_factory: factory.AggregationFactory
) -> factory.AggregationFactory:
  """Wraps `inner_agg_factory` to aggregate values as one concatenated vector.

  Returns:
    A factory of the same kind (weighted or not) as `inner_agg_factory`.

  Raises:
    FactoryTypeError: if `inner_agg_factory` is not a factory.
  """
  factory.check_aggregation_factory(inner_agg_factory, 'inner_agg_factory',
                                    'concat_factory')
  if isinstance(inner_agg_factory, factory.WeightedAggregationFactory):
    return _WeightedConcatFactory(inner_agg_factory)
  return _UnweightedConcatFactory(inner_agg_factory)
