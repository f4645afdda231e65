"""Per-round client sampling that is a pure function of (seed, round number).

    sample = build_uniform_sampling_fn(train_data.client_ids, random_seed=7)
    sample(round_num=12, size=10)   # the same 10 ids every time, in every run

Each round draws from its own random stream, keyed by the seed and the
round number, so the clients of round r do not depend on the rounds before
it: a run resumed from a checkpoint of round r - 1 samples exactly the
clients the uninterrupted run would have. Nothing needs saving but the
round number. This module only picks ids; it does not build datasets.
"""

from typing import Callable, List, Optional, Sequence, TypeVar

import numpy as np

T = TypeVar('T')


def build_uniform_sampling_fn(
    sample_range: Sequence[T],
    replace: bool = False,
    random_seed: Optional[int] = None) -> Callable[[int, int], List[T]]:
  """Returns `fn(round_num, size)` sampling `size` elements uniformly.

  As TensorFlow Federated's `tff.simulation.build_uniform_sampling_fn`
  (same arguments and result); the random numbers differ.

  Args:
    sample_range: The elements to sample from, e.g. client ids.
    replace: Whether an element may be drawn more than once in a round.
    random_seed: A non-negative integer; the samples of a round depend only
      on it and the round number. When None, a seed is drawn once from the
      operating system, so one `fn` is consistent with itself but another
      run (or a resumed one) samples differently.

  Returns:
    `fn(round_num: int, size: int) -> list`, which raises `ValueError` if
    `round_num` is negative, or if `size` is negative or, without
    replacement, larger than `len(sample_range)`.

  Raises:
    ValueError: if `sample_range` is empty or `random_seed` is negative.
    TypeError: if `random_seed` is not an integer.
  """
  elements = list(sample_range)
  if not elements:
    raise ValueError('Expected a non-empty sample_range, found none.')
  if random_seed is None:
    random_seed = int(np.random.SeedSequence().entropy)
  elif not isinstance(random_seed, (int, np.integer)) or isinstance(
      random_seed, bool):
    raise TypeError(f'Expected an integer random_seed, found '
                    f'{type(random_seed).__name__}.')
  elif random_seed < 0:
    raise ValueError(f'Expected a non-negative random_seed, found '
                     f'{random_seed}.')
  seed = int(random_seed)

  def sample(round_num: int, size: int) -> List[T]:
    if round_num < 0:
      raise ValueError(f'Expected a non-negative round_num, found '
                       f'{round_num}.')
    if size < 0:
      raise ValueError(f'Expected a non-negative size, found {size}.')
    if not replace and size > len(elements):
      raise ValueError(
          f'Expected a size of at most {len(elements)} (the number of '
          f'elements) when sampling without replacement, found {size}. Tip: '
          f'pass replace=True to draw elements more than once.')
    rng = np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(int(round_num),)))
    indices = rng.choice(len(elements), size=size, replace=replace)
    return [elements[i] for i in indices]

  return sample
