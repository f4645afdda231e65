"""Reservoir sampling of client values: `federated_sample` and
`UnweightedReservoirSamplingFactory`.

    federated_sample({V}@CLIENTS, k) -> V'@SERVER
    UnweightedReservoirSamplingFactory(k).create(V)
      next: (<<>@SERVER, {V}@CLIENTS> ->
             <state=<>, result=V' (or the reservoir R), measurements=N>@SERVER)

where `V'` is `V` with a leading dimension of size `min(k, #clients)` on
every tensor: the values of up to `k` clients chosen uniformly at random
without replacement. Each client value gets a random int32 key; a
`federated_aggregate` keeps the values of the `k` largest keys, in
accumulators (reservoirs) merged the same way:

    R = <random_seed=int64[2], random_values=int32[?], samples=V'>

`random_seed` is `[-1, -1]` in an empty reservoir and drawn at the first
accumulated value; later keys come from stateless random ops split from it.
`N` has the structure of `V`, each leaf the int64 number of clients whose
tensor has a non-finite (NaN or Inf) element. The reservoir pieces
(`build_reservoir_type`, `build_initial_reservoir_fn`, `build_merge_fn`,
`aggregate_samples`, `build_non_finite_count_fn`)
also serve `tffx.learning.metrics.FinalizeThenSampleFactory`.
"""

import collections
from typing import Any

import numpy as np
import tensorflow as tf

from tffx.aggregators import factory
from tffx.aggregators import tensor_math
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.computations import value_impl
from tffx.templates import measured_process
from tffx.types import computation_types
from tffx.types import placements
from tffx.types import type_conversions

_NO_SEED = -1


class SampleAggregationProcess(measured_process.MeasuredProcess):
  """The process of a sampling factory: its result is a sample, not a `V`.

  Typed `(-> S@SERVER)` and `(<S@SERVER, V@CLIENTS> -> <state=S@SERVER,
  result=V'@SERVER, measurements=M@SERVER>)`, where V' is V with a leading
  sample dimension on every tensor. TFF returns an `AggregationProcess`
  here; tffx's `AggregationProcess` keeps the seed contract (the result has
  the value's type, else `AggregationValueTypeMismatchError`), so a sample
  is a `MeasuredProcess` of its own (docs/tff_differences.md).
  """

  @property
  def is_weighted(self) -> bool:
    return False


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


def check_sample_value_type(value_type: Any, owner: str
                           ) -> computation_types.Type:
  """`value_type` as a type, if it is tensors of known rank (in structs).

  Raises:
    TypeError: otherwise.
  """
  value_type = computation_types.to_type(value_type)
  if not all(isinstance(t, computation_types.TensorType) and
             t.shape is not None for t in factory.leaf_types(value_type)):
    raise TypeError(f'{owner} expects `value_type` to be a structure of '
                    f'tensors of known rank, found {value_type!r}.')
  return value_type


def build_reservoir_type(value_type: computation_types.Type
                        ) -> computation_types.StructType:
  """The type `R` of a reservoir of samples of `value_type` values."""
  return computation_types.StructWithPythonType([
      ('random_seed', computation_types.TensorType(np.int64, [2])),
      ('random_values', computation_types.TensorType(np.int32, [None])),
      ('samples', _with_sample_dimension(value_type)),
  ], collections.OrderedDict)


def _reservoir(seed, keys, samples, sample_type):
  return collections.OrderedDict(
      random_seed=seed, random_values=keys,
      samples=tensor_math.pack(sample_type, samples))


def build_initial_reservoir_fn(value_type: computation_types.Type):
  """A no-argument `tf_computation` returning an empty reservoir."""
  sample_type = _with_sample_dimension(value_type)
  leaves = list(factory.leaf_types(value_type))

  @tensorflow_computation.tf_computation
  def initial_reservoir():
    return _reservoir(
        tf.fill([2], tf.constant(_NO_SEED, tf.int64)),
        tf.zeros([0], tf.int32), [
            tf.zeros((0,) + tuple(t.shape), tf.as_dtype(t.dtype))
            for t in leaves
        ], sample_type)

  return initial_reservoir


def _keep_largest(keys, samples, count: int):
  """The `count` largest keys and their samples (all when there are fewer)."""
  k = tf.minimum(tf.size(keys), count)
  _, indices = tf.math.top_k(keys, k=k, sorted=False)
  return tf.gather(keys, indices), [tf.gather(s, indices) for s in samples]


def _build_accumulate_fn(value_type, sample_size: int):
  """`(<R, V> -> R)`: gives the value a random key, keeps the largest."""
  reservoir_type = build_reservoir_type(value_type)
  sample_type = _with_sample_dimension(value_type)

  @tensorflow_computation.tf_computation(reservoir_type, value_type)
  def accumulate(reservoir, value):
    seed = reservoir['random_seed']
    drawn = tf.random.uniform([2], maxval=tf.int64.max, dtype=tf.int64)
    seed = tf.where(tf.reduce_all(tf.equal(seed, _NO_SEED)), drawn, seed)
    seeds = tf.random.experimental.stateless_split(seed, num=2)
    key = tf.random.stateless_uniform([1], seed=seeds[1], minval=None,
                                      maxval=None, dtype=tf.int32)
    keys = tf.concat([reservoir['random_values'], key], axis=0)
    samples = [
        tf.concat([s, tf.expand_dims(v, 0)], axis=0) for s, v in zip(
            tensor_math.flatten(reservoir['samples']),
            tensor_math.flatten(value))
    ]
    return _reservoir(seeds[0], *_keep_largest(keys, samples, sample_size),
                      sample_type)

  return accumulate


def build_merge_fn(value_type: computation_types.Type, sample_size: int):
  """`(<R, R> -> R)`: the `sample_size` samples of largest keys of both."""
  reservoir_type = build_reservoir_type(value_type)
  sample_type = _with_sample_dimension(value_type)

  @tensorflow_computation.tf_computation(reservoir_type, reservoir_type)
  def merge(a, b):
    keys = tf.concat([a['random_values'], b['random_values']], axis=0)
    samples = [
        tf.concat([x, y], axis=0) for x, y in zip(
            tensor_math.flatten(a['samples']),
            tensor_math.flatten(b['samples']))
    ]
    # The seed of `a` goes on; a merged reservoir accumulates no more.
    return _reservoir(a['random_seed'],
                      *_keep_largest(keys, samples, sample_size), sample_type)

  return merge


def aggregate_samples(value, value_type, sample_size: int,
                       with_metadata: bool):
  """The `federated_aggregate` sampling CLIENTS `value`s into a reservoir.

  Returns the reservoir `R@SERVER` if `with_metadata`, else its samples.
  """
  reservoir_type = build_reservoir_type(value_type)

  @tensorflow_computation.tf_computation(reservoir_type)
  def report(reservoir):
    return reservoir if with_metadata else reservoir['samples']

  zero = build_initial_reservoir_fn(value_type)
  return intrinsics.federated_aggregate(
      value, zero(), _build_accumulate_fn(value_type, sample_size),
      build_merge_fn(value_type, sample_size), report)


def _check_positive_int(value: Any, name: str) -> None:
  if (not isinstance(value, (int, np.integer)) or isinstance(value, bool) or
      value < 1):
    raise ValueError(f'Expected a positive int {name}, found {value!r}.')


def federated_sample(value: Any, max_num_samples: int = 100):
  """Returns a uniform sample of at most `max_num_samples` client values.

  Must be called inside a `tffx.federated_computation`.

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
  _check_positive_int(max_num_samples, 'max_num_samples')
  value = value_impl.to_value(value)
  value_type = value.type_signature
  if not (isinstance(value_type, computation_types.FederatedType) and
          value_type.placement is placements.CLIENTS):
    raise TypeError(f'Expected a value placed at CLIENTS, found {value_type}.')
  member = check_sample_value_type(value_type.member, 'federated_sample')
  return aggregate_samples(value, member, max_num_samples, False)


def build_non_finite_count_fn(value_type: computation_types.Type):
  """`(V -> N)`: per leaf, int64 1 if the tensor has a NaN or Inf, else 0."""
  count_type = computation_types.to_type(
      type_conversions.structure_from_tensor_type_tree(
          lambda _: computation_types.TensorType(np.int64), value_type))

  @tensorflow_computation.tf_computation(value_type)
  def non_finite(value):
    flags = []
    for leaf in tensor_math.flatten(value):
      if leaf.dtype.is_floating:
        bad = tf.logical_not(tf.reduce_all(tf.math.is_finite(leaf)))
      else:
        bad = tf.constant(False)
      flags.append(tf.cast(bad, tf.int64))
    return tensor_math.pack(count_type, flags)

  return non_finite


class UnweightedReservoirSamplingFactory(factory.UnweightedAggregationFactory):
  """Creates processes that sample up to `sample_size` client values.

      initialize: ( -> <>@SERVER)
      next: (<<>@SERVER, {V}@CLIENTS> ->
             <state=<>@SERVER, result=V'@SERVER (or R@SERVER),
              measurements=N@SERVER>)

  `V'`, `R` and `N` are described in the module docstring: the samples (or
  the whole reservoir with `return_sampling_metadata`), and per leaf of `V`
  the number of clients with a non-finite value in it, counted before
  sampling. Its processes are `SampleAggregationProcess`es.
  """

  def __init__(self, sample_size: int, return_sampling_metadata: bool = False):
    """Creates the factory.

    Args:
      sample_size: The largest number of clients sampled, positive.
      return_sampling_metadata: Whether the result is the whole reservoir
        (`random_seed`, `random_values`, `samples`) or only the samples.

    Raises:
      TypeError: if an argument has the wrong type.
      ValueError: if `sample_size` is not positive.
    """
    if not isinstance(sample_size, (int, np.integer)) or isinstance(
        sample_size, bool):
      raise TypeError(f'Expected `sample_size` to be an int, found '
                      f'{type(sample_size).__name__}.')
    if not isinstance(return_sampling_metadata, bool):
      raise TypeError(f'Expected `return_sampling_metadata` to be a bool, '
                      f'found {type(return_sampling_metadata).__name__}.')
    if sample_size <= 0:
      raise ValueError('`sample_size` must be positive.')
    self._sample_size = int(sample_size)
    self._return_sampling_metadata = return_sampling_metadata

  def create(self, value_type: Any) -> SampleAggregationProcess:
    """Returns a process sampling values of `value_type`.

    Raises:
      TypeError: if `value_type` is not a structure of tensors.
    """
    value_type = check_sample_value_type(
        value_type, 'UnweightedReservoirSamplingFactory.create')
    non_finite = build_non_finite_count_fn(value_type)
    sample_size, with_metadata = (self._sample_size,
                                  self._return_sampling_metadata)

    @federated_computation.federated_computation
    def init_fn():
      return intrinsics.federated_value((), placements.SERVER)

    @federated_computation.federated_computation(
        init_fn.type_signature.result,
        computation_types.type_at_clients(value_type))
    def next_fn(state, value):
      counts = intrinsics.federated_sum(
          intrinsics.federated_map(non_finite, value))
      samples = aggregate_samples(value, value_type, sample_size,
                                   with_metadata)
      return measured_process.MeasuredProcessOutput(state, samples, counts)

    return SampleAggregationProcess(init_fn, next_fn)
