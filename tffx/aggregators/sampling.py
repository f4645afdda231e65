"""`federated_sample`: a uniform sample of client values, at SERVER.

    federated_sample({V}@CLIENTS, k) -> V'@SERVER

where `V'` is `V` with a leading dimension of size `min(k, #clients)` on
every tensor: the values of up to `k` clients chosen uniformly at random
without replacement (reservoir sampling). Each client value gets a random
key; `federated_aggregate` keeps the values of the `k` largest keys, in
accumulators merged the same way. Must be called inside a
`tffx.federated_computation`.

`tff.aggregators.UnweightedReservoirSamplingFactory` is not provided: its
process returns samples, whose type differs from the value type, which the
`AggregationProcess` contract of tffx refuses
(`AggregationValueTypeMismatchError`); use `federated_sample` in a
`federated_computation` instead.
"""

import collections
from typing import Any

import numpy as np
import tensorflow as tf

from tffx.aggregators import factory
from tffx.aggregators import tensor_math
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.computations import value_impl
from tffx.types import computation_types
from tffx.types import placements


def _with_sample_dimension(type_spec: computation_types.Type):
  """`type_spec` with a leading dimension of unknown size on every tensor."""
  if isinstance(type_spec, computation_types.StructType):
    elements = [(n, _with_sample_dimension(t)) for n, t in type_spec.items()]
    container = type_spec.python_container
    if container is None:
      named = all(n is not None for n, _ in elements)
      container = collections.OrderedDict if named else tuple
    return computation_types.StructWithPythonType(elements, container)
  return computation_types.TensorType(type_spec.dtype,
                                      (None,) + tuple(type_spec.shape))


def _keep_largest(keys, samples, count: int):
  """The `count` largest keys and their samples (all when there are fewer)."""
  k = tf.minimum(tf.size(keys), count)
  _, indices = tf.math.top_k(keys, k=k, sorted=False)
  return tf.gather(keys, indices), [tf.gather(s, indices) for s in samples]


def federated_sample(value: Any, max_num_samples: int = 100):
  """Returns a uniform sample of at most `max_num_samples` client values.

  Args:
    value: A value placed at CLIENTS, a tensor or a structure of tensors
      (of known rank).
    max_num_samples: The largest number of clients to sample, positive.

  Returns:
    A value at SERVER: `value`'s structure with each tensor stacked along a
    new first dimension, one row per sampled client.

  Raises:
    ValueError: if `max_num_samples` is not positive.
    TypeError: if `value` is not a CLIENTS value of tensors.
  """
  if not isinstance(max_num_samples, int) or max_num_samples < 1:
    raise ValueError(f'Expected a positive int max_num_samples, found '
                     f'{max_num_samples!r}.')
  value = value_impl.to_value(value)
  value_type = value.type_signature
  if not (isinstance(value_type, computation_types.FederatedType) and
          value_type.placement is placements.CLIENTS):
    raise TypeError(f'Expected a value placed at CLIENTS, found {value_type}.')
  member = value_type.member
  leaves = list(factory.leaf_types(member))
  if not all(isinstance(t, computation_types.TensorType) and
             t.shape is not None for t in leaves):
    raise TypeError(f'Expected tensors of known rank (or structures of '
                    f'them) to sample, found {member}.')
  sample_type = _with_sample_dimension(member)
  reservoir_type = computation_types.StructType([
      ('keys', computation_types.TensorType(np.int64, [None])),
      ('samples', sample_type),
  ])

  @tensorflow_computation.tf_computation
  def zero():
    return collections.OrderedDict(
        keys=tf.zeros([0], tf.int64),
        samples=tensor_math.pack(sample_type, [
            tf.zeros((0,) + tuple(t.shape), tf.as_dtype(t.dtype))
            for t in leaves
        ]))

  def reservoir(keys, samples):
    return collections.OrderedDict(
        keys=keys, samples=tensor_math.pack(sample_type, samples))

  @tensorflow_computation.tf_computation(reservoir_type, member)
  def accumulate(accumulator, client_value):
    key = tf.random.uniform([1], maxval=tf.int64.max, dtype=tf.int64)
    keys = tf.concat([accumulator['keys'], key], axis=0)
    samples = [
        tf.concat([s, tf.expand_dims(v, 0)], axis=0) for s, v in zip(
            tensor_math.flatten(accumulator['samples']),
            tensor_math.flatten(client_value))
    ]
    return reservoir(*_keep_largest(keys, samples, max_num_samples))

  @tensorflow_computation.tf_computation(reservoir_type, reservoir_type)
  def merge(a, b):
    keys = tf.concat([a['keys'], b['keys']], axis=0)
    samples = [
        tf.concat([x, y], axis=0) for x, y in zip(
            tensor_math.flatten(a['samples']),
            tensor_math.flatten(b['samples']))
    ]
    return reservoir(*_keep_largest(keys, samples, max_num_samples))

  @tensorflow_computation.tf_computation(reservoir_type)
  def report(accumulator):
    return accumulator['samples']

  return intrinsics.federated_aggregate(value, zero(), accumulate, merge,
                                        report)
