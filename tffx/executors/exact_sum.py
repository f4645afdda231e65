"""Exact, order-independent, mergeable sums of numpy arrays.

`ExactSum` accumulates client values element-wise and returns the exact sum
(or the exact sum divided by a count or by another exact sum) rounded ONCE
to the values' dtype, round-half-to-even. Because nothing is rounded before
the end, the result is bit-identical whatever the order of `add`s, the
grouping of values into `add_stacked` chunks, or the tree of `merge`s: a
thread pool, a chunked stream and remote workers sending partial sums all
get the same bits as a sequential loop.

    ExactSum(dtype, shape)
      .add(value) / .add_stacked(values)   accumulate (clients on axis 0)
      .merge(other)                         add another partial sum
      .to_array() / ExactSum.from_array()   a partial sum on the wire
      .result() / .mean(count) / .divide(denominator)   round once

How (floating dtypes: float16, bfloat16, float32, float64 and complex64/128
as pairs of floats): every finite float is an integer multiple of the
dtype's smallest subnormal, so the sum of any number of them is an integer
in that unit. It is kept as a fixed-point number in int64 limbs of 32 bits
(with 31 bits of carry headroom, normalized before they could overflow),
covering the dtype's whole exponent range; values are scattered into the
limbs with vectorized numpy (`np.add.at`), never with a loop per element.
A fast path adds chunks into a float64 accumulator while that is provably
exact (checked per chunk from the chunk's largest and smallest magnitudes;
see `_FastTier`), and spills it into the limbs when it would no longer be.
Rounding reads the top 64 bits of each element's fixed-point number plus a
sticky bit, so it is correct for ties, subnormals and overflow.

Guarantees:
  * `result()` is the exact sum rounded once to the dtype (round half to
    even; values beyond the largest finite become +-inf, as IEEE does).
  * `mean(count)` is the exact sum divided by `count`, rounded once.
  * `divide(d)` is the exact sum divided by the exact sum `d`, rounded once
    (`d` broadcasts: a scalar total of weights divides every element).
  * inf and nan propagate as IEEE addition would in any order: any nan, or
    +inf and -inf in the same element, gives nan; otherwise an inf input
    gives that inf. x / 0 follows IEEE (+-inf, or nan for 0 / 0).
  * Sign of zero: an exact sum of zero is -0.0 only if every value added to
    that element was -0.0 (as IEEE round-to-nearest addition gives in any
    order); otherwise +0.0. The empty sum is +0.0. A mean or quotient that
    rounds to zero keeps the sign of the exact quotient.
  * Integer dtypes sum as TensorFlow does: wrapping around in the dtype
    (the sum modulo 2**bits is order-independent). bool sums are logical
    or, like `np.add` on bools. `mean` and `divide` need floating dtypes.

Limits:
  * Not thread-safe: one accumulator per thread, then `merge`.
  * Up to 2**28 values per element between normalizations, and counts and
    chunks below 2**31 clients; `mean(count)` needs 0 < count < 2**31.
  * Memory: the limbs take 8 bytes per 32 bits of the dtype's range per
    element (float32: 11 limbs, 88 bytes per element; float64: 68 limbs),
    allocated only when a chunk leaves the fast path.
  * `divide` for float64 (and quotients a float64 bound cannot decide)
    falls back to exact Python integers, per element, so it is slower.

Not in this module: which aggregation uses it, and structures of tensors
(callers hold one `ExactSum` per tensor leaf).
"""

import math
from typing import List, Optional, Tuple

import ml_dtypes
import numpy as np

_LIMB_BITS = 32
_LIMB_MASK = (1 << _LIMB_BITS) - 1
# Normalize the limbs after this many values per element: each value adds
# less than 4 * 2**32 to a limb, so limbs stay below 2**62.
_MAX_ADDS_BETWEEN_NORMALIZATIONS = 1 << 28
# add() keeps small values and stacks them, so that many tiny adds cost one
# vectorized pass; values this large (elements) are added at once.
_PENDING_ELEMENTS = 1 << 16


class _Format:
  """The bit layout of a floating dtype, read through its unsigned view."""

  def __init__(self, dtype: np.dtype):
    info = ml_dtypes.finfo(dtype) if dtype == ml_dtypes.bfloat16 else (
        np.finfo(dtype))
    self.dtype = dtype
    self.bits = dtype.itemsize * 8
    self.uint = np.dtype(f'uint{self.bits}')
    self.mantissa_bits = int(info.nmant)          # stored, without implicit
    self.precision = self.mantissa_bits + 1
    self.exponent_bits = self.bits - 1 - self.mantissa_bits
    self.exponent_max_field = (1 << self.exponent_bits) - 1
    bias = (1 << (self.exponent_bits - 1)) - 1
    self.min_normal_exponent = 1 - bias
    # The unit of the fixed-point numbers: the smallest subnormal.
    self.base = self.min_normal_exponent - self.mantissa_bits
    # Top bit of the largest finite value, in units, plus count headroom.
    top = (self.exponent_max_field - 1) - 1 + self.precision
    self.num_limbs = -(-(top + 64) // _LIMB_BITS) + 1

  def decompose(self, values: np.ndarray):
    """Splits finite values into (sign, integer mantissa, position).

    value = sign * mantissa * 2**(position + base), mantissa < 2**53.
    """
    bits = values.view(self.uint).astype(np.uint64)
    negative = (bits >> np.uint64(self.bits - 1)).astype(bool)
    field = ((bits >> np.uint64(self.mantissa_bits)) &
             np.uint64(self.exponent_max_field)).astype(np.int64)
    mantissa = bits & np.uint64((1 << self.mantissa_bits) - 1)
    normal = field > 0
    mantissa |= normal.astype(np.uint64) << np.uint64(self.mantissa_bits)
    position = np.maximum(field - 1, 0)
    return negative, mantissa.astype(np.int64), position


_FORMATS = {}


def _format(dtype: np.dtype) -> _Format:
  if dtype not in _FORMATS:
    _FORMATS[dtype] = _Format(dtype)
  return _FORMATS[dtype]


def _is_floating(dtype: np.dtype) -> bool:
  return dtype.kind in 'fc' or dtype == ml_dtypes.bfloat16


class ExactSum:
  """The exact element-wise sum of arrays of one dtype and shape.

  Not thread-safe. See the module docstring for what it guarantees.
  """

  def __init__(self, dtype, shape):
    self._dtype = np.dtype(dtype)
    self._shape = tuple(int(d) for d in shape)
    self._size = math.prod(self._shape)
    self._pending: List[np.ndarray] = []
    self._pending_elements = 0
    self._floating = _is_floating(self._dtype)
    if self._dtype.kind == 'c':
      self._real_dtype = np.dtype(f'float{self._dtype.itemsize * 4}')
      self._width = 2 * self._size
    else:
      self._real_dtype = self._dtype
      self._width = self._size
    if self._floating:
      self._fmt = _format(self._real_dtype)
      self._limbs: Optional[np.ndarray] = None   # (num_limbs, width) int64
      self._adds = 0                             # since normalization
      self._nan = np.zeros(self._width, bool)
      self._pos_inf = np.zeros(self._width, bool)
      self._neg_inf = np.zeros(self._width, bool)
      self._not_neg_zero = np.zeros(self._width, bool)  # saw not -0.0
      self._any = False
    elif self._dtype.kind in 'iu':
      acc = np.int64 if self._dtype.kind == 'i' else np.uint64
      self._total = np.zeros(self._width, acc)
    elif self._dtype.kind == 'b':
      self._total = np.zeros(self._width, bool)
    else:
      raise TypeError(f'ExactSum cannot sum values of dtype {self._dtype}.')

  @property
  def dtype(self) -> np.dtype:
    return self._dtype

  @property
  def shape(self) -> Tuple[int, ...]:
    return self._shape

  # -------------------------------------------------------------------------
  # Accumulating.

  def add(self, value: np.ndarray) -> None:
    """Adds one client's value (of this dtype and shape)."""
    value = np.asarray(value)
    if value.shape != self._shape:
      raise ValueError(f'Expected a value of shape {self._shape}, found '
                       f'{value.shape}.')
    if self._size >= _PENDING_ELEMENTS:
      self.add_stacked(value[np.newaxis])
      return
    self._pending.append(value)
    self._pending_elements += self._size
    if self._pending_elements >= _PENDING_ELEMENTS:
      self._flush()

  def add_stacked(self, values: np.ndarray) -> None:
    """Adds many clients' values at once; axis 0 indexes the clients."""
    values = np.asarray(values)
    if values.shape[1:] != self._shape:
      raise ValueError(f'Expected values of shape (clients, *{self._shape}), '
                       f'found {values.shape}.')
    if values.dtype != self._dtype:
      values = values.astype(self._dtype)
    flat = values.reshape(values.shape[0], self._size)
    if self._dtype.kind == 'c':
      flat = np.ascontiguousarray(flat).view(self._real_dtype)
    if not self._floating:
      self._add_integers(flat)
    elif flat.shape[0]:
      self._add_floats(flat)

  def merge(self, other: 'ExactSum') -> None:
    """Adds another partial sum of the same dtype and shape into this one."""
    if other._dtype != self._dtype or other._shape != self._shape:
      raise ValueError(
          f'Cannot merge a sum of {other._dtype}{list(other._shape)} into '
          f'one of {self._dtype}{list(self._shape)}.')
    other._flush()
    self._flush()
    if not self._floating:
      self._add_integer_totals(other._total)
      return
    self._nan |= other._nan
    self._pos_inf |= other._pos_inf
    self._neg_inf |= other._neg_inf
    self._not_neg_zero |= other._not_neg_zero
    self._any = self._any or other._any
    if other._limbs is not None:
      self._reserve(other._adds)
      self._ensure_limbs()
      self._limbs += other._limbs
      self._adds += other._adds

  # -------------------------------------------------------------------------
  # Results.

  def result(self) -> np.ndarray:
    """The exact sum, rounded once to the dtype."""
    self._flush()
    if not self._floating:
      return self._total.astype(self._dtype).reshape(self._shape)
    negative, magnitude = self._signed_magnitude()
    rounded = _round(self._fmt, magnitude, np.zeros(self._width, bool))
    rounded = np.where(negative, -rounded, rounded)
    zero_sign = self._negative_zero() & ~np.any(magnitude, axis=0)
    rounded = np.where(zero_sign, -0.0, rounded)
    return self._finish(rounded)

  def mean(self, count: int) -> np.ndarray:
    """The exact sum divided by `count`, rounded once to the dtype."""
    self._check_floating('mean')
    count = int(count)
    if not 0 < count < (1 << 31):
      raise ValueError(f'mean needs 0 < count < 2**31, found {count}.')
    self._flush()
    negative, magnitude = self._signed_magnitude()
    quotient, sticky = _divide_limbs(magnitude, count)
    # Two extra fractional limbs below the unit, so shift the scale down.
    rounded = _round(self._fmt, quotient, sticky, shift=-2 * _LIMB_BITS)
    rounded = np.where(negative, -rounded, rounded)
    zero_sign = self._negative_zero() & ~np.any(magnitude, axis=0)
    rounded = np.where(zero_sign, -0.0, rounded)
    return self._finish(rounded)

  def divide(self, denominator: 'ExactSum') -> np.ndarray:
    """This exact sum over another (same dtype), rounded once.

    `denominator`'s shape must broadcast to this one's (a scalar total of
    weights divides every element).
    """
    self._check_floating('divide')
    if denominator._dtype != self._dtype:
      raise ValueError(f'Cannot divide a sum of {self._dtype} by a sum of '
                       f'{denominator._dtype}.')
    self._flush()
    denominator._flush()
    num_neg, num = self._signed_magnitude()
    den_neg, den = denominator._signed_magnitude()
    shape = self._shape + ((2,) if self._dtype.kind == 'c' else ())
    den_shape = denominator._shape + (
        (2,) if self._dtype.kind == 'c' else ())
    if den_shape != shape:
      # A real denominator per element: broadcast its limbs and flags.
      if self._dtype.kind == 'c':
        raise ValueError('divide of complex sums needs equal shapes.')
      rows = den.shape[0]
      pad = (1,) * (len(self._shape) - len(den_shape))
      den = np.broadcast_to(den.reshape((rows,) + pad + den_shape),
                            (rows,) + self._shape).reshape(rows, -1)
      den_neg = np.broadcast_to(den_neg.reshape(den_shape),
                                self._shape).ravel()
      den_flags = [np.broadcast_to(f.reshape(den_shape), self._shape).ravel()
                   for f in denominator._special_flags()]
    else:
      den_flags = denominator._special_flags()
    quotient = _divide_magnitudes(self._fmt, num, den)
    quotient = np.where(num_neg != den_neg, -quotient, quotient)
    num_zero = ~np.any(num, axis=0)
    num_value = _representative(num_zero, num_neg, self._negative_zero())
    den_nan, den_pos_inf, den_neg_inf, den_negative_zero = den_flags
    den_zero = ~np.any(den, axis=0)
    den_value = _representative(den_zero, den_neg, den_negative_zero)
    num_special, num_special_value = _special_from_flags(
        self._nan, self._pos_inf, self._neg_inf)
    den_special, den_special_value = _special_from_flags(
        den_nan, den_pos_inf, den_neg_inf)
    with np.errstate(all='ignore'):
      # Where a side is zero or special, IEEE division of representatives
      # (+-0, +-1 for finite nonzero, +-inf, nan) gives the right answer.
      num_rep = np.where(num_special, num_special_value, num_value)
      den_rep = np.where(den_special, den_special_value, den_value)
      ieee = num_rep / den_rep
    exceptional = num_zero | den_zero | num_special | den_special
    return self._cast(np.where(exceptional, ieee, quotient))

  # -------------------------------------------------------------------------
  # The wire.

  def to_array(self) -> np.ndarray:
    """This partial sum as a plain int64 (or, for bool, uint8) array."""
    self._flush()
    if not self._floating:
      return self._total.view(np.int64) if self._total.dtype.kind == 'u' \
          else self._total.astype(np.int64)
    flags = (self._nan.astype(np.int64) | self._pos_inf.astype(np.int64) << 1
             | self._neg_inf.astype(np.int64) << 2
             | self._not_neg_zero.astype(np.int64) << 3
             | np.int64(self._any) << 4)
    if self._limbs is None:
      limbs = np.zeros((0, self._width), np.int64)
    else:
      limbs = self._limbs.copy()
      _normalize(limbs)
    return np.concatenate([flags[np.newaxis], limbs]).reshape(-1)

  @classmethod
  def from_array(cls, dtype, shape, array: np.ndarray) -> 'ExactSum':
    """The partial sum that `to_array` wrote."""
    result = cls(dtype, shape)
    array = np.asarray(array)
    if not result._floating:
      if result._total.dtype.kind == 'u':
        result._total = array.astype(np.int64).view(np.uint64).copy()
      else:
        result._total = array.astype(result._total.dtype)
      return result
    rows = array.reshape(-1, result._width) if result._width else (
        array.reshape(-1, 0))
    flags = rows[0]
    result._nan = (flags & 1).astype(bool)
    result._pos_inf = (flags & 2).astype(bool)
    result._neg_inf = (flags & 4).astype(bool)
    result._not_neg_zero = (flags & 8).astype(bool)
    result._any = bool((flags & 16).any())
    if rows.shape[0] > 1:
      result._limbs = rows[1:].astype(np.int64).copy()
      result._adds = 1
    return result

  # -------------------------------------------------------------------------
  # Internals.

  def _check_floating(self, what: str) -> None:
    if not self._floating:
      raise TypeError(f'{what} needs a floating-point dtype, found '
                      f'{self._dtype}.')

  def _flush(self) -> None:
    if self._pending:
      pending, self._pending = self._pending, []
      self._pending_elements = 0
      self.add_stacked(np.stack(pending))

  def _add_integers(self, flat: np.ndarray) -> None:
    if self._dtype.kind == 'b':
      self._total |= np.any(flat, axis=0)
    else:
      self._add_integer_totals(
          np.sum(flat, axis=0, dtype=self._total.dtype))

  def _add_integer_totals(self, totals: np.ndarray) -> None:
    if self._dtype.kind == 'b':
      self._total |= totals
    else:
      self._total += totals

  def _add_floats(self, flat: np.ndarray) -> None:
    fmt = self._fmt
    self._any = True
    self._not_neg_zero |= np.any(
        flat.view(fmt.uint) != fmt.uint.type(1 << (fmt.bits - 1)), axis=0)
    finite = np.isfinite(flat)
    if not finite.all():
      self._nan |= np.any(np.isnan(flat), axis=0)
      self._pos_inf |= np.any(flat == np.inf, axis=0)
      self._neg_inf |= np.any(flat == -np.inf, axis=0)
      flat = np.where(finite, flat, np.zeros((), flat.dtype))
    self._add_to_limbs(flat)

  def _add_to_limbs(self, flat: np.ndarray) -> None:
    count = flat.shape[0]
    for start in range(0, count, _MAX_ADDS_BETWEEN_NORMALIZATIONS):
      part = flat[start:start + _MAX_ADDS_BETWEEN_NORMALIZATIONS]
      self._reserve(part.shape[0])
      self._ensure_limbs()
      negative, mantissa, position = self._fmt.decompose(part)
      _scatter(self._limbs, negative, mantissa, position)
      self._adds += part.shape[0]

  def _reserve(self, adds: int) -> None:
    if self._limbs is not None and (
        self._adds + adds > _MAX_ADDS_BETWEEN_NORMALIZATIONS):
      _normalize(self._limbs)
      self._adds = 1

  def _ensure_limbs(self) -> None:
    if self._limbs is None:
      self._limbs = np.zeros((self._fmt.num_limbs, self._width), np.int64)

  def _signed_magnitude(self) -> Tuple[np.ndarray, np.ndarray]:
    """(negative, normalized limbs of |sum|) per element."""
    if self._limbs is None:
      return (np.zeros(self._width, bool),
              np.zeros((self._fmt.num_limbs, self._width), np.int64))
    limbs = self._limbs.copy()
    _normalize(limbs)
    negative = limbs[-1] < 0
    if negative.any():
      limbs[:, negative] = -limbs[:, negative]
      _normalize(limbs)
    return negative, limbs

  def _special_flags(self):
    return self._nan, self._pos_inf, self._neg_inf, self._negative_zero()

  def _negative_zero(self) -> np.ndarray:
    """Where a zero sum is -0.0: every value added there was -0.0."""
    return ~self._not_neg_zero & self._any

  def _finish(self, rounded: np.ndarray) -> np.ndarray:
    """Applies inf/nan inputs, casts to the dtype and reshapes."""
    special, value = _special_from_flags(self._nan, self._pos_inf,
                                         self._neg_inf)
    return self._cast(np.where(special, value, rounded))

  def _cast(self, values: np.ndarray) -> np.ndarray:
    """float64 values (exactly representable, or beyond range) to dtype."""
    with np.errstate(over='ignore'):
      values = values.astype(self._real_dtype)
    if self._dtype.kind == 'c':
      values = values.view(self._dtype)
    return values.reshape(self._shape)


def _representative(zero, negative, negative_zero) -> np.ndarray:
  """+-0.0 for zero sums, else +-1.0: stands for a finite sum in IEEE ops."""
  return np.where(zero, np.where(negative_zero, -0.0, 0.0),
                  np.where(negative, -1.0, 1.0))


def _special_from_flags(nan, pos_inf, neg_inf):
  """(is special, its IEEE sum: nan, +inf or -inf) per element."""
  value = np.where(pos_inf, np.inf, -np.inf)
  value = np.where(nan | (pos_inf & neg_inf), np.nan, value)
  return nan | pos_inf | neg_inf, value


def _scatter(limbs: np.ndarray, negative: np.ndarray, mantissa: np.ndarray,
             position: np.ndarray) -> None:
  """Adds sign * mantissa * 2**position (rows = clients) into the limbs."""
  width = limbs.shape[1]
  column = np.broadcast_to(np.arange(width), mantissa.shape)
  flat_limbs = limbs.reshape(-1)
  sign = np.where(negative, -1, 1)
  limb = position >> 5
  shift = position & 31
  nonzero = mantissa != 0
  for piece_index in range(2):
    piece = (mantissa >> (32 * piece_index)) & _LIMB_MASK
    keep = nonzero & (piece != 0)
    if not keep.any():
      continue
    shifted = piece[keep] << shift[keep]
    k = limb[keep] + piece_index
    col = column[keep]
    s = sign[keep]
    np.add.at(flat_limbs, k * width + col, s * (shifted & _LIMB_MASK))
    np.add.at(flat_limbs, (k + 1) * width + col, s * (shifted >> 32))


def _normalize(limbs: np.ndarray) -> None:
  """Carries so that every limb but the top is in [0, 2**32), in place."""
  for k in range(limbs.shape[0] - 1):
    carry = limbs[k] >> _LIMB_BITS
    if carry.any():
      limbs[k] -= carry << _LIMB_BITS
      limbs[k + 1] += carry


def _top_window(limbs: np.ndarray):
  """Each element's top 64 bits, the position of its top bit and a sticky bit.

  `limbs` are normalized and non-negative. For zero elements the window is 0.
  Returns (window uint64, top bit position int64, sticky bool).
  """
  num_limbs, width = limbs.shape
  nonzero = limbs != 0
  any_nonzero = nonzero.any(axis=0)
  high = num_limbs - 1 - np.argmax(nonzero[::-1], axis=0)
  low = np.argmax(nonzero, axis=0)
  cols = np.arange(width)

  def limb_at(k):
    return np.where(k >= 0, limbs[np.maximum(k, 0), cols],
                    0).astype(np.uint64)

  top = limb_at(high)
  bit_length = np.where(any_nonzero, _bit_length32(top), 1)
  l1, l2 = limb_at(high - 1), limb_at(high - 2)
  bl = bit_length.astype(np.uint64)
  window = ((top << (np.uint64(64) - bl)) | (l1 << (np.uint64(32) - bl)) |
            (l2 >> bl))
  sticky = ((l2 & ((np.uint64(1) << bl) - np.uint64(1))) != 0) | (
      low < high - 2)
  position = high * _LIMB_BITS + bit_length - 1
  return np.where(any_nonzero, window, 0), position, sticky & any_nonzero


def _bit_length32(values: np.ndarray) -> np.ndarray:
  """Bit length of uint64 values below 2**32 (0 for 0)."""
  # float64 holds 32-bit integers exactly, so frexp's exponent is exact.
  return np.frexp(values.astype(np.float64))[1].astype(np.int64)


def _round(fmt: _Format, limbs: np.ndarray, sticky: np.ndarray,
           shift: int = 0) -> np.ndarray:
  """Rounds non-negative fixed-point numbers to `fmt`, as float64 values.

  The numbers are `limbs` (normalized) in units of 2**(fmt.base + shift),
  plus a sticky bit for anything nonzero below them.
  """
  window, top, window_sticky = _top_window(limbs)
  sticky = sticky | window_sticky
  exponent = top + fmt.base + shift
  # The position (in units) of the last kept bit.
  last = np.maximum(exponent, fmt.min_normal_exponent) - fmt.mantissa_bits
  last_units = last - fmt.base - shift
  keep = top - last_units + 1     # bits kept from the window, <= precision
  keep_c = np.clip(keep, 0, 64).astype(np.uint64)
  one = np.uint64(1)
  kept = np.where(keep_c > 0, window >> (np.uint64(64) - np.maximum(
      keep_c, one)), np.uint64(0))
  kept = np.where(keep_c > 0, kept, np.uint64(0))
  round_shift = np.uint64(63) - np.minimum(keep_c, np.uint64(63))
  round_bit = (window >> round_shift) & one
  below = (window & ((one << round_shift) - one)) != 0
  round_bit = np.where(keep >= 0, round_bit, np.uint64(0))
  sticky = sticky | below | (keep < 0) & (window != 0)
  up = (round_bit == one) & (sticky | ((kept & one) == one))
  kept = kept + up.astype(np.uint64)
  with np.errstate(over='ignore'):
    return np.ldexp(kept.astype(np.float64), last.astype(np.int32))


def _divide_limbs(limbs: np.ndarray, divisor: int):
  """Long division of normalized limbs by a small integer.

  Returns the quotient with two extra fractional limbs (units shifted by
  -64 bits) and a sticky bit for a nonzero remainder.
  """
  num_limbs, width = limbs.shape
  quotient = np.zeros((num_limbs + 2, width), np.int64)
  remainder = np.zeros(width, np.int64)
  for k in range(num_limbs + 1, -1, -1):
    digit = limbs[k - 2] if k >= 2 else 0
    current = (remainder << _LIMB_BITS) | digit
    quotient[k] = current // divisor
    remainder = current % divisor
  return quotient, remainder != 0


def _limbs_to_ints(limbs: np.ndarray, columns: np.ndarray) -> List[int]:
  """Exact Python integers of normalized non-negative limbs, per column."""
  digits = np.ascontiguousarray(limbs[:, columns].T.astype('<u4'))
  return [int.from_bytes(row.tobytes(), 'little') for row in digits]


def _divide_magnitudes(fmt: _Format, num: np.ndarray,
                       den: np.ndarray) -> np.ndarray:
  """|num| / |den| rounded once to `fmt`, as float64 (den nonzero)."""
  width = num.shape[1]
  out = np.zeros(width, np.float64)
  undecided = np.ones(width, bool)
  if fmt.precision <= 26:
    # Bracket the quotient with float64 bounds; where both bounds round to
    # the same value of the dtype, so does the exact quotient.
    low_n, high_n = _float_bounds(fmt, num)
    low_d, high_d = _float_bounds(fmt, den)
    with np.errstate(all='ignore'):
      low = low_n / high_d * (1 - 2.0**-52)
      high = high_n / low_d * (1 + 2.0**-52)
      low_r = low.astype(fmt.dtype)
      high_r = high.astype(fmt.dtype)
    undecided = ~(low_r == high_r) | ~np.isfinite(low)
    out = np.where(undecided, 0.0, low_r.astype(np.float64))
  columns = np.flatnonzero(undecided & (den != 0).any(axis=0))
  if columns.size:
    nums = _limbs_to_ints(num, columns)
    dens = _limbs_to_ints(den, columns)
    out[columns] = [_round_fraction(fmt, n, d) for n, d in zip(nums, dens)]
  return out


def _float_bounds(fmt: _Format, limbs: np.ndarray):
  """float64 lower and upper bounds of normalized fixed-point numbers."""
  window, top, sticky = _top_window(limbs)
  head = (window >> np.uint64(11)).astype(np.float64)
  exact = ((window & np.uint64(0x7FF)) == 0) & ~sticky
  scale = (top - 52 + fmt.base).astype(np.int32)
  low = np.ldexp(head, scale)
  high = np.ldexp(head + np.where(exact, 0.0, 1.0), scale)
  return low, high


def _round_fraction(fmt: _Format, num: int, den: int) -> float:
  """num / den (positive integers) rounded once to `fmt`, as a float."""
  if num == 0:
    return 0.0
  # Scale so that the quotient has 64 bits, then round to odd: rounding
  # that to the dtype's precision (<= 53 bits, < 64 - 2) is then correct.
  shift = 64 - (num.bit_length() - den.bit_length()) + 1
  scaled = num << shift if shift >= 0 else num
  divisor = den if shift >= 0 else den << -shift
  quotient, remainder = divmod(scaled, divisor)
  quotient |= 1 if remainder else 0
  exponent = -shift   # value = quotient * 2**exponent
  top = quotient.bit_length() - 1 + exponent
  last = max(top, fmt.min_normal_exponent) - fmt.mantissa_bits
  drop = last - exponent
  if drop <= 0:
    kept, round_bit, sticky = quotient << -drop, 0, False
  else:
    kept = quotient >> drop
    round_bit = (quotient >> (drop - 1)) & 1
    sticky = (quotient & ((1 << (drop - 1)) - 1)) != 0
  if round_bit and (sticky or kept & 1):
    kept += 1
  try:
    return math.ldexp(kept, last)
  except OverflowError:
    return math.inf
