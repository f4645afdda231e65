import contextlib
from fractions import Fraction

from absl.testing import absltest
from absl.testing import parameterized
import ml_dtypes
import numpy as np

from tffx.executors import exact_kernels
from tffx.executors import exact_sum
from tffx.executors.exact_sum import ExactSum


def _reference(exact: Fraction, dtype) -> np.generic:
  """`exact` rounded once to `dtype` (half to even), from first principles."""
  dtype = np.dtype(dtype)
  info = ml_dtypes.finfo(dtype)
  uint = np.dtype(f'uint{dtype.itemsize * 8}')
  half_ulp_of_largest = Fraction(2)**(int(info.maxexp) - int(info.nmant) - 2)
  sign = -1 if exact < 0 else 1
  if abs(exact) >= Fraction(float(info.max)) + half_ulp_of_largest:
    return dtype.type(sign * np.inf)
  guess = np.array(min(float(abs(exact)), float(info.max))).astype(dtype)
  bits = int(guess.view(uint))
  candidates = [np.array(b, uint).view(dtype) for b in (bits - 1, bits,
                                                        bits + 1) if b >= 0]
  candidates = [c for c in candidates if np.isfinite(c)]

  def key(c):
    return abs(Fraction(float(c)) - abs(exact)), int(c.view(uint)) & 1

  best = min(candidates, key=key)
  return dtype.type(-best if sign < 0 else best)


def _exact_sums(values: np.ndarray):
  """Per element (columns of a 2-D array), the exact rational sum."""
  return [sum((Fraction(float(v)) for v in values[:, j]), Fraction(0))
          for j in range(values.shape[1])]


def _wide_values(rng, dtype, clients=1000, size=8):
  """Mixed-sign values whose magnitudes span 1e-6..1e6."""
  signs = rng.choice([-1.0, 1.0], size=(clients, size))
  return (signs * 10.0**rng.uniform(-6, 6, size=(clients, size))).astype(
      dtype)


def _sum_in_pieces(rng, dtype, values: np.ndarray) -> np.ndarray:
  """Sums shuffled `values` over random chunks, adds and a merge tree."""
  order = rng.permutation(values.shape[0])
  shuffled = values[order]
  cuts = np.sort(rng.choice(np.arange(1, len(shuffled)), size=7,
                            replace=False))
  partials = []
  for chunk in np.split(shuffled, cuts):
    partial = ExactSum(dtype, values.shape[1:])
    if rng.random() < 0.5:
      partial.add_stacked(chunk)
    else:
      for value in chunk:
        partial.add(value)
    # Half of the partials travel over the wire.
    if rng.random() < 0.5:
      partial = ExactSum.from_array(dtype, values.shape[1:],
                                    partial.to_array())
    partials.append(partial)
  while len(partials) > 1:
    i = rng.integers(len(partials) - 1)
    partials[i].merge(partials.pop(i + 1))
  return partials[0]


def _bits(array: np.ndarray) -> bytes:
  return np.ascontiguousarray(array).tobytes()


class MeanTest(parameterized.TestCase):

  def test_mean_is_exact_for_ten_thousand_float32_clients(self):
    total = ExactSum(np.float32, ())

    for i in range(1, 10_001):
      total.add(np.float32(i))

    self.assertEqual(total.mean(10_000), np.float32(5000.5))

  def test_mean_is_exact_for_a_million_float32_clients(self):
    total = ExactSum(np.float32, ())

    for chunk in np.array_split(np.arange(1, 1_000_001, dtype=np.float32), 7):
      total.add_stacked(chunk)

    self.assertEqual(total.mean(1_000_000), np.float32(500000.5))

  @parameterized.parameters(np.float32, np.float64)
  def test_mean_matches_exact_quotient_for_wide_values(self, dtype):
    rng = np.random.default_rng(7)
    values = _wide_values(rng, dtype, clients=300)
    total = ExactSum(dtype, (8,))

    total.add_stacked(values)

    expected = [_reference(s / 300, dtype) for s in _exact_sums(values)]
    self.assertEqual(_bits(total.mean(300)), _bits(np.array(expected)))

  def test_mean_rounds_half_to_even(self):
    total = ExactSum(np.float32, (2,))

    # Sums 2**24 + 1 and 2**25 + 6, halved 2**23 + 0.5 and 2**24 + 3: all
    # ties between two float32s.
    total.add(np.array([2.0**24, 2.0**25], np.float32))
    total.add(np.array([1.0, 6.0], np.float32))

    np.testing.assert_array_equal(total.mean(1),
                                  np.array([2.0**24, 2.0**25 + 8.0]))
    np.testing.assert_array_equal(total.mean(2),
                                  np.array([2.0**23, 2.0**24 + 4.0]))

  def test_mean_of_subnormals_rounds_at_the_smallest_subnormal(self):
    tiny = np.float32(2.0**-149)
    total = ExactSum(np.float32, (2,))

    total.add(np.array([tiny, 3 * tiny], np.float32))

    # tiny / 2 ties to 0; 3 tiny / 2 = 1.5 tiny ties to 2 tiny.
    np.testing.assert_array_equal(total.mean(2),
                                  np.array([0.0, 2 * tiny], np.float32))

  def test_mean_refuses_count_zero(self):
    total = ExactSum(np.float32, ())

    with self.assertRaises(ValueError):
      total.mean(0)

  def test_mean_refuses_integer_dtypes(self):
    total = ExactSum(np.int32, ())

    with self.assertRaises(TypeError):
      total.mean(1)


# How the fast tier bounds and adds: compiled (numba), or NumPy row by row
# or in one reduce. (compiled from this width, NumPy row loop from this one)
_KERNEL_WAYS = ('compiled', 'numpy_rows', 'numpy_reduce')


@contextlib.contextmanager
def _kernel_way(way):
  widths = {'compiled': (1, 1 << 30), 'numpy_rows': (1 << 30, 1),
            'numpy_reduce': (1 << 30, 1 << 30)}[way]
  previous = exact_kernels.COMPILED_MIN_WIDTH, exact_kernels.ROW_LOOP_WIDTH
  exact_kernels.COMPILED_MIN_WIDTH, exact_kernels.ROW_LOOP_WIDTH = widths
  try:
    yield
  finally:
    exact_kernels.COMPILED_MIN_WIDTH, exact_kernels.ROW_LOOP_WIDTH = previous


def _scalar_sums_both_ways(inputs):
  """Float32 scalar sums of `inputs`: added at once, and one chunk each.

  Past the first chunk the fast tier is set up: the compiled way's fast
  path takes the rest.
  """
  totals = ExactSum(np.float32, ()), ExactSum(np.float32, ())
  for value in inputs:
    totals[0].add(np.float32(value))
    totals[1].add_stacked(np.array([value], np.float32))
  return totals


class SumTest(parameterized.TestCase):

  @parameterized.parameters(np.float32, np.float64)
  def test_result_matches_exact_sum_for_wide_values(self, dtype):
    rng = np.random.default_rng(1)
    values = _wide_values(rng, dtype)
    total = ExactSum(dtype, (8,))

    total.add_stacked(values)

    expected = [_reference(s, dtype) for s in _exact_sums(values)]
    self.assertEqual(_bits(total.result()), _bits(np.array(expected)))

  @parameterized.parameters(np.float32, np.float64)
  def test_result_is_bit_identical_for_orders_chunks_and_merges(self, dtype):
    rng = np.random.default_rng(2)
    values = _wide_values(rng, dtype)
    expected = np.array([_reference(s, dtype) for s in _exact_sums(values)])

    results = [_sum_in_pieces(rng, dtype, values).result()
               for _ in range(5)]

    for result in results:
      self.assertEqual(_bits(result), _bits(expected))

  def test_result_differs_from_a_float32_loop(self):
    rng = np.random.default_rng(3)
    values = _wide_values(rng, np.float32)
    total = ExactSum(np.float32, (8,))

    total.add_stacked(values)

    # Guards the test data: sequential float32 sums do round differently.
    loop = np.zeros(8, np.float32)
    for value in values:
      loop += value
    self.assertNotEqual(_bits(total.result()), _bits(loop))

  def test_result_rounds_ties_to_even_with_sticky_bits(self):
    total = ExactSum(np.float32, (3,))

    total.add(np.array([2.0**24, 2.0**24, 2.0**24], np.float32))
    total.add(np.array([1.0, 3.0, 1.0], np.float32))
    total.add(np.array([0.0, 0.0, 2.0**-20], np.float32))

    np.testing.assert_array_equal(
        total.result(), np.array([2.0**24, 2.0**24 + 4, 2.0**24 + 2]))

  @parameterized.parameters(np.float16, np.float32, np.float64)
  def test_result_sums_subnormals_exactly(self, dtype):
    tiny = np.array(np.finfo(dtype).smallest_subnormal, dtype)
    total = ExactSum(dtype, (2,))

    for _ in range(3):
      total.add(np.array([tiny, -tiny], dtype))

    np.testing.assert_array_equal(total.result(),
                                  np.array([3 * tiny, -3 * tiny], dtype))
    np.testing.assert_array_equal(total.mean(2),
                                  np.array([2 * tiny, -2 * tiny], dtype))

  def test_result_of_an_empty_shape_is_empty(self):
    total = ExactSum(np.float32, (0, 3))

    total.add(np.zeros((0, 3), np.float32))
    copy = ExactSum.from_array(np.float32, (0, 3), total.to_array())

    self.assertEqual(copy.result().shape, (0, 3))
    self.assertEqual(total.mean(1).shape, (0, 3))

  def test_result_crosses_into_normals_from_subnormals(self):
    smallest_normal = np.finfo(np.float32).tiny
    below = np.nextafter(smallest_normal, np.float32(0))
    total = ExactSum(np.float32, ())

    total.add(below)
    total.add(np.float32(2.0**-149))

    self.assertEqual(total.result(), smallest_normal)

  @parameterized.parameters(np.float32, np.float64)
  def test_result_overflows_to_inf_only_at_the_end(self, dtype):
    largest = np.finfo(dtype).max
    total = ExactSum(dtype, (3,))

    total.add(np.array([largest, largest, -largest], dtype))
    total.add(np.array([largest, largest, -largest], dtype))
    total.add(np.array([-largest, 0, 0], dtype))

    np.testing.assert_array_equal(total.result(),
                                  np.array([largest, np.inf, -np.inf], dtype))

  def test_result_overflows_on_a_tie_above_the_largest_float32(self):
    largest = np.finfo(np.float32).max
    half_ulp = np.float32(2.0**103)
    total = ExactSum(np.float32, (2,))

    total.add(np.array([largest, largest], np.float32))
    total.add(np.array([half_ulp, np.nextafter(half_ulp, np.float32(0))],
                       np.float32))

    np.testing.assert_array_equal(total.result(),
                                  np.array([np.inf, largest], np.float32))

  @parameterized.named_parameters(
      ('inf', [np.inf, 1.0], np.inf),
      ('minus_inf', [-np.inf, -np.inf, 5.0], -np.inf),
      ('inf_minus_inf', [np.inf, -np.inf], np.nan),
      ('nan', [1.0, np.nan], np.nan),
      ('nan_and_inf', [np.inf, np.nan], np.nan),
  )
  def test_result_propagates_inf_and_nan_as_ieee(self, inputs, expected):
    for way in _KERNEL_WAYS:
      with self.subTest(way=way), _kernel_way(way):
        totals = _scalar_sums_both_ways(inputs)

        for total in totals:
          np.testing.assert_array_equal(total.result(), np.float32(expected))

  def test_merge_propagates_inf_and_nan(self):
    left, right = ExactSum(np.float64, (2,)), ExactSum(np.float64, (2,))
    left.add(np.array([np.inf, np.nan]))
    right.add(np.array([-np.inf, 1.0]))

    left.merge(ExactSum.from_array(np.float64, (2,), right.to_array()))

    self.assertTrue(np.isnan(left.result()).all())

  @parameterized.named_parameters(
      ('all_negative_zeros', [-0.0, -0.0], True),
      ('mixed_zeros', [-0.0, 0.0], False),
      ('cancellation', [1.0, -1.0], False),
      ('cancellation_and_negative_zero', [-0.0, 1.0, -1.0], False),
  )
  def test_result_sign_of_zero_follows_ieee(self, inputs, negative):
    for way in _KERNEL_WAYS:
      with self.subTest(way=way), _kernel_way(way):
        totals = _scalar_sums_both_ways(inputs)

        for total in totals:
          self.assertEqual(total.result(), 0.0)
          self.assertEqual(bool(np.signbit(total.result())), negative)
          self.assertEqual(bool(np.signbit(total.mean(len(inputs)))),
                           negative)

  def test_result_sign_of_zero_survives_a_row_that_stops_fitting(self):
    # The compiled way adds the row's first block, then stops at 1e-12 (off
    # the grid); the rest of the row goes on with the added part as -0.0.
    values = np.full((2, 1100), 1.0, np.float32)
    values[:, 0] = -0.0
    values[1, 1050] = 1e-12

    with _kernel_way('compiled'):
      total = ExactSum(np.float32, (1100,))
      total.add_stacked(values[:1])
      total.add_stacked(values[1:])
      result = total.result()

    self.assertTrue(np.signbit(result[0]))
    self.assertEqual(result[1], 2.0)
    self.assertEqual(result[1050], np.float32(1.0 + 1e-12))

  def test_result_of_no_values_is_positive_zero(self):
    total = ExactSum(np.float32, (2,))

    result = total.result()

    np.testing.assert_array_equal(result, np.zeros(2, np.float32))
    self.assertFalse(np.signbit(result).any())

  def test_result_has_the_dtype_and_shape(self):
    total = ExactSum(np.float32, (2, 3))

    total.add(np.ones((2, 3), np.float32))

    self.assertEqual(total.result().dtype, np.float32)
    self.assertEqual(total.result().shape, (2, 3))

  @parameterized.parameters(np.float16, ml_dtypes.bfloat16)
  def test_result_rounds_once_for_small_floats(self, dtype):
    total = ExactSum(dtype, ())
    eps = float(ml_dtypes.finfo(dtype).eps)

    # 1 + eps/2 + eps/4: rounding after each add gives 1, once gives 1 + eps.
    for value in (1.0, eps / 2, eps / 4):
      total.add(np.array(value, dtype))

    self.assertEqual(float(total.result()), 1.0 + eps)
    self.assertEqual(total.result().dtype, np.dtype(dtype))

  def test_result_sums_complex_parts_exactly(self):
    total = ExactSum(np.complex64, (1,))

    for value in (complex(2.0**24, 0), complex(1, 2.0**24), complex(1, 1),
                  complex(0, 2.0**-20)):
      total.add(np.array([value], np.complex64))

    np.testing.assert_array_equal(
        total.result(), np.array([2.0**24 + 2 + (2.0**24 + 2) * 1j]))
    self.assertEqual(total.result().dtype, np.complex64)

  def test_add_does_not_keep_the_callers_array(self):
    total = ExactSum(np.float32, (2,))
    buffer = np.array([1.0, 2.0], np.float32)

    total.add(buffer)
    buffer[:] = 10.0
    total.add(buffer)

    np.testing.assert_array_equal(total.result(), [11.0, 12.0])

  def test_add_refuses_another_shape(self):
    total = ExactSum(np.float32, (3,))

    with self.assertRaises(ValueError):
      total.add(np.zeros(2, np.float32))

  def test_merge_refuses_another_dtype(self):
    total = ExactSum(np.float32, (3,))

    with self.assertRaises(ValueError):
      total.merge(ExactSum(np.float64, (3,)))


class TiersTest(parameterized.TestCase):
  """Data that exercises the fast tier, its spills and its off-grid values."""

  def _mixed_values(self, rng, clients, size):
    # Mostly values near 1, a few far smaller (off the fast tier's grid),
    # and a few clients a hundred times larger (the fast tier spills).
    values = rng.standard_normal((clients, size))
    values[rng.random((clients, size)) < 0.01] *= 1e-12
    values[rng.random(clients) < 0.02] *= 100.0
    return values.astype(np.float32)

  def _check(self, rng, values, way):
    expected = np.array([_reference(s, np.float32)
                         for s in _exact_sums(values)])
    with _kernel_way(way):
      results = [_sum_in_pieces(rng, np.float32, values) for _ in range(3)]
    for total in results:
      self.assertEqual(_bits(total.result()), _bits(expected))

  @parameterized.parameters(*_KERNEL_WAYS)
  def test_result_is_exact_across_spills_and_off_grid_values(self, way):
    rng = np.random.default_rng(8)

    values = self._mixed_values(rng, 3000, 5)

    self._check(rng, values, way)

  @parameterized.parameters('compiled', 'numpy_rows')
  def test_result_is_exact_for_wide_values_added_row_by_row(self, way):
    rng = np.random.default_rng(9)

    values = self._mixed_values(rng, 40, 5000)

    self._check(rng, values, way)

  @parameterized.parameters(*_KERNEL_WAYS)
  def test_result_is_exact_when_rows_stop_fitting_midway(self, way):
    # Rows of 3,000 values near 1 that stop fitting the fast tier part way
    # (past the compiled way's first blocks): an off-grid value, a value
    # too large for it, a nan, many tiny values, small values on its grid.
    rng = np.random.default_rng(12)
    values = rng.standard_normal((7, 3000)).astype(np.float32)
    values[1, 2500] = 1e-12
    values[2, 2100] = 3e4
    values[3, 2999] = np.nan
    values[4, 1500:] = rng.standard_normal(1500) * 1e-12
    values[5, 1100:1200] = 2.0**-30
    expected = np.array([_reference(s, np.float32)
                         for s in _exact_sums(np.nan_to_num(values))])
    expected[2999] = np.nan

    with _kernel_way(way):
      totals = [ExactSum(np.float32, (3000,)) for _ in range(2)]
      for row in values:
        totals[0].add_stacked(row[np.newaxis])
      totals[1].add_stacked(values)

    for total in totals:
      self.assertEqual(_bits(total.result()), _bits(expected))

  @parameterized.parameters(np.float32, np.float64)
  def test_result_is_exact_when_limbs_normalize_often(self, dtype):
    rng = np.random.default_rng(11)
    values = _wide_values(rng, dtype, clients=300, size=4)
    expected = np.array([_reference(s, dtype) for s in _exact_sums(values)])
    previous = exact_sum._MAX_ADDS
    exact_sum._MAX_ADDS = 2

    try:
      results = [_sum_in_pieces(rng, dtype, values).result()
                 for _ in range(3)]
    finally:
      exact_sum._MAX_ADDS = previous

    for result in results:
      self.assertEqual(_bits(result), _bits(expected))

  def test_result_is_exact_with_the_fast_tier_full(self):
    total = ExactSum(np.float32, ())
    big = np.full(1021, 2 - 2.0**-13, np.float32)

    # 0.75 sets the fast tier's grid; 1,021 values just below 2 fill it to
    # over 2**10; 2**-43 is below its grid, and decides a tie.
    total.add_stacked(np.array([0.75], np.float32))
    total.add_stacked(np.concatenate([big, [-2.0**-14, 2.0**-43]]).astype(
        np.float32))

    self.assertEqual(total.result(), np.float32(33466374 * 2.0**-14))

  @parameterized.parameters((1, 2), (1, 400), (1, 600), (600, 2))
  def test_merge_of_fast_tiers_with_other_tops_is_exact(self, large, small):
    # Values near 1,000 (a coarse grid) and values near 1 with a bit at
    # 2**-40 (only on the finer grid): the merged tier takes the finer
    # grid, or spills where the counts do not fit it.
    big = np.full((large, 2), 1000.0, np.float32)
    fine = np.full((small, 2), 1.0 + 2.0**-20, np.float32)
    fine[0] = [2.0**-40, -2.0**-40]
    values = np.concatenate([big, fine])
    expected = np.array([_reference(s, np.float32)
                         for s in _exact_sums(values)])
    results = []
    for first, second in ((big, fine), (fine, big)):
      total, other = ExactSum(np.float32, (2,)), ExactSum(np.float32, (2,))
      total.add_stacked(first)
      other.add_stacked(second)

      total.merge(other)

      results.append(total)
    for total in results:
      self.assertEqual(_bits(total.result()), _bits(expected))
    # 2**9 * large + small values fit a fast tier of 2**10: no limbs.
    fits = (large << 9) + small <= 1024
    self.assertEqual(results[0].to_array().size == 3 + 2 * 2, fits)

  def test_mean_is_exact_where_the_fast_tier_cannot_decide(self):
    total = ExactSum(np.float32, (3,))

    # Exact means 1 + 2**-24 (a tie), 1 + 3 * 2**-24 (a tie) and
    # 1 + 2**-24 + 2**-40 (just above a tie).
    total.add(np.array([1.0, 1.0, 1.0], np.float32))
    total.add(np.array([1.0 + 2.0**-23, 1.0 + 3 * 2.0**-23,
                        1.0 + 2.0**-23], np.float32))
    total.add(np.array([0.0, 0.0, 2.0**-39], np.float32))

    np.testing.assert_array_equal(
        total.mean(2),
        np.array([1.0, 1.0 + 2 * 2.0**-23, 1.0 + 2.0**-23], np.float32))


class RandomizedTest(parameterized.TestCase):
  """Every float dtype, every result, against exact rational arithmetic."""

  @parameterized.parameters(
      (np.float16, -4, 2), (ml_dtypes.bfloat16, -6, 6),
      (np.float32, -6, 6), (np.float64, -6, 6),
      (np.float32, -6, 6, 'compiled'), (np.float32, -6, 6, 'numpy_rows'))
  def test_results_are_exact_rounded_once(self, dtype, low, high,
                                          way='numpy_reduce'):
    with _kernel_way(way):
      self._check_results_are_exact_rounded_once(dtype, low, high)

  def _check_results_are_exact_rounded_once(self, dtype, low, high):
    rng = np.random.default_rng(10)
    clients = 200
    signs = rng.choice([-1.0, 1.0], size=(clients, 6))
    values = (signs * 10.0**rng.uniform(low, high, (clients, 6))).astype(dtype)
    weights = rng.integers(1, 9, size=clients).astype(dtype)
    weight_total = ExactSum(dtype, ())
    weight_total.add_stacked(weights)

    totals = [_sum_in_pieces(rng, dtype, values) for _ in range(2)]

    sums = _exact_sums(values)
    weight = sum(Fraction(float(w)) for w in weights)
    expected = {
        'result': [_reference(s, dtype) for s in sums],
        'mean': [_reference(s / clients, dtype) for s in sums],
        'divide': [_reference(s / weight, dtype) for s in sums],
    }
    for total in totals:
      actual = {'result': total.result(), 'mean': total.mean(clients),
                'divide': total.divide(weight_total)}
      for name, values_ in expected.items():
        self.assertEqual(_bits(actual[name]),
                         _bits(np.array(values_, dtype)), name)


class IntegerSumTest(parameterized.TestCase):

  @parameterized.parameters(np.int32, np.int64, np.uint8, np.uint64)
  def test_result_wraps_around_like_numpy(self, dtype):
    info = np.iinfo(dtype)
    values = np.array([[info.max, 3], [info.max, info.min], [7, 1]], dtype)
    total = ExactSum(dtype, (2,))

    total.add_stacked(values[:2])
    total.merge(ExactSum.from_array(dtype, (2,), _one(dtype, values[2])))

    expected = values[0] + values[1] + values[2]
    np.testing.assert_array_equal(total.result(), expected)
    self.assertEqual(total.result().dtype, np.dtype(dtype))

  def test_bool_sum_is_logical_or(self):
    total = ExactSum(np.bool_, (3,))

    total.add(np.array([True, False, False]))
    total.add(np.array([True, False, True]))

    np.testing.assert_array_equal(total.result(), [True, False, True])

  def test_unsupported_dtype_raises(self):
    with self.assertRaises(TypeError):
      ExactSum(np.str_, ())


def _one(dtype, value):
  total = ExactSum(dtype, value.shape)
  total.add(value)
  return total.to_array()


class DivideTest(parameterized.TestCase):

  @parameterized.parameters(np.float32, np.float64)
  def test_divide_matches_exact_weighted_mean(self, dtype):
    rng = np.random.default_rng(4)
    values = _wide_values(rng, dtype, clients=200, size=6)
    weights = rng.integers(1, 100, size=200).astype(dtype)
    numerator, denominator = ExactSum(dtype, (6,)), ExactSum(dtype, ())

    numerator.add_stacked(values * weights[:, np.newaxis])
    denominator.add_stacked(weights)

    sums = _exact_sums(values * weights[:, np.newaxis])
    weight = sum(Fraction(float(w)) for w in weights)
    expected = np.array([_reference(s / weight, dtype) for s in sums])
    self.assertEqual(_bits(numerator.divide(denominator)), _bits(expected))

  def test_divide_rounds_ties_to_even(self):
    numerator, denominator = ExactSum(np.float32, (2,)), ExactSum(
        np.float32, (2,))

    numerator.add(np.array([2.0**24, 2.0**24], np.float32))
    numerator.add(np.array([1.0, 3.0], np.float32))
    denominator.add(np.array([2.0, 2.0], np.float32))

    np.testing.assert_array_equal(
        numerator.divide(denominator),
        np.array([2.0**23, 2.0**23 + 2], np.float32))

  def test_divide_by_zero_and_inf_follows_ieee(self):
    numerator, denominator = ExactSum(np.float32, (4,)), ExactSum(
        np.float32, (4,))

    numerator.add(np.array([1.0, -1.0, 0.0, 1.0], np.float32))
    denominator.add(np.array([0.0, 0.0, 0.0, np.inf], np.float32))

    np.testing.assert_array_equal(
        numerator.divide(denominator),
        np.array([np.inf, -np.inf, np.nan, 0.0], np.float32))

  def test_divide_broadcasts_the_denominator(self):
    numerator, denominator = ExactSum(np.float32, (2, 3)), ExactSum(
        np.float32, (3,))

    numerator.add(np.arange(6, dtype=np.float32).reshape(2, 3))
    denominator.add(np.array([1.0, 2.0, 4.0], np.float32))

    np.testing.assert_array_equal(
        numerator.divide(denominator),
        np.array([[0.0, 0.5, 0.5], [3.0, 2.0, 1.25]], np.float32))

  def test_divide_of_complex_sums_by_real_weights(self):
    numerator, denominator = ExactSum(np.complex64, (1,)), ExactSum(
        np.float32, ())

    numerator.add(np.array([complex(1, 2.0**24)], np.complex64))
    numerator.add(np.array([complex(2, 1)], np.complex64))
    denominator.add(np.float32(2))

    np.testing.assert_array_equal(
        numerator.divide(denominator),
        np.array([complex(1.5, 2.0**23)], np.complex64))

  def test_divide_keeps_the_sign_of_a_quotient_that_underflows(self):
    numerator, denominator = ExactSum(np.float32, ()), ExactSum(
        np.float32, ())

    numerator.add(np.float32(-2.0**-149))
    denominator.add(np.float32(2.0**100))

    self.assertEqual(numerator.divide(denominator), 0.0)
    self.assertTrue(np.signbit(numerator.divide(denominator)))

  def test_divide_refuses_another_dtype(self):
    with self.assertRaises(ValueError):
      ExactSum(np.float32, ()).divide(ExactSum(np.float64, ()))


class WireTest(parameterized.TestCase):

  @parameterized.parameters(np.float32, np.float64, np.int32)
  def test_to_array_round_trips(self, dtype):
    rng = np.random.default_rng(5)
    values = (rng.standard_normal((20, 4)) * 1e3).astype(dtype)
    total = ExactSum(dtype, (4,))
    total.add_stacked(values)

    wire = total.to_array()
    copy = ExactSum.from_array(dtype, (4,), wire)

    self.assertIn(wire.dtype, (np.int64, np.float64))
    self.assertEqual(_bits(copy.result()), _bits(total.result()))

  def test_to_array_is_small_while_values_stay_in_the_fast_tier(self):
    total = ExactSum(np.float32, (1000,))

    for value in np.random.default_rng(6).random((20, 1000), np.float32):
      total.add(value)

    # A header, then the specials and the fast tier: no limbs.
    self.assertEqual(total.to_array().size, 3 + 2 * 1000)

if __name__ == '__main__':
  absltest.main()
