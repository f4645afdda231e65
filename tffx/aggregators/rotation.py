"""Random rotations before an inner aggregation: Hadamard and Fourier.

    {V}@CLIENTS --per tensor: flatten, pad, rotate--> {<float32[d'], ..>}@CLIENTS
        --inner (unweighted) aggregation--> SERVER --inverse rotation,
        unpad, reshape, cast back--> V@SERVER

A rotation spreads each vector's energy evenly over its coordinates, which
makes later quantization or modular clipping lose less (distributed DP,
compression). Both rotations are orthogonal and linear, so the inverse of a
sum of rotated values is the sum of the values. All clients use the same
random rotation in a round: its seed is in the state, `(inner state,
int64[2] seed)`, as in TFF; the seed's counter advances every round.

    HadamardTransformFactory:  pad to a power of 2; random signs, then the
        normalized fast Walsh-Hadamard transform (repeated `num_repeats`
        times with fresh randomness).
    DiscreteFourierTransformFactory: pad to an even size; the two halves
        as one complex vector; random unit phases, then the unitary DFT.

Measurements are `<hd=inner>` and `<dft=inner>`. Values may be integers or
floats; the inner aggregation sees float32 tensors, and integer results
are rounded back.
"""

import collections
import math
from typing import Any, Optional

import numpy as np
import tensorflow as tf

from tffx.aggregators import errors
from tffx.aggregators import factory
from tffx.aggregators import sum_factory
from tffx.aggregators import tensor_math
from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.templates import aggregation_process
from tffx.templates import measured_process
from tffx.types import computation_types
from tffx.types import placements

SEED_TYPE = computation_types.TensorType(np.int64, [2])
_FLOAT = tf.float32


def fast_walsh_hadamard_transform(x: tf.Tensor) -> tf.Tensor:
  """The orthonormal Walsh-Hadamard transform of a vector of 2**k elements.

  Its own inverse. `O(n log n)`: one butterfly step per power of 2.
  """
  n = int(x.shape[0])
  if n & (n - 1):
    raise ValueError(f'Expected a vector whose size is a power of 2, found '
                     f'{n}.')
  y, half = x, 1
  while half < n:
    pairs = tf.reshape(y, [-1, 2, half])
    first, second = pairs[:, 0, :], pairs[:, 1, :]
    y = tf.reshape(tf.stack([first + second, first - second], axis=1), [n])
    half *= 2
  return y / math.sqrt(n)


def _leaf_seed(global_seed: tf.Tensor, index: int) -> tf.Tensor:
  return tf.stack([global_seed[0], global_seed[1] + index])


def _rademacher(size: int, seed: tf.Tensor) -> tf.Tensor:
  bits = tf.random.stateless_uniform([size], seed, minval=0, maxval=2,
                                     dtype=tf.int32)
  return tf.cast(2 * bits - 1, _FLOAT)


def _phases(size: int, seed: tf.Tensor, inverse: bool) -> tf.Tensor:
  angle = tf.random.stateless_uniform([size], seed, maxval=2 * np.pi,
                                      dtype=_FLOAT)
  if inverse:
    angle = -angle
  return tf.complex(tf.cos(angle), tf.sin(angle))


class _Rotation:
  """One rotation kind: padded size and the forward and inverse maps."""

  name: str

  def padded_size(self, size: int) -> int:
    raise NotImplementedError

  def forward(self, x: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    raise NotImplementedError

  def inverse(self, y: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    raise NotImplementedError


class _Hadamard(_Rotation):
  name = 'hd'

  def padded_size(self, size):
    return 1 << max(size - 1, 0).bit_length()

  def forward(self, x, seed):
    return fast_walsh_hadamard_transform(x * _rademacher(x.shape[0], seed))

  def inverse(self, y, seed):
    return fast_walsh_hadamard_transform(y) * _rademacher(y.shape[0], seed)


class _Fourier(_Rotation):
  name = 'dft'

  def padded_size(self, size):
    return size + size % 2

  def forward(self, x, seed):
    half = x.shape[0] // 2
    z = tf.complex(x[:half], x[half:]) * _phases(half, seed, inverse=False)
    z = tf.signal.fft(z) / tf.complex(math.sqrt(half), 0.0)
    return tf.concat([tf.math.real(z), tf.math.imag(z)], axis=0)

  def inverse(self, y, seed):
    half = y.shape[0] // 2
    z = tf.complex(y[:half], y[half:]) * tf.complex(math.sqrt(half), 0.0)
    z = tf.signal.ifft(z) * _phases(half, seed, inverse=True)
    return tf.concat([tf.math.real(z), tf.math.imag(z)], axis=0)


def _check_num_repeats(num_repeats: Any) -> int:
  if not isinstance(num_repeats, int) or isinstance(
      num_repeats, bool) or num_repeats < 1:
    raise errors.ParameterValueError(
        f'`num_repeats` should be a positive integer. Found {num_repeats}.')
  return num_repeats


class _RotationFactory(factory.UnweightedAggregationFactory):
  """Shared by both rotation factories; `_rotation` says which."""

  _rotation: _Rotation

  def __init__(self,
               inner_agg_factory: Optional[
                   factory.UnweightedAggregationFactory] = None,
               num_repeats: int = 1):
    """Creates the factory.

    Args:
      inner_agg_factory: Aggregates the rotated float32 vectors; default
        `SumFactory()`.
      num_repeats: How many independent random rotations to compose.

    Raises:
      FactoryTypeError: if `inner_agg_factory` is not unweighted.
      ParameterValueError: if `num_repeats` is not a positive int.
    """
    owner = type(self).__name__
    if inner_agg_factory is None:
      inner_agg_factory = sum_factory.SumFactory()
    factory.check_factory(inner_agg_factory,
                          factory.UnweightedAggregationFactory,
                          'inner_agg_factory', owner)
    self._inner = inner_agg_factory
    self._num_repeats = _check_num_repeats(num_repeats)

  def create(self, value_type: Any) -> aggregation_process.AggregationProcess:
    """Returns the rotating process for `value_type`.

    Raises:
      UnsupportedValueTypeError: if `value_type` is not made of integer or
        float tensors of known shapes.
    """
    owner = f'{type(self).__name__}.create'
    value_type = factory.check_value_type(
        value_type, owner, factory.NUMERIC, 'rotations act on numbers.')
    leaves = list(factory.leaf_types(value_type))
    if any(t.shape is None or None in t.shape for t in leaves):
      raise errors.UnsupportedValueTypeError(
          f'{owner} expects tensors of known shapes; found {value_type}.')
    rotation, repeats = self._rotation, self._num_repeats
    sizes = [int(np.prod(t.shape, dtype=np.int64)) for t in leaves]
    padded = [rotation.padded_size(s) for s in sizes]
    rotated_type = computation_types.StructWithPythonType(
        [(None, computation_types.TensorType(np.float32, [p]))
         for p in padded], list)

    def seeds(global_seed, leaf):
      return [_leaf_seed(global_seed, leaf * repeats + r)
              for r in range(repeats)]

    @tensorflow_computation.tf_computation(value_type, SEED_TYPE)
    def client_transform(value, global_seed):
      rotated = []
      for i, tensor in enumerate(tensor_math.flatten(value)):
        x = tf.reshape(tf.cast(tensor, _FLOAT), [-1])
        x = tf.pad(x, [[0, padded[i] - sizes[i]]])
        for seed in seeds(global_seed, i):
          x = rotation.forward(x, seed)
        rotated.append(x)
      return rotated

    inner = self._inner.create(rotated_type)

    @tensorflow_computation.tf_computation(rotated_type, SEED_TYPE)
    def server_transform(rotated, global_seed):
      restored = []
      for i, (y, leaf) in enumerate(zip(tensor_math.flatten(rotated),
                                        leaves)):
        for seed in reversed(seeds(global_seed, i)):
          y = rotation.inverse(y, seed)
        y = tf.reshape(y[:sizes[i]], leaf.shape)
        dtype = tf.as_dtype(leaf.dtype)
        restored.append(tf.cast(tf.round(y) if dtype.is_integer else y,
                                dtype))
      return tensor_math.pack(value_type, restored)

    @tensorflow_computation.tf_computation
    def initial_seed():
      microseconds = tf.cast(tf.timestamp() * 1e6, tf.int64)
      return tf.stack([microseconds, tf.constant(0, tf.int64)])

    stride = repeats * len(leaves)
    next_seed = tensorflow_computation.tf_computation(
        lambda s: tf.stack([s[0], s[1] + stride]), SEED_TYPE)

    @federated_computation.federated_computation
    def initialize_fn():
      return intrinsics.federated_zip(
          (inner.initialize(),
           intrinsics.federated_eval(initial_seed, placements.SERVER)))

    @federated_computation.federated_computation(
        initialize_fn.type_signature.result,
        computation_types.type_at_clients(value_type))
    def next_fn(state, value):
      inner_state, seed = state
      rotated = intrinsics.federated_map(
          client_transform, (value, intrinsics.federated_broadcast(seed)))
      output = inner.next(inner_state, rotated)
      result = intrinsics.federated_map(server_transform,
                                        (output.result, seed))
      return measured_process.MeasuredProcessOutput(
          state=intrinsics.federated_zip(
              (output.state, intrinsics.federated_map(next_seed, seed))),
          result=result,
          measurements=intrinsics.federated_zip(
              collections.OrderedDict([(rotation.name, output.measurements)
                                       ])))

    return aggregation_process.AggregationProcess(initialize_fn, next_fn)


class HadamardTransformFactory(_RotationFactory):
  """Randomized fast Walsh-Hadamard transform around an inner aggregation.

  Each tensor is flattened, zero-padded to the next power of 2, multiplied
  by random signs and transformed (`num_repeats` times); see the module
  docstring.
  """
  _rotation = _Hadamard()


class DiscreteFourierTransformFactory(_RotationFactory):
  """Randomized discrete Fourier transform around an inner aggregation.

  Each tensor is flattened, zero-padded to an even size, packed into a
  complex vector of half the size, multiplied by random unit phases and
  Fourier transformed (`num_repeats` times); see the module docstring.
  """
  _rotation = _Fourier()
