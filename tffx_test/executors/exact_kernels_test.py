import contextlib
import math

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.executors import exact_kernels


@contextlib.contextmanager
def _compiled_from_width(width):
  previous = exact_kernels.COMPILED_MIN_WIDTH
  exact_kernels.COMPILED_MIN_WIDTH = width
  try:
    yield
  finally:
    exact_kernels.COMPILED_MIN_WIDTH = previous


def _both_ways(function, *args):
  """(compiled result, NumPy result) of function(*args)."""
  with _compiled_from_width(1):
    compiled = function(*args)
  with _compiled_from_width(1 << 30):
    plain = function(*args)
  return compiled, plain


def _bits(values):
  return np.asarray(values, np.float64).view(np.uint64).tolist()


_SUBNORMAL = np.float32(1e-45)


class CompiledTest(absltest.TestCase):

  def test_compiled_way_is_available_with_numba_installed(self):
    # numba is a dependency: without it the compiled way's tests below
    # would run the NumPy way twice.
    self.assertIsNotNone(exact_kernels._compiled())

  def test_compiled_way_is_taken_for_wide_float32_values_only(self):
    wide = exact_kernels.COMPILED_MIN_WIDTH

    taken = [exact_kernels._kernels(np.zeros((1, width), dtype)) is not None
             for width, dtype in ((wide, np.float32), (wide - 1, np.float32),
                                  (wide, np.float16), (wide, np.float64))]

    self.assertEqual(taken, [True, False, False, False])


class MagnitudeBoundsTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('positive', [[0.5, 3.0], [2.0, 0.25]], 3.0, 0.25),
      ('negative', [[-0.5, -3.0]], 3.0, 0.5),
      ('mixed_signs', [[-7.0, 0.125], [1.0, 2.0]], 7.0, 0.125),
      ('zeros_left_out_of_the_floor', [[0.0, -0.0, 4.0, -2.0]], 4.0, 2.0),
      ('subnormal', [[_SUBNORMAL, 1.0]], 1.0, float(_SUBNORMAL)),
      ('all_zeros', [[0.0, -0.0]], 0.0, math.inf),
  )
  def test_compiled_bounds_are_the_magnitudes_extremes(
      self, values, ceiling, floor):
    flat = np.array(values, np.float32)

    with _compiled_from_width(1):
      bounds = exact_kernels.magnitude_bounds(flat)

    self.assertEqual(bounds, (ceiling, floor))

  @parameterized.named_parameters(
      ('positive', [[0.5, 3.0], [2.0, 0.25]]),
      ('negative', [[-0.5, -3.0]]),
      ('mixed_signs', [[-7.0, 0.125], [1.0, 2.0]]),
      ('with_zeros', [[0.0, 4.0, -2.0]]),
      ('all_zeros', [[0.0, -0.0]]),
  )
  def test_numpy_bounds_hold_and_share_the_ceiling(self, values):
    flat = np.array(values, np.float32)

    compiled, plain = _both_ways(exact_kernels.magnitude_bounds, flat)

    self.assertEqual(plain[0], compiled[0])
    self.assertLessEqual(plain[1], compiled[1])
    nonzero = np.abs(flat[flat != 0])
    self.assertTrue(np.all(nonzero >= plain[1]))

  @parameterized.named_parameters(
      ('inf', [[1.0, np.inf]], math.inf),
      ('minus_inf', [[-np.inf, 1.0]], math.inf),
      ('nan', [[1.0, np.nan]], math.nan),
      ('nan_and_inf', [[np.inf, np.nan]], math.nan),
  )
  def test_ceiling_is_not_finite_with_inf_or_nan(self, values, expected):
    flat = np.array(values, np.float32)

    for ceiling, _ in _both_ways(exact_kernels.magnitude_bounds, flat):
      if math.isnan(expected):
        self.assertTrue(math.isnan(ceiling))
      else:
        self.assertEqual(ceiling, expected)

  def test_bounds_of_wide_random_rows_match_numpy_extremes(self):
    rng = np.random.default_rng(0)
    flat = (rng.standard_normal((3, 70_000)) *
            10.0**rng.uniform(-30, 30, (3, 70_000))).astype(np.float32)
    flat[1, 5] = 0.0
    magnitudes = np.abs(flat)

    ceiling, floor = exact_kernels.magnitude_bounds(flat)

    self.assertGreaterEqual(flat.shape[1], exact_kernels.COMPILED_MIN_WIDTH)
    self.assertEqual(ceiling, magnitudes.max())
    self.assertEqual(floor, magnitudes[magnitudes > 0].min())


class AddRowsTest(parameterized.TestCase):

  @parameterized.parameters(1, 5)
  def test_add_rows_adds_each_row_in_float64(self, rows):
    rng = np.random.default_rng(1)
    flat = rng.standard_normal((rows, 9)).astype(np.float32)
    start = rng.standard_normal(9)

    totals = _both_ways(self._added, start, flat)

    expected = start + flat.astype(np.float64).sum(axis=0)
    for total in totals:
      np.testing.assert_allclose(total, expected, rtol=1e-15)
    # Integers of 24 bits sum exactly in float64 in any order.
    exact = rng.integers(-2**23, 2**23, (rows, 9)).astype(np.float32)
    compiled, plain = _both_ways(self._added, np.zeros(9), exact)
    self.assertEqual(_bits(compiled), _bits(plain))
    self.assertEqual(_bits(compiled),
                     _bits(exact.astype(np.int64).sum(axis=0)))

  def test_add_rows_keeps_the_sign_of_zero_as_ieee(self):
    flat = np.array([[-0.0, -0.0, 0.0], [-0.0, 0.0, -0.0]], np.float32)

    for total in _both_ways(self._added, np.full(3, -0.0), flat):
      self.assertEqual(np.signbit(total).tolist(), [True, False, False])

  @parameterized.named_parameters(
      ('too_large', 8.0, 1),
      ('off_the_grid', 3.0 * 2.0**-41, 1),
      ('just_below_the_floor', np.nextafter(np.float32(2.0**-17),
                                            np.float32(0)), 1),
      ('far_below_the_grid', 2.0**-100, 1),
      ('nan', np.nan, 1),
      ('inf', -np.inf, 1),
      ('on_the_grid_below_the_floor', 2.0**-30, None),
      ('at_the_floor', 2.0**-17, None),
      ('subnormal_on_a_fine_grid', 1e-45, None),
  )
  def test_add_fitting_stops_at_the_block_with_a_value_that_does_not_fit(
      self, value, stop_row):
    # Fits: |x| < 4 on the grid 2**-40 (2**-149 for subnormals); values of
    # 2**-17 (the floor) and more are on it.
    rng = np.random.default_rng(2)
    flat = rng.integers(-2**20, 2**20, (3, 2500)).astype(np.float32)
    flat *= np.float32(2.0**-20)
    flat[1, 2100] = value
    grid = -160 if value == np.float32(1e-45) else -40
    total = np.zeros(2500)

    with _compiled_from_width(1):
      stop = exact_kernels.add_fitting(total, flat, 4.0, grid)

    if stop_row is None:   # checked value by value, it fits
      self.assertEqual(stop, (3, 0))
      self.assertEqual(_bits(total), _bits(flat.astype(np.float64).sum(0)))
    else:   # the block of 1,024 holding it is not added, nor what follows
      self.assertEqual(stop, (stop_row, 2048))
      expected = flat[0].astype(np.float64)
      expected[:2048] += flat[1, :2048]
      self.assertEqual(_bits(total), _bits(expected))

  @parameterized.parameters((70_000, np.float16), (1000, np.float32))
  def test_add_fitting_is_none_where_not_compiled(self, width, dtype):
    total = np.zeros(width)

    result = exact_kernels.add_fitting(total, np.ones((2, width), dtype),
                                       4.0, -40)

    self.assertIsNone(result)
    self.assertFalse(total.any())

  def _added(self, start, flat):
    total = start.copy()
    exact_kernels.add_rows(total, flat)
    return total


if __name__ == '__main__':
  absltest.main()
