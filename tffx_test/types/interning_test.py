"""Tests for interning: one shared instance per normalized key."""

import threading

from absl.testing import absltest

from tffx.types import interning


class _Pair(metaclass=interning.Interned):

  @classmethod
  def _normalize(cls, a, b=0):
    return (a, b)

  def _finish_init(self):
    object.__setattr__(self, 'total', self._key[0] + self._key[1])


class InternedTest(absltest.TestCase):

  def test_same_key_gives_same_instance(self):

    first = _Pair(1, 2)
    second = _Pair(1, b=2)

    self.assertIs(first, second)
    self.assertEqual(first.total, 3)

  def test_different_keys_give_different_instances(self):
    self.assertIsNot(_Pair(1), _Pair(2))

  def test_default_arguments_normalize_to_one_key(self):
    self.assertIs(_Pair(5), _Pair(5, 0))

  def test_concurrent_construction_gives_one_instance(self):
    results = []

    def build():
      results.append(_Pair(7, 7))

    threads = [threading.Thread(target=build) for _ in range(8)]
    for t in threads:
      t.start()
    for t in threads:
      t.join()

    self.assertLen({id(r) for r in results}, 1)


if __name__ == '__main__':
  absltest.main()
