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
    2**(top + 10 - 53) sum exactly there. Once it is set up, wide float32
    values that fit it are added as they come (`exact_kernels.add_fitting`
    checks them, compiled); else the bounds of the chunk decide: only
    values below 2**(top - 20) can be off the grid, and only those are
    looked at.
  * Exact tier: per element, a fixed-point integer in int64 limbs of 32
    bits spanning the dtype's range, with 31 bits of carry headroom
    (`exact_limbs`). Off-grid values, float64 values, and the fast tier
    when a chunk outgrows its grid or count (a spill) go there, exactly.
Where only the fast tier holds values, `result` is one cast, and `mean` and
`divide` one float64 division and a cast, except on the rare quotients that
float64 rounds onto a midpoint of the dtype. Elsewhere rounding reads each
element's limbs (`exact_limbs`: long division by a count; quotients of two
sums bracketed in long double, exact Python integers near ties).

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
  * Speed: wide float32 values (`exact_kernels`, compiled) are checked
    and added in one pass: 100 rows of 100,000 take 2.2x a float32
    `np.add` loop; the NumPy way (narrower values, other dtypes, no
    numba) takes 3 passes (max, min, casting add), ~5x. Off-grid values
    and every float64 value go to the limbs at 30-50 ns each; a spill
    costs as much per element. Partials merge in one float64 add while
    their fast tiers fit the finer grid of the two (counts scaled to it
    stay within 2**10), else the merge spills.
  * Memory: limbs take 8 bytes per 32 bits of range per element (float32:
    11 limbs, 88 bytes; float64: 68 limbs, 544 bytes), allocated when a
    value first leaves the fast tier; `to_array` carries them then.

Not here: which aggregation uses it, and structures (one `ExactSum` per
tensor leaf).
"""

import math
from typing import List, Optional, Tuple

import ml_dtypes
import numpy as np

from tffx.executors import exact_kernels
from tffx.executors import exact_limbs

# Normalize the limbs after this many values per element: each adds less
# than 4 * 2**32 to a limb, so limbs stay below 2**62.
_MAX_ADDS = 1 << 28
# The fast tier holds up to 2**_FAST_BITS values per element between spills.
_FAST_BITS = 10
# add() stacks small values to add many at once; this many elements or
# more are added at once.
_PENDING_ELEMENTS = 1 << 16


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
      self._fmt = exact_limbs.format_of(self._real_dtype)
      self._limbs: Optional[np.ndarray] = None    # (num_limbs, width) int64
      self._limb_columns = np.zeros(self._width, bool)  # limbs used there
      self._limb_rows = (self._fmt.num_limbs, -1)       # rows used: low, high
      self._adds = 0                              # since normalized
      self._fast = np.full(self._width, -0.0)     # -0.0: IEEE's identity
      self._fast_top: Optional[int] = None        # all |x| < 2**top there
      self._fast_count = 0
      # What the tiers leave out, as an IEEE sum (order-independent): inf and
      # nan inputs, and the sign of zero of values not in the fast tier
      # (+0.0 once a value is not -0.0). -0.0 is the identity; None: all of
      # it is -0.0 still (`_specials()` makes it).
      self._special: Optional[np.ndarray] = None
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
    if other._special is not None:
      specials = self._specials()
      with np.errstate(invalid='ignore'):
        specials += other._special
    self._any = self._any or other._any
    if other._limbs is not None:
      if self._limbs is None:
        self._limbs = np.zeros_like(other._limbs)
      elif self._adds + other._adds > _MAX_ADDS:
        self._normalize()
      self._limbs += other._limbs
      self._adds += other._adds
      self._limb_columns |= other._limb_columns
      self._limb_rows = exact_limbs.union(self._limb_rows, other._limb_rows)
    if other._fast_count and not self._fast_count:
      self._fast = other._fast.copy()
      self._fast_top, self._fast_count = other._fast_top, other._fast_count
    elif other._fast_count:
      top = min(self._fast_top, other._fast_top)
      # Each tier is on its grid, 2**(its top + _FAST_BITS - 53), below
      # count * 2**(its top); on the finer grid, a count below
      # 2**_FAST_BITS for that top bounds the sum, so float64 adds exactly.
      count = sum(c << (t - top) for c, t in (
          (self._fast_count, self._fast_top),
          (other._fast_count, other._fast_top)))
      if count <= 1 << _FAST_BITS:
        self._fast += other._fast
        self._fast_top, self._fast_count = top, count
      else:
        self._spill(other._fast)

  def result(self) -> np.ndarray:
    """The exact sum, rounded once to the dtype."""
    self._flush()
    if not self._floating:
      return self._total.astype(self._dtype).reshape(self._shape)
    if (self._limbs is None and self._special is None and
        self._fmt.casts_exactly):
      # Only the fast tier: exact in float64, zeros signed as IEEE adds
      # them in any order; one cast rounds it once.
      return self._cast(self._fast if self._any else np.zeros(self._width))
    # Where the limbs are unused the fast tier is exact in float64, so
    # casting it rounds once (for the dtypes numpy casts exactly).
    out = self._fast.copy()
    zeros = np.flatnonzero(out == 0)
    out[zeros] = self._zero(zeros)
    columns = np.flatnonzero(self._limb_columns) if (
        self._fmt.casts_exactly) else np.arange(self._width)
    if columns.size:
      negative, magnitude, shift = self._exact(columns)
      rounded = exact_limbs.round_to(self._fmt, magnitude,
                                     np.zeros(columns.size, bool), shift)
      out[columns] = self._signed(rounded, negative, magnitude, columns)
    return self._finish(out)

  def mean(self, count: int) -> np.ndarray:
    """The exact sum divided by `count`, rounded once to the dtype."""
    self._check_floating('mean')
    count = int(count)
    if not 0 < count < (1 << 31):
      raise ValueError(f'mean needs 0 < count < 2**31, found {count}.')
    self._flush()
    out, undecided = self._fast_quotient(np.float64(count), False,
                                         count=True)
    columns = np.flatnonzero(undecided)
    if columns.size:
      negative, magnitude, shift = self._exact(columns)
      quotient, sticky = exact_limbs.divide_limbs(magnitude, count)
      # The quotient has two extra limbs below the unit.
      rounded = exact_limbs.round_to(self._fmt, quotient, sticky,
                                     shift - 2 * exact_limbs.LIMB_BITS)
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
    # Where either side summed an inf or a nan, the stand-ins decide.
    if den._special is not None:
      undecided |= den._special[den_index] != 0
    if self._special is not None:
      undecided |= self._special != 0
    columns = np.flatnonzero(undecided)
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
        quotient[regular] *= exact_limbs.divide_magnitudes(
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
    rows = [self._specials().view(np.int64), self._fast.view(np.int64)]
    if self._limbs is not None:
      limbs = self._limbs.copy()
      exact_limbs.normalize(limbs)
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
    fitted = None
    if (self._fast_top is not None and
        self._fast_count + flat.shape[0] <= 1 << _FAST_BITS):
      # Where the values fit the fast tier as it is (the usual case), the
      # compiled kernel checks and adds them in one pass. A row it stops
      # in has its added part replaced by -0.0 (IEEE's identity) and is
      # counted twice.
      fitted = exact_kernels.add_fitting(self._fast, flat,
                                         2.0**self._fast_top,
                                         self._fast_top + _FAST_BITS - 53)
    if fitted is not None:
      rows, columns = fitted
      self._fast_count += rows + (columns > 0)
      if rows == flat.shape[0]:
        return
      flat = flat[rows:]
      if columns:
        flat = flat.copy()
        flat[0, :columns] = -0.0
    ceiling, floor = exact_kernels.magnitude_bounds(flat)
    if not math.isfinite(ceiling):
      zero = np.zeros((), flat.dtype)
      finite = np.isfinite(flat)
      with np.errstate(invalid='ignore'):
        specials = self._specials()
        specials += np.add.reduce(np.where(finite, -zero, flat), axis=0,
                                       dtype=np.float64, initial=-0.0)
      flat = np.where(finite, flat, zero)
      ceiling, floor = exact_kernels.magnitude_bounds(flat)
    if not self._fmt.has_fast_tier:
      self._add_to_limbs(flat)
      return
    top = math.frexp(ceiling)[1]   # every |x| < 2**top
    if self._fast_top is None or top > self._fast_top:
      self._restart(top + 1)   # room for chunks a little larger
    elif self._fast_count + flat.shape[0] > 1 << _FAST_BITS:
      self._restart(self._fast_top)
    if flat.shape[0] > 1 << _FAST_BITS:
      for start in range(0, flat.shape[0], 1 << _FAST_BITS):
        self._add_floats(flat[start:start + (1 << _FAST_BITS)])
      return
    grid = self._fast_top + _FAST_BITS - 53
    off_grid = self._off_grid(flat, floor, grid)
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
    exact_kernels.add_rows(self._fast, flat)
    self._fast_count += flat.shape[0]
    if off_grid is not None:
      # Redo the touched columns exactly: the parts on the grid here, the
      # rest in the limbs.
      on_grid = np.rint(np.ldexp(values, -grid))
      part = flat[:, touched].astype(np.float64)
      part[rows, np.searchsorted(touched, columns)] = np.ldexp(on_grid, grid)
      self._fast[touched] = saved + np.add.reduce(part, axis=0,
                                                  initial=-0.0)
      self._to_limbs(*exact_limbs.decompose_float64(
          values - np.ldexp(on_grid, grid), self._fmt), columns, flat.shape[0])
      self._specials()[columns] += 0.0   # nonzero values: not all -0.0

  def _restart(self, top: int) -> None:
    """Spills the fast tier and restarts it for values below 2**top."""
    if self._fast_count:   # else it holds only -0.0, the identity
      self._spill(self._fast)
      self._fast = np.full(self._width, -0.0)
    self._fast_top, self._fast_count = top, 0

  def _off_grid(self, flat, floor: float, grid: int):
    """(rows, columns, float64 values) of `flat` not multiples of 2**grid.

    None if there are none. Only values below 2**(grid + precision - 1) can
    be off the grid, and often none are (every nonzero |x| >= floor).
    """
    if grid <= self._fmt.base:
      return None
    tiny = 2.0**(grid + self._fmt.precision - 1)
    if floor >= tiny:
      return None
    small = np.abs(flat) < tiny
    # flatnonzero: np.nonzero of a 2-D mask is ten times slower.
    rows, columns = np.divmod(np.flatnonzero(small), flat.shape[1])
    values = flat[rows, columns].astype(np.float64)
    off = np.rint(np.ldexp(values, -grid)) != np.ldexp(values, -grid)
    if not off.any():
      return None
    return rows[off], columns[off], values[off]

  def _add_to_limbs(self, flat: np.ndarray) -> None:
    fmt = self._fmt
    specials = self._specials()
    specials += np.where(np.any(
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
    specials = self._specials()
    specials += np.where(exact_limbs.is_negative_zero(fast), -0.0, 0.0)
    columns = np.flatnonzero(fast)
    if columns.size:
      self._to_limbs(*exact_limbs.decompose_float64(fast[columns], self._fmt),
                     columns, 1)

  def _to_limbs(self, negative, mantissa, position, columns, adds) -> None:
    """Scatters decomposed values into the limbs; `adds` values a column."""
    if self._limbs is None:
      self._limbs = np.zeros((self._fmt.num_limbs, self._width), np.int64)
    elif self._adds + adds > _MAX_ADDS:
      self._normalize()
    exact_limbs.scatter(self._limbs, negative, mantissa, position, columns)
    self._adds += adds
    self._limb_columns[columns] = True
    if position.size:
      self._limb_rows = exact_limbs.union(self._limb_rows,
                                          exact_limbs.limb_rows(position))

  def _normalize(self) -> None:
    exact_limbs.normalize(self._limbs)
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
    negative, mantissa, position = exact_limbs.decompose_float64(
        fast[nonzero], self._fmt)
    rows = self._limb_rows
    if position.size:
      rows = exact_limbs.union(rows, exact_limbs.limb_rows(position))
    # Two more limbs above, for carries and the sign.
    low, high = (rows[0], min(rows[1] + 2, self._fmt.num_limbs - 1)) if (
        rows[0] <= rows[1]) else (0, 0)
    limbs = np.zeros((high - low + 1, columns.size), np.int64)
    if self._limbs is not None:
      limbs += self._limbs[low:high + 1][:, columns]
    exact_limbs.scatter(limbs, negative, mantissa,
                        position - low * exact_limbs.LIMB_BITS, nonzero)
    exact_limbs.normalize(limbs)
    negative = limbs[-1] < 0
    if negative.any():
      limbs[:, negative] = -limbs[:, negative]
      exact_limbs.normalize(limbs)
    return negative, limbs, int(low) * exact_limbs.LIMB_BITS

  def _fast_quotient(self, denominator, den_limbs, count: bool = False):
    """This sum / `denominator` where float64 decides it; (out, undecided).

    Where neither sum uses limbs, both are exact float64 values, and IEEE
    division rounds their quotient once to float64. Rounding that to the
    dtype rounds the exact quotient correctly unless it sits exactly on a
    midpoint between two neighbours of the dtype (the dtype's midpoints are
    float64 values, so the exact quotient and its float64 rounding are on
    the same side of every other one). A midpoint is decided if it is the
    exact quotient (a tie, which the cast rounds to even): checked in a
    long double when the denominator is a `count` (a midpoint's 25 bits
    times 31 fit its 64). Other midpoints, zeros (the exact way knows the
    sign of zero), inf, nan and quotients below the dtype's normal range
    are left undecided.
    """
    fmt = self._fmt
    if not (fmt.has_fast_tier and fmt.casts_exactly):
      return np.zeros(self._width), np.ones(self._width, bool)
    with np.errstate(all='ignore'):
      quotient = self._fast / denominator
    dropped = 52 - fmt.mantissa_bits   # float64 bits below the dtype's
    low_bits = quotient.view(np.uint64) & np.uint64((1 << dropped) - 1)
    undecided = low_bits == np.uint64(1 << (dropped - 1))
    if count and exact_limbs.LONG_DOUBLE_HAS_64_BITS:
      midpoints = np.flatnonzero(undecided)
      tie = quotient[midpoints].astype(np.longdouble) * np.longdouble(
          denominator) == self._fast[midpoints]
      undecided[midpoints[tie]] = False
    undecided |= ~(np.abs(quotient) >= 2.0**fmt.min_normal_exponent)
    undecided |= np.isinf(quotient)
    if self._limbs is not None:
      undecided |= self._limb_columns
    undecided |= den_limbs
    return np.where(undecided, 0.0, quotient), undecided

  def _negative_zero(self, columns=slice(None)) -> np.ndarray:
    """Where a zero sum is -0.0: every value added there was -0.0."""
    special = True if self._special is None else (
        exact_limbs.is_negative_zero(self._special[columns]))
    return self._any & special & exact_limbs.is_negative_zero(
        self._fast[columns])

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
    special = self._specials()[columns]
    return np.where(special != 0, special, value), magnitude, shift

  def _finish(self, rounded: np.ndarray) -> np.ndarray:
    """Applies inf/nan inputs; casts and reshapes."""
    if self._special is None:
      return self._cast(rounded)
    return self._cast(np.where(self._special != 0, self._special, rounded))

  def _specials(self) -> np.ndarray:
    """The specials' IEEE sum, made (all -0.0) when first needed."""
    if self._special is None:
      self._special = np.full(self._width, -0.0)
    return self._special

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
