"""`EncodedSumFactory`: a sum of client values sent in a compressed encoding.

Each client encodes each tensor of its value; the server decodes every
client's encoding and sums the decoded values:

    {V}@CLIENTS --encode (per tensor)--> {E}@CLIENTS
                --federated_aggregate(decode, then add)--> V@SERVER

An encoder is chosen per tensor by `encoder_fn(tf.TensorSpec)`; `None`
sends that tensor unencoded. The one encoder here is
`UniformQuantizationEncoder` (stochastic uniform quantization between the
tensor's min and max, Suresh et al. 2017), which
`EncodedSumFactory.quantize_above_threshold` applies to the large float
tensors, as `tff.aggregators.EncodedSumFactory.quantize_above_threshold`
does. TFF's factory takes encoders of `tensorflow_model_optimization`; this
one takes tffx encoders (see docs/tff_differences.md). Codes travel as the
smallest unsigned integer dtype that holds them (uint8 up to 8 bits); codes
of fewer bits are not packed further. The process has no state and no
measurements.
"""

from typing import Any, Callable, List, Optional

import tensorflow as tf

from tffx.aggregators import errors
from tffx.aggregators import factory
from tffx.aggregators import sum_factory
from tffx.aggregators import tensor_math
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.templates import aggregation_process


class UniformQuantizationEncoder:
  """Stochastic uniform quantization of a float tensor to `bits` bits.

  A tensor `x` is sent as `(codes, low, high)`, `low = min(x)` and
  `high = max(x)`, with `codes` integers in `[0, 2**bits - 1]`: `x` scaled
  to that range and rounded up or down at random, with the probability that
  makes the decoded value unbiased. Decoding maps codes back linearly; each
  decoded element is within `(high - low) / (2**bits - 1)` of the original.
  """

  def __init__(self, bits: int):
    """Creates the encoder.

    Raises:
      ParameterTypeError: if `bits` is not an int.
      ParameterValueError: if `bits` is not in [1, 16].
    """
    if not isinstance(bits, int) or isinstance(bits, bool):
      raise errors.ParameterTypeError(
          f'UniformQuantizationEncoder expects `bits` to be an int; found '
          f'{type(bits).__name__}: {bits!r}.')
    if not 1 <= bits <= 16:
      raise errors.ParameterValueError(
          f'UniformQuantizationEncoder expects `bits` in [1, 16]; found '
          f'{bits}.')
    self.bits = bits
    self.code_dtype = tf.uint8 if bits <= 8 else tf.uint16

  @property
  def levels(self) -> int:
    return 2**self.bits - 1

  def encode(self, x: tf.Tensor):
    """Returns `(codes, low, high)` for the float tensor `x`."""
    low, high = tf.reduce_min(x), tf.reduce_max(x)
    scaled = tf.math.divide_no_nan(x - low, high - low) * self.levels
    noise = tf.random.uniform(tf.shape(x), dtype=x.dtype)
    codes = tf.clip_by_value(tf.floor(scaled + noise), 0.0, self.levels)
    return tf.cast(codes, self.code_dtype), low, high

  def decode(self, encoded, dtype: tf.DType) -> tf.Tensor:
    """Inverse of `encode`, up to the quantization error."""
    codes, low, high = encoded
    step = (high - low) / self.levels
    return tf.cast(codes, dtype) * step + low


EncoderFn = Callable[[tf.TensorSpec], Optional[UniformQuantizationEncoder]]


class EncodedSumFactory(factory.UnweightedAggregationFactory):
  """Creates processes that sum client values sent in encoded form.

      initialize: ( -> <>@SERVER)
      next: (<<>@SERVER, {V}@CLIENTS> ->
             <state=<>@SERVER, result=V@SERVER, measurements=<>@SERVER>)
  """

  def __init__(self, encoder_fn: EncoderFn):
    """Creates an `EncodedSumFactory`.

    Args:
      encoder_fn: Called with the `tf.TensorSpec` of each tensor of the
        value type; returns the encoder for it, or None to send it as is.

    Raises:
      ParameterTypeError: if `encoder_fn` is not callable.
    """
    if not callable(encoder_fn):
      raise errors.ParameterTypeError(
          f'EncodedSumFactory expects `encoder_fn` to be callable; found '
          f'{type(encoder_fn).__name__}: {encoder_fn!r}.')
    self._encoder_fn = encoder_fn

  @classmethod
  def quantize_above_threshold(cls,
                               quantization_bits: int = 8,
                               threshold: int = 20000,
                               **kwargs) -> 'EncodedSumFactory':
    """Quantizes float tensors of more than `threshold` elements.

    Smaller tensors, and integer tensors, are sent unencoded: compressing
    them saves little and costs accuracy (e.g. biases).

    Args:
      quantization_bits: Bits per quantized element, in [1, 16].
      threshold: Tensors with more elements than this are quantized.
      **kwargs: Accepted for TFF's signature; none is used (TFF passes them
        to `tensorflow_model_optimization`).

    Raises:
      ParameterTypeError, ParameterValueError: for invalid arguments.
    """
    del kwargs  # Options of TFF's encoders, which tffx does not have.
    encoder = UniformQuantizationEncoder(quantization_bits)
    if not isinstance(threshold, int) or threshold < 0:
      raise errors.ParameterValueError(
          f'EncodedSumFactory.quantize_above_threshold expects `threshold` '
          f'to be a non-negative int; found {threshold!r}.')

    def encoder_fn(spec: tf.TensorSpec):
      if spec.dtype.is_floating and spec.shape.num_elements() > threshold:
        return encoder
      return None

    return cls(encoder_fn)

  def _encoders(self, value_type) -> List[Optional[UniformQuantizationEncoder]]:
    encoders = []
    for leaf in factory.leaf_types(value_type):
      if leaf.shape is None or any(d is None for d in leaf.shape):
        raise errors.UnsupportedValueTypeError(
            f'EncodedSumFactory.create expects tensors of known shape; found '
            f'{leaf} in {value_type}.')
      spec = tf.TensorSpec(leaf.shape, tf.as_dtype(leaf.dtype))
      encoder = self._encoder_fn(spec)
      if encoder is not None and not spec.dtype.is_floating:
        raise errors.UnsupportedValueTypeError(
            f'EncodedSumFactory.create: the encoder for {leaf} quantizes '
            f'floats only. Tip: return None from `encoder_fn` for integer '
            f'tensors.')
      encoders.append(encoder)
    return encoders

  def create(self, value_type: Any) -> aggregation_process.AggregationProcess:
    """Returns a process summing values of `value_type`, sent encoded.

    Raises:
      UnsupportedValueTypeError: if `value_type` is not made of integer or
        floating-point tensors of known shapes, or an encoder is given for
        an integer tensor.
    """
    value_type = factory.check_value_type(
        value_type, 'EncodedSumFactory.create', factory.NUMERIC,
        'a sum needs numbers; strings, booleans and sequences cannot be '
        'summed.')
    encoders = self._encoders(value_type)
    leaves = list(factory.leaf_types(value_type))

    @tensorflow_computation.tf_computation(value_type)
    def encode(value):
      return [
          tensor if encoder is None else encoder.encode(tensor)
          for encoder, tensor in zip(encoders, tensor_math.flatten(value))
      ]

    encoded_type = encode.type_signature.result

    @tensorflow_computation.tf_computation
    def zero():
      return tensor_math.pack(value_type, [
          tf.zeros(leaf.shape, tf.as_dtype(leaf.dtype)) for leaf in leaves
      ])

    @tensorflow_computation.tf_computation(value_type, encoded_type)
    def accumulate(total, encoded):
      decoded = [
          part if encoder is None else encoder.decode(
              part, tf.as_dtype(leaf.dtype))
          for encoder, part, leaf in zip(encoders, encoded, leaves)
      ]
      return tensor_math.pack(value_type, [
          a + b for a, b in zip(tensor_math.flatten(total), decoded)
      ])

    @tensorflow_computation.tf_computation(value_type, value_type)
    def merge(a, b):
      return tensor_math.pack(value_type, [
          x + y
          for x, y in zip(tensor_math.flatten(a), tensor_math.flatten(b))
      ])

    @tensorflow_computation.tf_computation(value_type)
    def report(total):
      return total

    def aggregate(value):
      encoded = intrinsics.federated_map(encode, value)
      return intrinsics.federated_aggregate(encoded, zero(), accumulate,
                                            merge, report)

    return sum_factory.build_stateless_process(value_type, aggregate)
