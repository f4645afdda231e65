"""Fixed-point integers in int64 limbs: the exact tier of `exact_sum`.

A finite float is an integer multiple of its dtype's smallest subnormal
(`Format.base`), so sums of them are integers in that unit. Here they are
kept per element as int64 limbs of 32 bits (row k holds bits 32k..32k+31),
with 31 bits of headroom for carries:

    Format(dtype)                 the bit layout; decompose() splits values
    scatter(limbs, ...)           adds decomposed values into their limbs
    normalize(limbs)              carries, in place
    round_to(fmt, limbs, sticky)  non-negative limbs rounded once to fmt
    divide_limbs(limbs, n)        long division by a small integer
    divide_magnitudes(fmt, a, b)  a / b rounded once (long double bracket,
                                  exact Python integers near ties)

Rounding is to nearest, half to even, with IEEE's subnormals and overflow
to inf. Not here: signs of zero, inf and nan, and which values go to the
limbs (`exact_sum`).
"""

import functools
from typing import List, Tuple

import ml_dtypes
import numpy as np

LIMB_BITS = 32
_LIMB_MASK = (1 << LIMB_BITS) - 1
# Whether a long double has a 64-bit mantissa (x86): it holds products of
# up to 64 bits exactly.
LONG_DOUBLE_HAS_64_BITS = np.finfo(np.longdouble).nmant >= 63
# Dtypes that such a long double casts to with one rounding;
# `divide_magnitudes` brackets quotients with it.
_LONG_DOUBLE_CASTS = (np.dtype(np.float32), np.dtype(np.float64)) if (
    LONG_DOUBLE_HAS_64_BITS) else ()


class Format:
  """The bit layout of a floating dtype, read through its unsigned view."""

  def __init__(self, dtype: np.dtype):
    info = ml_dtypes.finfo(dtype)
    self.dtype = dtype
    self.bits = dtype.itemsize * 8
    self.uint = np.dtype(f'uint{self.bits}')
    self.mantissa_bits = int(info.nmant)          # stored, without implicit
    self.precision = self.mantissa_bits + 1
    self.exponent_field_max = (1 << (self.bits - 1 - self.mantissa_bits)) - 1
    self.min_normal_exponent = 2 - (self.exponent_field_max + 1) // 2
    # The unit of the fixed-point numbers: the smallest subnormal.
    self.base = self.min_normal_exponent - self.mantissa_bits
    # Limbs for the largest finite value times 2**64 values, plus a carry.
    top = self.exponent_field_max - 2 + self.precision
    self.num_limbs = -(-(top + 64) // LIMB_BITS) + 1
    self.has_fast_tier = self.precision <= 26
    # numpy casts float64 to these with one correct rounding.
    self.casts_exactly = dtype in (np.float16, np.float32, np.float64)

  def decompose(self, values: np.ndarray):
    """Finite values as sign, integer mantissa < 2**53 and position.

    value = (-1)**negative * mantissa * 2**(position + self.base).
    """
    bits = values.view(self.uint).astype(np.uint64)
    negative = (bits >> np.uint64(self.bits - 1)).astype(bool)
    field = ((bits >> np.uint64(self.mantissa_bits)) &
             np.uint64(self.exponent_field_max)).astype(np.int64)
    mantissa = bits & np.uint64((1 << self.mantissa_bits) - 1)
    mantissa |= (field > 0).astype(np.uint64) << np.uint64(self.mantissa_bits)
    return negative, mantissa.astype(np.int64), np.maximum(field - 1, 0)


@functools.lru_cache(maxsize=None)
def format_of(dtype: np.dtype) -> Format:
  return Format(dtype)


def limb_rows(position: np.ndarray) -> Tuple[int, int]:
  """The limbs that values at these (non-empty) positions can reach."""
  return int(position.min()) // LIMB_BITS, int(position.max()) // (
      LIMB_BITS) + 2


def union(a: Tuple[int, int], b: Tuple[int, int]) -> Tuple[int, int]:
  return min(a[0], b[0]), max(a[1], b[1])


def is_negative_zero(values: np.ndarray) -> np.ndarray:
  return (values == 0) & np.signbit(values)


def decompose_float64(values: np.ndarray, fmt: Format):
  """Like `fmt.decompose` for float64 multiples of 2**fmt.base."""
  float64 = format_of(np.dtype(np.float64))
  negative, mantissa, position = float64.decompose(values)
  position = position + (float64.base - fmt.base)
  # Below the unit, the mantissa's low bits are zero: shift them out.
  low = np.minimum(position, 0)
  return negative, mantissa >> -low, position - low


def scatter(limbs, negative, mantissa, position, columns) -> None:
  """Adds (-1)**negative * mantissa * 2**position into limbs[:, columns]."""
  width = limbs.shape[1]
  flat_limbs = limbs.reshape(-1)
  sign = np.where(negative, -1, 1)
  limb, shift = position >> 5, position & 31
  for piece_index in range(2 if mantissa.max(initial=0) >> 32 else 1):
    piece = (mantissa >> (LIMB_BITS * piece_index)) & _LIMB_MASK
    shifted = piece << shift                      # below 2**63
    index = (limb + piece_index) * width + columns
    np.add.at(flat_limbs, index, sign * (shifted & _LIMB_MASK))
    np.add.at(flat_limbs, index + width, sign * (shifted >> LIMB_BITS))


def normalize(limbs: np.ndarray) -> None:
  """Carries so that every limb but the top is in [0, 2**32), in place."""
  for k in range(limbs.shape[0] - 1):
    carry = limbs[k] >> LIMB_BITS
    if carry.any():
      limbs[k] -= carry << LIMB_BITS
      limbs[k + 1] += carry


def _top_window(limbs: np.ndarray):
  """Each element's top 64 bits, the position of its top bit and a sticky bit.

  `limbs` are normalized and non-negative; zero elements give window 0.
  """
  num_limbs, width = limbs.shape
  nonzero = limbs != 0
  any_nonzero = nonzero.any(axis=0)
  high = num_limbs - 1 - np.argmax(nonzero[::-1], axis=0)
  low = np.argmax(nonzero, axis=0)
  columns = np.arange(width)

  def limb_at(k):
    return np.where(k >= 0, limbs[np.maximum(k, 0), columns],
                    0).astype(np.uint64)

  top = limb_at(high)
  # float64 holds 32-bit integers exactly, so frexp gives the bit length.
  bit_length = np.where(any_nonzero, np.frexp(top.astype(np.float64))[1], 1)
  bl = bit_length.astype(np.uint64)
  below, further = limb_at(high - 1), limb_at(high - 2)
  window = ((top << (np.uint64(64) - bl)) | (below << (np.uint64(32) - bl)) |
            (further >> bl))
  sticky = ((further & ((np.uint64(1) << bl) - np.uint64(1))) != 0) | (
      low < high - 2)
  position = high * LIMB_BITS + bit_length - 1
  return np.where(any_nonzero, window, 0), position, sticky & any_nonzero


def round_to(fmt: Format, limbs: np.ndarray, sticky: np.ndarray,
           shift: int = 0) -> np.ndarray:
  """Rounds non-negative fixed-point numbers to `fmt`, as float64 values.

  The numbers are normalized `limbs` in units of 2**(fmt.base + shift),
  plus a sticky bit for anything nonzero below them.
  """
  window, top, window_sticky = _top_window(limbs)
  exponent = top + fmt.base + shift
  # The exponent of the last kept bit, and how many bits are kept.
  last = np.maximum(exponent, fmt.min_normal_exponent) - fmt.mantissa_bits
  keep = exponent - last + 1
  one = np.uint64(1)
  keep_u = np.clip(keep, 0, 63).astype(np.uint64)
  kept = np.where(keep > 0, window >> (np.uint64(64) - np.maximum(keep_u, one)),
                  np.uint64(0))
  round_shift = np.uint64(63) - keep_u
  round_bit = np.where(keep >= 0, (window >> round_shift) & one, 0)
  below = np.where(keep >= 0, window & ((one << round_shift) - one), window)
  sticky = sticky | window_sticky | (below != 0)
  up = (round_bit == 1) & (sticky | ((kept & one) == one))
  with np.errstate(over='ignore'):
    return np.ldexp((kept + up).astype(np.float64), last.astype(np.int32))


def divide_limbs(limbs: np.ndarray, divisor: int):
  """Long division of normalized limbs by an integer below 2**31.

  Returns the quotient with two extra limbs below the unit, and a sticky bit
  for a nonzero remainder.
  """
  num_limbs, width = limbs.shape
  quotient = np.zeros((num_limbs + 2, width), np.int64)
  remainder = np.zeros(width, np.int64)
  for k in range(num_limbs + 1, -1, -1):
    current = (remainder << LIMB_BITS) | (limbs[k - 2] if k >= 2 else 0)
    quotient[k], remainder = np.divmod(current, divisor)
  return quotient, remainder != 0


def divide_magnitudes(fmt: Format, num: np.ndarray, den: np.ndarray,
                       shift: int) -> np.ndarray:
  """num / den * 2**shift rounded once to `fmt`, as float64.

  num and den are normalized limbs, nonzero.

  Brackets each quotient between long double bounds (64-bit windows of num
  and den); where both round to the same value of the dtype, so does the
  quotient. Elsewhere (near a tie), divides exact Python integers.
  """
  out = np.zeros(num.shape[1])
  undecided = np.ones(num.shape[1], bool)
  if fmt.dtype in _LONG_DOUBLE_CASTS:
    (n, n_top, n_sticky), (d, d_top, d_sticky) = map(_top_window, (num, den))
    n, d = n.astype(np.longdouble), d.astype(np.longdouble)
    slack = np.longdouble(2)**-61
    scale = (n_top - d_top + shift).astype(np.int32)
    with np.errstate(all='ignore'):
      low = np.ldexp(n / (d + d_sticky) * (1 - slack), scale).astype(fmt.dtype)
      high = np.ldexp((n + n_sticky) / d * (1 + slack), scale).astype(
          fmt.dtype)
    undecided = low != high
    out = low.astype(np.float64)
  columns = np.flatnonzero(undecided)
  if columns.size:
    out[columns] = _divide_integers(fmt, num[:, columns], den[:, columns],
                                    shift)
  return out


def _divide_integers(fmt: Format, num: np.ndarray, den: np.ndarray,
                     shift: int) -> np.ndarray:
  """Like `_divide_magnitudes`, with Python integers: microseconds each."""
  nums, dens = _limbs_to_ints(num), _limbs_to_ints(den)
  # Scale so that every quotient has 64 bits or more; the remainder is the
  # sticky bit. The quotient is in units of 2**(shift - scale).
  scale = 64 + max([0] + [d.bit_length() - n.bit_length()
                          for n, d in zip(nums, dens)])
  quotients = [divmod(n << scale, d) for n, d in zip(nums, dens)]
  size = max(q.bit_length() for q, _ in quotients) // LIMB_BITS + 1
  digits = b''.join(q.to_bytes(4 * size, 'little') for q, _ in quotients)
  limbs = np.frombuffer(digits, '<u4').reshape(-1, size).T.astype(np.int64)
  sticky = np.array([remainder != 0 for _, remainder in quotients])
  return round_to(fmt, limbs, sticky, shift - scale - fmt.base)


def _limbs_to_ints(limbs: np.ndarray) -> List[int]:
  """Python integers of normalized non-negative limbs, per column."""
  digits = np.ascontiguousarray(limbs.T.astype('<u4'))
  return [int.from_bytes(row.tobytes(), 'little') for row in digits]
