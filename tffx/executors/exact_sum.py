"""Exact, order-independent, mergeable sums of numpy arrays.

`ExactSum` adds client values element-wise and returns the exact sum, the
exact sum / a count, or the exact sum / another exact sum, rounded ONCE to
the values' dtype (half to even). Nothing is rounded before the end, so the
bits do not depend on the order of `add`s, the grouping into `add_stacked`
chunks or the tree of `merge`s (threads, chunks, workers, retries).

    ExactSum(dtype, shape)
      .add(value) / .add_stacked(values)   accumulate (clients on axis 0)
      .merge(other)                         add another partial sum
      .to_array() / ExactSum.from_array()   a partial sum on the wire (int64)
      .result() / .mean(count) / .divide(denominator)   round once

How: a finite float is an integer multiple of its dtype's smallest
subnormal, so a sum of them is an integer in that unit, kept in two tiers.
  * Fast tier (float32, float16, bfloat16): a float64 accumulator. With the
    chunks' magnitudes below 2**top, up to 2**10 values on the grid
    2**(top + 10 - 53) sum exactly there. A max and a min per chunk decide
    it; only values below 2**(top - 20) can be off the grid, and only those
    are looked at.
  * Exact tier: per element, a fixed-point integer in int64 limbs of 32
    bits spanning the dtype's range, with 31 bits of carry headroom,
    filled by vectorized scatters (`np.add.at`). Off-grid values, float64
    values, and the fast tier when a chunk outgrows its grid or count (a
    spill) go there, exactly.
Rounding reads each element's top 64 bits and a sticky bit; `mean` divides
the limbs by the count (long division); `divide` brackets each quotient in
float64 or long double and divides exact Python integers where the bracket
straddles a rounding boundary.

Guarantees:
  * Results are the exact value rounded once, half to even; beyond the
    largest finite value they are +-inf, as IEEE rounding gives. Values
    are first cast to the dtype.
  * inf and nan propagate as IEEE addition would in any order: a nan, or
    +inf and -inf in one element, give nan, else an inf gives that inf.
    Division by 0 or inf follows IEEE (x / 0 = +-inf, 0 / 0 = nan).
  * Sign of zero: an exact zero sum is -0.0 only if every value added to
    that element was -0.0 (what IEEE addition gives in any order), else
    +0.0; the empty sum is +0.0. A nonzero quotient that rounds to zero
    keeps its sign.
  * Integer dtypes wrap around in the dtype, like TensorFlow's sum (sums
    modulo 2**bits do not depend on order); bools sum as `np.add` does
    (logical or). `mean` and `divide` need floating (or complex) dtypes;
    a complex sum divides by a sum of its real dtype.

Limits:
  * Not thread-safe: one accumulator per thread, then `merge`.
  * `mean(count)` needs 0 < count < 2**31.
  * Speed: float32 in the fast tier costs 4 numpy passes per value (max,
    min, conversion to float64, float64 add): measured 3-4x a float32
    `np.add` loop over 100,000-element rows, most of it the conversion and
    the float64 add. Off-grid values and every float64 value go to the
    limbs at 30-50 ns each; a spill costs as much per element.
  * Memory: limbs take 8 bytes per 32 bits of range per element (float32:
    11 limbs, 88 bytes; float64: 68 limbs, 544 bytes), allocated when a
    value first leaves the fast tier; `to_array` carries them then.

Not here: which aggregation uses it, and structures (one `ExactSum` per
tensor leaf).
"""

import functools
import math
from typing import List, Optional, Tuple

import ml_dtypes
import numpy as np

_LIMB_BITS = 32
_LIMB_MASK = (1 << _LIMB_BITS) - 1
# Normalize the limbs after this many values per element: each adds less
# than 4 * 2**32 to a limb, so limbs stay below 2**62.
_MAX_ADDS = 1 << 28
# The fast tier holds up to 2**_FAST_BITS values per element between spills.
_FAST_BITS = 10
# add() stacks small values to add many at once; this many elements or
# more are added at once.
_PENDING_ELEMENTS = 1 << 16
# Chunks at least this wide are added to the fast tier row by row.
_ROW_LOOP_WIDTH = 4096
# Dtypes that a long double (64-bit mantissa, x86) casts to with one
# rounding; `divide` brackets quotients with it.
_LONG_DOUBLE_CASTS = (np.dtype(np.float32), np.dtype(np.float64)) if (
    np.finfo(np.longdouble).nmant >= 63) else ()


class _Format:
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
    self.num_limbs = -(-(top + 64) // _LIMB_BITS) + 1
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
def _format(dtype: np.dtype) -> _Format:
  return _Format(dtype)


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
    self._floating = self._dtype.kind in 'fc' or (
        self._dtype == ml_dtypes.bfloat16)
    complex_ = self._dtype.kind == 'c'
    self._real_dtype = np.dtype(f'float{self._dtype.itemsize * 4}') if (
        complex_) else self._dtype
    self._width = self._size * (2 if complex_ else 1)
    if self._floating:
      self._fmt = _format(self._real_dtype)
      self._limbs: Optional[np.ndarray] = None    # (num_limbs, width) int64
      self._limb_columns = np.zeros(self._width, bool)  # limbs used there
      self._limb_rows = (self._fmt.num_limbs, -1)       # rows used: low, high
      self._adds = 0                              # since normalized
      self._fast = np.full(self._width, -0.0)     # -0.0: IEEE's identity
      self._fast_top: Optional[int] = None        # all |x| < 2**top there
      self._fast_count = 0
      self._scratch: Optional[np.ndarray] = None  # float64, width
      # What the tiers leave out, as an IEEE sum (order-independent): inf and
      # nan inputs, and the sign of zero of values not in the fast tier
      # (+0.0 once a value is not -0.0). -0.0 is the identity.
      self._special = np.full(self._width, -0.0)
      self._any = False
    elif self._dtype.kind in 'iub':
      accumulator = {'i': np.int64, 'u': np.uint64, 'b': bool}
      self._total = np.zeros(self._width, accumulator[self._dtype.kind])
    else:
      raise TypeError(f'ExactSum cannot sum values of dtype {self._dtype}.')

  @property
  def dtype(self) -> np.dtype:
    return self._dtype

  @property
  def shape(self) -> Tuple[int, ...]:
    return self._shape

  def add(self, value: np.ndarray) -> None:
    """Adds one client's value (of this dtype and shape).

    Small values are kept (copied) and added many at once; the caller may
    reuse `value` afterwards.
    """
    array = np.asarray(value)
    if array.shape != self._shape:
      raise ValueError(f'Expected a value of shape {self._shape}, found '
                       f'{array.shape}.')
    if self._size >= _PENDING_ELEMENTS:
      self.add_stacked(array[np.newaxis])
      return
    # Scalars became new arrays; the caller's arrays are copied.
    self._pending.append(array.copy() if array is value else array)
    self._pending_elements += max(self._size, 1)
    if self._pending_elements >= _PENDING_ELEMENTS:
      self._flush()

  def add_stacked(self, values: np.ndarray) -> None:
    """Adds many clients' values at once; axis 0 indexes the clients."""
    values = np.asarray(values)
    if values.shape[1:] != self._shape:
      raise ValueError(f'Expected values of shape (clients, *{self._shape}), '
                       f'found {values.shape}.')
    if not values.size:
      return
    flat = values.astype(self._dtype, copy=False).reshape(
        values.shape[0], self._size)
    if self._dtype.kind == 'c':
      flat = np.ascontiguousarray(flat).view(self._real_dtype)
    if not self._floating:
      if self._dtype.kind == 'b':
        self._total |= np.any(flat, axis=0)
      else:
        self._total += np.sum(flat, axis=0, dtype=self._total.dtype)
    else:
      self._add_floats(flat)

  def merge(self, other: 'ExactSum') -> None:
    """Adds another partial sum of the same dtype and shape into this one."""
    if other._dtype != self._dtype or other._shape != self._shape:
      raise ValueError(
          f'Cannot merge a sum of {other._dtype}{list(other._shape)} into '
          f'one of {self._dtype}{list(self._shape)}.')
    other._flush()
    if not self._floating:
      if self._dtype.kind == 'b':
        self._total |= other._total
      else:
        self._total += other._total
      return
    with np.errstate(invalid='ignore'):
      self._special += other._special
    self._any = self._any or other._any
    if other._limbs is not None:
      if self._limbs is None:
        self._limbs = np.zeros_like(other._limbs)
      elif self._adds + other._adds > _MAX_ADDS:
        self._normalize()
      self._limbs += other._limbs
      self._adds += other._adds
      self._limb_columns |= other._limb_columns
      self._limb_rows = _union(self._limb_rows, other._limb_rows)
    if other._fast_count and not self._fast_count:
      self._fast = other._fast.copy()
      self._fast_top, self._fast_count = other._fast_top, other._fast_count
    elif other._fast_count:
      if other._fast_top == self._fast_top and (
          self._fast_count + other._fast_count <= 1 << _FAST_BITS):
        self._fast += other._fast   # same grid, within capacity: exact
        self._fast_count += other._fast_count
      else:
        self._spill(other._fast)

  def result(self) -> np.ndarray:
    """The exact sum, rounded once to the dtype."""
    self._flush()
    if not self._floating:
      return self._total.astype(self._dtype).reshape(self._shape)
    # Where the limbs are unused the fast tier is exact in float64, so
    # casting it rounds once (for the dtypes numpy casts exactly).
    out = self._fast.copy()
    zeros = np.flatnonzero(out == 0)
    out[zeros] = self._zero(zeros)
    columns = np.flatnonzero(self._limb_columns) if (
        self._fmt.casts_exactly) else np.arange(self._width)
    if columns.size:
      negative, magnitude, shift = self._exact(columns)
      rounded = _round(self._fmt, magnitude, np.zeros(columns.size, bool),
                       shift)
      out[columns] = self._signed(rounded, negative, magnitude, columns)
    return self._finish(out)

  def mean(self, count: int) -> np.ndarray:
    """The exact sum divided by `count`, rounded once to the dtype."""
    self._check_floating('mean')
    count = int(count)
    if not 0 < count < (1 << 31):
      raise ValueError(f'mean needs 0 < count < 2**31, found {count}.')
    self._flush()
    out, undecided = self._fast_quotient(np.float64(count), False)
    columns = np.flatnonzero(undecided)
    if columns.size:
      negative, magnitude, shift = self._exact(columns)
      quotient, sticky = _divide_limbs(magnitude, count)
      # The quotient has two extra limbs below the unit.
      rounded = _round(self._fmt, quotient, sticky, shift - 2 * _LIMB_BITS)
      out[columns] = self._signed(rounded, negative, magnitude, columns)
    return self._finish(out)

  def divide(self, denominator: 'ExactSum') -> np.ndarray:
    """This exact sum over the exact sum `denominator`, rounded once.

    `denominator` sums values of this dtype (of its real dtype if this one
    is complex); its shape broadcasts to this one (a scalar total of
    weights divides every element).
    """
    self._check_floating('divide')
    den = denominator
    if den._dtype != self._real_dtype:
      raise ValueError(f'Cannot divide a sum of {self._dtype} by a sum of '
                       f'{den._dtype}.')
    self._flush()
    den._flush()
    # For each of this sum's elements (real and imaginary parts), the
    # denominator's element.
    den_index = np.broadcast_to(np.arange(den._size).reshape(den._shape),
                                self._shape).ravel()
    den_index = np.repeat(den_index, self._width // max(self._size, 1))
    out, undecided = self._fast_quotient(den._fast[den_index],
                                         den._limb_columns[den_index])
    special = (den._special[den_index] != 0) | (self._special != 0)
    columns = np.flatnonzero(undecided | special)
    if columns.size:
      den_columns = den_index[columns]
      num_rep, num, num_shift = self._stand_in(columns)
      den_rep, den_magnitude, den_shift = den._stand_in(den_columns)
      # Where a side is zero, inf or nan, IEEE division of the stand-ins is
      # the answer; elsewhere it gives the sign of the exact quotient.
      with np.errstate(all='ignore'):
        quotient = num_rep / den_rep
      regular = np.flatnonzero((np.abs(num_rep) == 1) & (np.abs(den_rep) == 1))
      if regular.size:
        quotient[regular] *= _divide_magnitudes(
            self._fmt, num[:, regular], den_magnitude[:, regular],
            num_shift - den_shift)
      out[columns] = quotient
    return self._cast(out)

  def to_array(self) -> np.ndarray:
    """This partial sum as one flat int64 array (see `from_array`).

    Layout: [fast top or -2**62, fast count, any value added], then rows of
    `width`: specials and fast tier (float64 bits), limbs (none, or
    num_limbs rows).
    """
    self._flush()
    if not self._floating:
      return self._total.astype(np.int64) if self._dtype.kind != 'u' else (
          self._total.view(np.int64).copy())
    top = -(1 << 62) if self._fast_top is None else self._fast_top
    rows = [self._special.view(np.int64), self._fast.view(np.int64)]
    if self._limbs is not None:
      limbs = self._limbs.copy()
      _normalize(limbs)
      rows.append(limbs.reshape(-1))
    header = np.array([top, self._fast_count, self._any], np.int64)
    return np.concatenate([header] + rows)

  @classmethod
  def from_array(cls, dtype, shape, array: np.ndarray) -> 'ExactSum':
    """The partial sum that `to_array` wrote."""
    total = cls(dtype, shape)
    array = np.asarray(array, np.int64)
    if not total._floating:
      total._total = array.view(np.uint64).copy() if total._dtype.kind == (
          'u') else array.astype(total._total.dtype)
      return total
    top, total._fast_count, total._any = (int(x) for x in array[:3])
    total._fast_top = None if top == -(1 << 62) else top
    rows = array[3:].reshape(-1, total._width) if total._width else (
        np.zeros((2, 0), np.int64))
    total._special, total._fast = (r.view(np.float64).copy() for r in rows[:2])
    if len(rows) > 2:
      total._limbs = rows[2:].copy()
      total._limb_columns = total._limbs.any(axis=0)
      used = np.flatnonzero(total._limbs.any(axis=1))
      total._limb_rows = (used[0], used[-1]) if used.size else (0, 0)
      total._adds = 1
    return total

  def _add_floats(self, flat: np.ndarray) -> None:
    self._any = True
    high, low = float(flat.max()), float(flat.min())   # nan if any is nan
    if not (math.isfinite(high) and math.isfinite(low)):
      zero = np.zeros((), flat.dtype)
      finite = np.isfinite(flat)
      with np.errstate(invalid='ignore'):
        self._special += np.add.reduce(np.where(finite, -zero, flat), axis=0,
                                       dtype=np.float64, initial=-0.0)
      flat = np.where(finite, flat, zero)
      high, low = float(flat.max()), float(flat.min())
    if not self._fmt.has_fast_tier:
      self._add_to_limbs(flat)
      return
    top = math.frexp(max(high, -low))[1]   # every |x| < 2**top
    if self._fast_top is None or top > self._fast_top:
      self._restart(top + 1)   # room for chunks a little larger
    elif self._fast_count + flat.shape[0] > 1 << _FAST_BITS:
      self._restart(self._fast_top)
    if flat.shape[0] > 1 << _FAST_BITS:
      for start in range(0, flat.shape[0], 1 << _FAST_BITS):
        self._add_floats(flat[start:start + (1 << _FAST_BITS)])
      return
    grid = self._fast_top + _FAST_BITS - 53
    off_grid = self._off_grid(flat, low, high, grid)
    if off_grid is not None and off_grid[0].size > flat.size // 8:
      if top + 1 < self._fast_top:   # a finer grid may take this chunk
        self._restart(top + 1)
        self._add_floats(flat)
      else:
        self._add_to_limbs(flat)
      return
    if off_grid is not None:
      rows, columns, values = off_grid
      touched = np.unique(columns)
      saved = self._fast[touched]
    if flat.shape[0] == 1 or self._width >= _ROW_LOOP_WIDTH:
      # Converting into a float64 buffer, then adding, is 3x faster than
      # np.add(float64, float32) or a float64 reduction over float32 rows.
      if self._scratch is None:
        self._scratch = np.empty(self._width)
      for row in flat:
        self._scratch[...] = row
        np.add(self._fast, self._scratch, out=self._fast)
    else:
      # initial=-0.0, IEEE's identity, keeps the sign of zero sums.
      self._fast += np.add.reduce(flat, axis=0, dtype=np.float64,
                                  initial=-0.0)
    self._fast_count += flat.shape[0]
    if off_grid is not None:
      # Redo the touched columns exactly: the parts on the grid here, the
      # rest in the limbs.
      on_grid = np.rint(np.ldexp(values, -grid))
      part = flat[:, touched].astype(np.float64)
      part[rows, np.searchsorted(touched, columns)] = np.ldexp(on_grid, grid)
      self._fast[touched] = saved + np.add.reduce(part, axis=0,
                                                  initial=-0.0)
      self._to_limbs(*_decompose_float64(values - np.ldexp(on_grid, grid),
                                         self._fmt), columns, flat.shape[0])
      self._special[columns] += 0.0   # nonzero values: not all -0.0

  def _restart(self, top: int) -> None:
    """Spills the fast tier and restarts it for values below 2**top."""
    self._spill(self._fast)
    self._fast = np.full(self._width, -0.0)
    self._fast_top, self._fast_count = top, 0

  def _off_grid(self, flat, low: float, high: float, grid: int):
    """(rows, columns, float64 values) of `flat` not multiples of 2**grid.

    None if there are none. Only values below 2**(grid + precision - 1) can
    be off the grid, and often none are.
    """
    if grid <= self._fmt.base:
      return None
    tiny = 2.0**(grid + self._fmt.precision - 1)
    if low >= tiny or high <= -tiny:
      return None
    small = flat < tiny if low >= 0 else (
        flat > -tiny if high <= 0 else np.abs(flat) < tiny)
    # flatnonzero: np.nonzero of a 2-D mask is ten times slower.
    rows, columns = np.divmod(np.flatnonzero(small), flat.shape[1])
    values = flat[rows, columns].astype(np.float64)
    off = np.rint(np.ldexp(values, -grid)) != np.ldexp(values, -grid)
    if not off.any():
      return None
    return rows[off], columns[off], values[off]

  def _add_to_limbs(self, flat: np.ndarray) -> None:
    fmt = self._fmt
    self._special += np.where(np.any(
        flat.view(fmt.uint) != fmt.uint.type(1 << (fmt.bits - 1)), axis=0),
                              0.0, -0.0)
    # Pieces of ~2**16 values keep the temporaries in cache.
    rows = max(1, min(_MAX_ADDS, (1 << 16) // max(self._width, 1)))
    for start in range(0, flat.shape[0], rows):
      part = flat[start:start + rows]
      columns = np.broadcast_to(np.arange(self._width), part.shape).ravel()
      self._to_limbs(*fmt.decompose(part.ravel()), columns, part.shape[0])

  def _spill(self, fast: np.ndarray) -> None:
    """Adds a fast-tier accumulator into the limbs (exactly)."""
    self._special += np.where(_is_negative_zero(fast), -0.0, 0.0)
    columns = np.flatnonzero(fast)
    if columns.size:
      self._to_limbs(*_decompose_float64(fast[columns], self._fmt), columns,
                     1)

  def _to_limbs(self, negative, mantissa, position, columns, adds) -> None:
    """Scatters decomposed values into the limbs; `adds` values a column."""
    if self._limbs is None:
      self._limbs = np.zeros((self._fmt.num_limbs, self._width), np.int64)
    elif self._adds + adds > _MAX_ADDS:
      self._normalize()
    _scatter(self._limbs, negative, mantissa, position, columns)
    self._adds += adds
    self._limb_columns[columns] = True
    if position.size:
      self._limb_rows = _union(self._limb_rows, _rows(position))

  def _normalize(self) -> None:
    _normalize(self._limbs)
    self._adds = 1
    # Carries of negative sums reach the top limb.
    self._limb_rows = (self._limb_rows[0], self._fmt.num_limbs - 1)

  def _exact(self, columns) -> Tuple[np.ndarray, np.ndarray, int]:
    """(negative, normalized limbs of |sum|, shift) for `columns`.

    Only the limbs in use are kept: the lowest is in units of
    2**(base + shift).
    """
    fast = self._fast[columns]
    nonzero = np.flatnonzero(fast)
    negative, mantissa, position = _decompose_float64(fast[nonzero], self._fmt)
    rows = self._limb_rows
    if position.size:
      rows = _union(rows, _rows(position))
    # Two more limbs above, for carries and the sign.
    low, high = (rows[0], min(rows[1] + 2, self._fmt.num_limbs - 1)) if (
        rows[0] <= rows[1]) else (0, 0)
    limbs = np.zeros((high - low + 1, columns.size), np.int64)
    if self._limbs is not None:
      limbs += self._limbs[low:high + 1][:, columns]
    _scatter(limbs, negative, mantissa, position - low * _LIMB_BITS, nonzero)
    _normalize(limbs)
    negative = limbs[-1] < 0
    if negative.any():
      limbs[:, negative] = -limbs[:, negative]
      _normalize(limbs)
    return negative, limbs, int(low) * _LIMB_BITS

  def _fast_quotient(self, denominator: np.ndarray, den_limbs):
    """This sum / `denominator` where float64 decides it; (out, undecided).

    Where neither sum uses limbs, both are exact float64 values, so the
    exact quotient is within one float64 of the rounded one: if both
    neighbours round to the same value of the dtype, so does the quotient.
    """
    if not (self._fmt.has_fast_tier and self._fmt.casts_exactly):
      return np.zeros(self._width), np.ones(self._width, bool)
    with np.errstate(all='ignore'):
      quotient = self._fast / denominator
      low = np.nextafter(quotient, -np.inf).astype(self._fmt.dtype)
      high = np.nextafter(quotient, np.inf).astype(self._fmt.dtype)
    # Zero sums go the exact way, which knows the sign of zero.
    undecided = (low != high) | ~np.isfinite(quotient) | (
        self._fast == 0) | self._limb_columns | den_limbs
    return np.where(undecided, 0.0, low.astype(np.float64)), undecided

  def _negative_zero(self, columns=slice(None)) -> np.ndarray:
    """Where a zero sum is -0.0: every value added there was -0.0."""
    return self._any & _is_negative_zero(self._special[columns]) & (
        _is_negative_zero(self._fast[columns]))

  def _zero(self, columns=slice(None)) -> np.ndarray:
    """The sign-correct zero where the exact sum is zero."""
    return np.where(self._negative_zero(columns), -0.0, 0.0)

  def _signed(self, rounded, negative, magnitude, columns=slice(None)):
    return np.where(magnitude.any(axis=0),
                    np.where(negative, -rounded, rounded), self._zero(columns))

  def _stand_in(self, columns):
    """(what IEEE division sees: nan, +-inf, +-0.0 or +-1.0, |sum| limbs)."""
    negative, magnitude, shift = self._exact(columns)
    value = np.where(magnitude.any(axis=0), np.where(negative, -1.0, 1.0),
                     self._zero(columns))
    special = self._special[columns]
    return np.where(special != 0, special, value), magnitude, shift

  def _finish(self, rounded: np.ndarray) -> np.ndarray:
    """Applies inf/nan inputs; casts and reshapes."""
    return self._cast(np.where(self._special != 0, self._special, rounded))

  def _cast(self, values: np.ndarray) -> np.ndarray:
    """float64 values (representable, or beyond the range) to the dtype."""
    with np.errstate(over='ignore'):
      values = values.astype(self._real_dtype)
    if self._dtype.kind == 'c':
      values = values.view(self._dtype)
    return values.reshape(self._shape)

  def _check_floating(self, what: str) -> None:
    if not self._floating:
      raise TypeError(f'{what} needs a floating-point dtype, found '
                      f'{self._dtype}.')

  def _flush(self) -> None:
    if self._pending:
      pending, self._pending = self._pending, []
      self._pending_elements = 0
      self.add_stacked(np.array(pending))   # 30x faster than np.stack


def _rows(position: np.ndarray) -> Tuple[int, int]:
  """The limbs that values at these (non-empty) positions can reach."""
  return int(position.min()) // _LIMB_BITS, int(position.max()) // (
      _LIMB_BITS) + 2


def _union(a: Tuple[int, int], b: Tuple[int, int]) -> Tuple[int, int]:
  return min(a[0], b[0]), max(a[1], b[1])


def _is_negative_zero(values: np.ndarray) -> np.ndarray:
  return (values == 0) & np.signbit(values)


def _decompose_float64(values: np.ndarray, fmt: _Format):
  """Like `fmt.decompose` for float64 multiples of 2**fmt.base."""
  float64 = _format(np.dtype(np.float64))
  negative, mantissa, position = float64.decompose(values)
  position = position + (float64.base - fmt.base)
  # Below the unit, the mantissa's low bits are zero: shift them out.
  low = np.minimum(position, 0)
  return negative, mantissa >> -low, position - low


def _scatter(limbs, negative, mantissa, position, columns) -> None:
  """Adds (-1)**negative * mantissa * 2**position into limbs[:, columns]."""
  width = limbs.shape[1]
  flat_limbs = limbs.reshape(-1)
  sign = np.where(negative, -1, 1)
  limb, shift = position >> 5, position & 31
  for piece_index in range(2 if mantissa.max(initial=0) >> 32 else 1):
    piece = (mantissa >> (_LIMB_BITS * piece_index)) & _LIMB_MASK
    shifted = piece << shift                      # below 2**63
    index = (limb + piece_index) * width + columns
    np.add.at(flat_limbs, index, sign * (shifted & _LIMB_MASK))
    np.add.at(flat_limbs, index + width, sign * (shifted >> _LIMB_BITS))


def _normalize(limbs: np.ndarray) -> None:
  """Carries so that every limb but the top is in [0, 2**32), in place."""
  for k in range(limbs.shape[0] - 1):
    carry = limbs[k] >> _LIMB_BITS
    if carry.any():
      limbs[k] -= carry << _LIMB_BITS
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
  position = high * _LIMB_BITS + bit_length - 1
  return np.where(any_nonzero, window, 0), position, sticky & any_nonzero


def _round(fmt: _Format, limbs: np.ndarray, sticky: np.ndarray,
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


def _divide_limbs(limbs: np.ndarray, divisor: int):
  """Long division of normalized limbs by an integer below 2**31.

  Returns the quotient with two extra limbs below the unit, and a sticky bit
  for a nonzero remainder.
  """
  num_limbs, width = limbs.shape
  quotient = np.zeros((num_limbs + 2, width), np.int64)
  remainder = np.zeros(width, np.int64)
  for k in range(num_limbs + 1, -1, -1):
    current = (remainder << _LIMB_BITS) | (limbs[k - 2] if k >= 2 else 0)
    quotient[k], remainder = np.divmod(current, divisor)
  return quotient, remainder != 0


def _divide_magnitudes(fmt: _Format, num: np.ndarray, den: np.ndarray,
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


def _divide_integers(fmt: _Format, num: np.ndarray, den: np.ndarray,
                     shift: int) -> np.ndarray:
  """Like `_divide_magnitudes`, with Python integers: microseconds each."""
  nums, dens = _limbs_to_ints(num), _limbs_to_ints(den)
  # Scale so that every quotient has 64 bits or more; the remainder is the
  # sticky bit. The quotient is in units of 2**(shift - scale).
  scale = 64 + max([0] + [d.bit_length() - n.bit_length()
                          for n, d in zip(nums, dens)])
  quotients = [divmod(n << scale, d) for n, d in zip(nums, dens)]
  size = max(q.bit_length() for q, _ in quotients) // _LIMB_BITS + 1
  digits = b''.join(q.to_bytes(4 * size, 'little') for q, _ in quotients)
  limbs = np.frombuffer(digits, '<u4').reshape(-1, size).T.astype(np.int64)
  sticky = np.array([remainder != 0 for _, remainder in quotients])
  return _round(fmt, limbs, sticky, shift - scale - fmt.base)


def _limbs_to_ints(limbs: np.ndarray) -> List[int]:
  """Python integers of normalized non-negative limbs, per column."""
  digits = np.ascontiguousarray(limbs.T.astype('<u4'))
  return [int.from_bytes(row.tobytes(), 'little') for row in digits]
