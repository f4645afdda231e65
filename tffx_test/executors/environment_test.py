from absl.testing import absltest

from tffx.executors import environment


class EnvironmentTest(absltest.TestCase):

  def test_lookup_finds_innermost_binding(self):
    env = environment.Environment().bind('a', 1).bind('b', 2).bind('a', 3)

    self.assertEqual(env.lookup('a'), 3)
    self.assertEqual(env.lookup('b'), 2)

  def test_bind_leaves_the_parent_unchanged(self):
    parent = environment.Environment().bind('a', 1)

    parent.bind('a', 2)

    self.assertEqual(parent.lookup('a'), 1)

  def test_lookup_raises_for_unbound_name(self):
    env = environment.Environment().bind('a', 1)

    with self.assertRaisesRegex(NameError, "'b'"):
      env.lookup('b')


if __name__ == '__main__':
  absltest.main()
