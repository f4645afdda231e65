import collections

from absl.testing import absltest
from absl.testing import parameterized

from tffx.simulation import sampling

_IDS = [f'client_{i:02d}' for i in range(20)]


class BuildUniformSamplingFnTest(parameterized.TestCase):

  def test_same_seed_and_round_give_same_sample_across_builds(self):
    run = sampling.build_uniform_sampling_fn(_IDS, random_seed=42)
    resumed_run = sampling.build_uniform_sampling_fn(list(_IDS), random_seed=42)

    run_samples = [run(r, 5) for r in range(10)]
    resumed_samples = [resumed_run(r, 5) for r in range(5, 10)]

    self.assertEqual(run_samples[5:], resumed_samples)

  def test_sample_does_not_depend_on_earlier_rounds(self):
    fresh = sampling.build_uniform_sampling_fn(_IDS, random_seed=3)
    used = sampling.build_uniform_sampling_fn(_IDS, random_seed=3)
    for r in range(7):
      used(r, 4)

    self.assertEqual(fresh(7, 4), used(7, 4))

  def test_rounds_give_different_samples(self):
    sample = sampling.build_uniform_sampling_fn(_IDS, random_seed=1)

    samples = {tuple(sample(r, 5)) for r in range(10)}

    self.assertGreater(len(samples), 5)

  def test_seeds_give_different_samples(self):
    first = sampling.build_uniform_sampling_fn(_IDS, random_seed=1)
    other = sampling.build_uniform_sampling_fn(_IDS, random_seed=2)

    self.assertNotEqual([first(r, 5) for r in range(3)],
                        [other(r, 5) for r in range(3)])

  def test_without_replacement_samples_are_distinct_elements(self):
    sample = sampling.build_uniform_sampling_fn(_IDS, random_seed=9)

    chosen = sample(4, 20)

    self.assertCountEqual(chosen, _IDS)

  def test_with_replacement_may_repeat_and_exceed_range(self):
    sample = sampling.build_uniform_sampling_fn(['a', 'b', 'c'], replace=True,
                                                random_seed=9)

    chosen = sample(0, 30)

    self.assertLen(chosen, 30)
    self.assertContainsSubset(set(chosen), {'a', 'b', 'c'})
    self.assertLess(len(set(chosen)), 30)

  def test_samples_are_uniform_over_many_rounds(self):
    sample = sampling.build_uniform_sampling_fn(['a', 'b', 'c', 'd'],
                                                random_seed=5)

    counts = collections.Counter(
        element for r in range(2000) for element in sample(r, 1))

    # 500 expected per element; the standard deviation is about 19.
    for element in 'abcd':
      self.assertBetween(counts[element], 420, 580)

  def test_sample_of_size_zero_is_empty(self):
    sample = sampling.build_uniform_sampling_fn(_IDS, random_seed=0)

    self.assertEqual(sample(0, 0), [])

  def test_none_seed_is_fixed_for_one_fn(self):
    sample = sampling.build_uniform_sampling_fn(_IDS)

    self.assertEqual(sample(3, 6), sample(3, 6))

  @parameterized.named_parameters(
      ('empty_range', [], 1, ValueError, 'non-empty sample_range'),
      ('negative_seed', _IDS, -1, ValueError, 'non-negative random_seed'),
      ('float_seed', _IDS, 1.5, TypeError, 'integer random_seed'),
      ('bool_seed', _IDS, True, TypeError, 'integer random_seed'),
  )
  def test_build_raises(self, sample_range, seed, error, message):

    with self.assertRaisesRegex(error, message):
      sampling.build_uniform_sampling_fn(sample_range, random_seed=seed)

  @parameterized.named_parameters(
      ('too_many_without_replacement', 0, 21, 'at most 20'),
      ('negative_size', 0, -1, 'non-negative size'),
      ('negative_round', -1, 2, 'non-negative round_num'),
  )
  def test_sample_raises_value_error(self, round_num, size, message):
    sample = sampling.build_uniform_sampling_fn(_IDS, random_seed=0)

    with self.assertRaisesRegex(ValueError, message):
      sample(round_num, size)


if __name__ == '__main__':
  absltest.main()
