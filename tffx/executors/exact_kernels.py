"""The passes of `exact_sum`'s fast tier over the values it adds.

    magnitude_bounds(flat)   (ceiling, floor): every |x| <= ceiling (inf or
                             nan if one is), every nonzero |x| >= floor
    add_fitting(total, flat, ceiling, grid)
                             compiled: total (float64) += rows of flat while
                             they fit the fast tier (|x| < ceiling, on the
                             grid); None where not compiled
    add_rows(total, flat)    total (float64) += every row of flat

The fast tier adds float32 values into a float64 total where that is exact.
In NumPy, checking that they fit and adding them takes three passes per
value (a max, a min, and a float64 add that casts through a buffer): about
5x a float32 `np.add` loop. `exact_kernels_compiled` (numba) checks a block
of values in cache and adds it, in one pass: about 2x. Both ways give the
same bits: every add of the fast tier is exact, so neither the order nor
the way changes a total.

The compiled way is taken for float32 values of `COMPILED_MIN_WIDTH`
elements or more, where its one-time cost (importing numba, ~0.2 s, then
compiling once per machine into numba's disk cache) pays off; narrower
values, other dtypes, or a Python without numba take the NumPy way.
Not here: what the bounds decide (`exact_sum`).
"""

import functools
import logging
import math
from typing import Optional, Tuple

import numpy as np

# Values this wide (elements per client) are bounded and added compiled.
COMPILED_MIN_WIDTH = 1 << 16

# Without numba, values this wide are added row by row, narrower ones in one
# np.add.reduce.
ROW_LOOP_WIDTH = 4096


@functools.lru_cache(maxsize=None)
def _compiled():
  """The compiled kernels module, or None without numba."""
  try:
    # Imported on first use: numba takes ~0.2 s to import.
    from tffx.executors import exact_kernels_compiled  # pylint: disable=g-import-not-at-top
  except ImportError:
    logging.info('numba is not installed: exact float32 sums of wide values '
                 'take the NumPy way (about 2x slower).')
    return None
  return exact_kernels_compiled


def _kernels(flat: np.ndarray):
  if flat.dtype != np.float32 or flat.shape[-1] < COMPILED_MIN_WIDTH:
    return None
  return _compiled()


def magnitude_bounds(flat: np.ndarray) -> Tuple[float, float]:
  """(ceiling, floor) of the magnitudes of `flat` (2-D, float dtype).

  ceiling is max |x| (nan if some x is nan, else inf if some is +-inf);
  every nonzero |x| is >= floor (inf if all are zero).
  """
  kernels = _kernels(flat)
  if kernels is None:
    high, low = float(flat.max()), float(flat.min())   # nan if any is nan
    if math.isnan(high) or math.isnan(low):
      return math.nan, 0.0
    floor = low if low > 0 else (-high if high < 0 else 0.0)
    if high == low == 0:
      floor = math.inf
    return max(high, -low), floor
  high_bits, low_bits = kernels.bounds(
      np.ascontiguousarray(flat).reshape(-1).view(np.uint32))
  if low_bits == 0xffffffff:   # all zeros
    return float(np.uint32(high_bits).view(np.float32)), math.inf
  ceiling, floor = np.array([high_bits, low_bits + 1],
                            np.uint32).view(np.float32)
  return float(ceiling), float(floor)


def add_fitting(total: np.ndarray, flat: np.ndarray, ceiling: float,
                grid: int) -> Optional[Tuple[int, int]]:
  """total += rows of flat while every |x| < ceiling and x on 2**grid.

  Compiled only: None where the compiled way is not taken (then nothing
  was added). Values that fit sum exactly in float64, in any order.
  Returns (rows, columns): flat[:rows] and flat[rows, :columns] were
  added, the rest was not (the kernel stops at the first block of 1,024
  values holding one that does not fit).
  """
  kernels = _kernels(flat)
  if kernels is None:
    return None
  # float32 values of at least 2**(grid + 23) are on the grid.
  rows, columns = kernels.add_within(
      total, np.ascontiguousarray(flat), _float32_bits(ceiling),
      _float32_bits(2.0**(grid + 23)), grid)
  return int(rows), int(columns)


def add_rows(total: np.ndarray, flat: np.ndarray) -> None:
  """total += flat[0] + flat[1] + ..., in float64, in place.

  The values must sum exactly in float64 (the fast tier's grid); then the
  result does not depend on how this adds them.
  """
  kernels = _kernels(flat)
  if kernels is not None:
    kernels.add_within(total, np.ascontiguousarray(flat), 0x7f800000, 0,
                       -(1 << 20))   # no limits: every finite value fits
  elif flat.shape[0] == 1 or flat.shape[1] >= ROW_LOOP_WIDTH:
    # Row by row, the float64 add casting each row as it reads it: one
    # pass, no float64 copy of the row (1.6x faster than converting into a
    # buffer, then adding; measured with numpy 2).
    for row in flat:
      np.add(total, row, out=total)
  else:
    # initial=-0.0, IEEE's identity, keeps the sign of zero sums.
    total += np.add.reduce(flat, axis=0, dtype=np.float64, initial=-0.0)


def _float32_bits(value: float) -> int:
  """The float32 bits of a power of two (0 below float32, inf above)."""
  if value >= 2.0**128:
    return 0x7f800000
  return int(np.array(value, np.float32).view(np.uint32)) if (
      value >= 2.0**-149) else 0
