from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.program import errors
from tffx.program import program_state_manager


class _DictProgramStateManager(program_state_manager.ProgramStateManager):
  """Keeps states in a dict; versions in `corrupt` fail to load."""

  def __init__(self, states, corrupt=()):
    self._states = dict(states)
    self._corrupt = set(corrupt)

  def get_versions(self):
    return sorted(self._states) or None

  def load(self, version, structure):
    if version in self._corrupt:
      raise errors.ProgramStateCorruptError(f'version {version} is corrupt')
    if version not in self._states:
      raise errors.ProgramStateNotFoundError(f'no version {version}')
    return self._states[version]

  def save(self, program_state, version):
    self._states[version] = program_state


class ProgramStateManagerTest(parameterized.TestCase):

  def test_load_latest_returns_newest_state_and_version(self):
    manager = _DictProgramStateManager({1: 'one', 7: 'seven', 3: 'three'})

    self.assertEqual(manager.load_latest(None), ('seven', 7))

  def test_load_latest_returns_none_and_zero_when_nothing_saved(self):
    manager = _DictProgramStateManager({})

    self.assertEqual(manager.load_latest(None), (None, 0))

  def test_load_latest_skips_corrupt_versions(self):
    manager = _DictProgramStateManager({1: 'one', 2: 'two', 3: 'three'},
                                       corrupt={2, 3})

    with self.assertLogs(level='WARNING') as logs:
      result = manager.load_latest(None)

    self.assertEqual(result, ('one', 1))
    self.assertIn('version 3', '\n'.join(logs.output))

  def test_load_latest_returns_none_when_every_version_is_corrupt(self):
    manager = _DictProgramStateManager({1: 'one'}, corrupt={1})

    with self.assertLogs(level='WARNING'):
      self.assertEqual(manager.load_latest(None), (None, 0))

  def test_load_latest_does_not_skip_other_errors(self):

    class Failing(_DictProgramStateManager):

      def load(self, version, structure):
        raise errors.ProgramStateStructureError('does not fit')

    with self.assertRaises(errors.ProgramStateStructureError):
      Failing({1: 'one'}).load_latest(None)

  @parameterized.named_parameters(
      ('int', 5, 5),
      ('numpy_int', np.int32(6), 6),
      ('zero', 0, 0),
  )
  def test_check_version_returns_int(self, version, expected):

    self.assertEqual(program_state_manager.check_version(version), expected)

  @parameterized.named_parameters(
      ('negative', -1, ValueError, 'non-negative version'),
      ('float', 2.0, TypeError, 'integer version'),
      ('string', '2', TypeError, 'integer version'),
      ('bool', False, TypeError, 'integer version'),
  )
  def test_check_version_raises(self, version, error, message):

    with self.assertRaisesRegex(error, message):
      program_state_manager.check_version(version)


if __name__ == '__main__':
  absltest.main()
