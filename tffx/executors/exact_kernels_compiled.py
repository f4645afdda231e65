"""numba kernels of `exact_kernels` over float32 values (C-contiguous).

Compiled on first use and kept in numba's disk cache (`__pycache__`, or
numba's user cache when that is not writable). Importing this module needs
numba; `exact_kernels` falls back to NumPy without it.
"""

import numba
import numpy as np

_MAGNITUDE_MASK = 0x7fffffff
# add_within checks this many values in cache before adding them.
_BLOCK = 1024


def _jit(function):
  # nogil: the thread pool's threads add their chunks in parallel.
  try:
    return numba.njit(nogil=True, cache=True)(function)
  except RuntimeError:   # no cache directory numba may write
    return numba.njit(nogil=True)(function)


@_jit
def bounds(bits):
  """(max |x|, least nonzero |x| - 1) as bits of a uint32 view of float32.

  The second is 0xffffffff if every x is zero.
  """
  high = np.uint32(0)
  low = np.uint32(0xffffffff)
  for i in range(bits.shape[0]):
    magnitude = bits[i] & np.uint32(_MAGNITUDE_MASK)
    high = max(high, magnitude)
    # Zeros wrap around to the largest uint32 and drop out of the min.
    low = min(low, np.uint32(magnitude - np.uint32(1)))
  return high, low


@_jit
def _within(bits, ceiling, floor):
  """Every |x| < ceiling and every nonzero |x| >= floor (as bits)."""
  high, low = bounds(bits)
  return high < ceiling and (floor == 0 or low >= floor - 1)


@_jit
def _on_grid(bits, ceiling, grid):
  """Every |x| < ceiling and a multiple of 2**grid (one by one)."""
  for i in range(bits.shape[0]):
    magnitude = bits[i] & np.uint32(_MAGNITUDE_MASK)
    if magnitude >= ceiling:
      return False
    field = magnitude >> np.uint32(23)
    significand = magnitude & np.uint32(0x7fffff)
    if field:
      significand |= np.uint32(0x800000)
    # Bits of the significand below 2**grid (its unit: 2**(field - 150)).
    below = grid + 150 - max(np.int64(field), 1)
    if below >= 24:
      if significand:
        return False
    elif below > 0 and significand & ((np.uint32(1) << np.uint32(below)) -
                                      np.uint32(1)):
      return False
  return True


@_jit
def add_within(total, flat, ceiling, floor, grid):
  """total += rows of flat (float64) while every x fits; (rows, columns).

  Fits: |x| < ceiling, and x a multiple of 2**grid (every nonzero |x| >=
  floor is). Blocks are checked in cache, then added.
  """
  for r in range(flat.shape[0]):
    row = flat[r]
    bits = row.view(np.uint32)
    for start in range(0, row.shape[0], _BLOCK):
      stop = min(start + _BLOCK, row.shape[0])
      if not (_within(bits[start:stop], ceiling, floor) or
              _on_grid(bits[start:stop], ceiling, grid)):
        return r, start
      block, values = total[start:stop], row[start:stop]
      for i in range(block.shape[0]):
        block[i] += np.float64(values[i])
  return flat.shape[0], 0
