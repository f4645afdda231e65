import collections
import os
import subprocess
import sys
import textwrap
from unittest import mock

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

import tffx
from tffx.learning.models import model_weights
from tffx.program import errors
from tffx.program import file_program_state_manager
from tffx.types import structure

FileProgramStateManager = file_program_state_manager.FileProgramStateManager


def _training_state(round_num):
  """A nest like a training program's: weights, optimizer, round, sampling."""
  return collections.OrderedDict(
      model=model_weights.ModelWeights(
          trainable=[np.full([3, 2], round_num, np.float32),
                     np.arange(2, dtype=np.float32)],
          non_trainable=[]),
      optimizer=collections.OrderedDict(
          step=np.int64(round_num), momentum=[np.zeros([3, 2], np.float32)]),
      round_num=round_num,
      sampling=collections.OrderedDict(seed=7, clients_per_round=10),
      learning_rate=0.1,
      done=False,
      dataset='synthetic_1_1',
      last_error=None,
      aggregator=structure.Struct([('count', np.int32(4)), (None, b'\x00id')]),
  )


class FileProgramStateManagerTest(parameterized.TestCase):

  def _manager(self, **kwargs):
    return FileProgramStateManager(self.create_tempdir().full_path, **kwargs)

  def _version_path(self, manager, version):
    return os.path.join(manager.root_dir, f'program_state_{version}.npz')

  def test_save_and_load_round_trip_keeps_values_and_types(self):
    manager = self._manager()
    state = _training_state(3)

    manager.save(state, 3)
    loaded = manager.load(3, _training_state(0))

    self.assertIsInstance(loaded, collections.OrderedDict)
    self.assertIsInstance(loaded['model'], model_weights.ModelWeights)
    np.testing.assert_array_equal(loaded['model'].trainable[0],
                                  state['model'].trainable[0])
    self.assertEqual(loaded['model'].trainable[0].dtype, np.float32)
    self.assertEqual(loaded['model'].non_trainable, [])
    self.assertEqual(loaded['optimizer']['step'], np.int64(3))
    self.assertIsInstance(loaded['optimizer']['step'], np.int64)
    self.assertEqual(
        [(loaded[k], type(loaded[k])) for k in
         ('round_num', 'learning_rate', 'done', 'dataset', 'last_error')],
        [(3, int), (0.1, float), (False, bool), ('synthetic_1_1', str),
         (None, type(None))])
    self.assertEqual(loaded['sampling'], {'seed': 7, 'clients_per_round': 10})
    self.assertEqual(loaded['aggregator'],
                     structure.Struct([('count', 4), (None, b'\x00id')]))
    self.assertIsInstance(loaded['aggregator'][1], bytes)

  def test_save_converts_tensors_to_arrays(self):
    manager = self._manager()

    manager.save({'w': tf.constant([1.0, 2.0]), 'v': tf.Variable(3)}, 0)
    loaded = manager.load(0, {'w': None, 'v': None})

    np.testing.assert_array_equal(loaded['w'], [1.0, 2.0])
    self.assertEqual(loaded['v'], 3)
    self.assertIsInstance(loaded['v'], np.ndarray)

  def test_saved_file_loads_without_pickle(self):
    manager = self._manager()
    manager.save(_training_state(1), 1)

    with np.load(self._version_path(manager, 1), allow_pickle=False) as f:
      arrays = {name: f[name] for name in f.files}

    self.assertIn('manifest', arrays)
    self.assertFalse(any(a.dtype.hasobject for a in arrays.values()))

  def test_load_latest_returns_newest_version(self):
    manager = self._manager()
    for round_num in (1, 2, 10):
      manager.save(_training_state(round_num), round_num)

    state, version = manager.load_latest(_training_state(0))

    self.assertEqual(version, 10)
    self.assertEqual(state['round_num'], 10)

  def test_load_latest_returns_none_and_zero_without_root_dir(self):
    root = os.path.join(self.create_tempdir().full_path, 'absent')
    manager = FileProgramStateManager(root)

    self.assertEqual(manager.load_latest(_training_state(0)), (None, 0))
    self.assertIsNone(manager.get_versions())
    self.assertFalse(os.path.exists(root))

  def test_get_versions_raises_not_a_directory_when_root_dir_is_a_file(self):
    path = self.create_tempfile('not_a_dir').full_path
    manager = FileProgramStateManager(path)

    with self.assertRaises(NotADirectoryError) as raised:
      manager.get_versions()

    self.assertIn(path, str(raised.exception))
    self.assertIn('found a file', str(raised.exception))

  def test_get_versions_sorts_numerically_and_ignores_other_files(self):
    manager = self._manager()
    for version in (10, 2, 0):
      manager.save({'v': version}, version)
    for name in ('notes.txt', 'program_state_x.npz', 'program_state_01.npz',
                 'program_state_3.npz.bak', 'other_4.npz'):
      self.create_tempfile(os.path.join(manager.root_dir, name))

    self.assertEqual(manager.get_versions(), [0, 2, 10])

  def test_remove_all_removes_versions_and_keeps_other_files(self):
    manager = self._manager()
    for version in (0, 1, 2):
      manager.save({'v': version}, version)
    other = self.create_tempfile(os.path.join(manager.root_dir, 'notes.txt'))

    manager.remove_all()

    self.assertIsNone(manager.get_versions())
    self.assertTrue(os.path.exists(other.full_path))
    manager.save({'v': 5}, 0)
    self.assertEqual(manager.load(0, {'v': 0}), {'v': 5})

  def test_save_raises_exists_error_and_keeps_saved_state(self):
    manager = self._manager()
    manager.save({'v': 1}, 4)

    with self.assertRaisesRegex(errors.ProgramStateExistsError, 'version 4'):
      manager.save({'v': 2}, 4)

    self.assertEqual(manager.load(4, {'v': 0}), {'v': 1})

  def test_load_raises_not_found_error(self):
    manager = self._manager()
    manager.save({'v': 1}, 1)

    with self.assertRaisesRegex(errors.ProgramStateNotFoundError,
                                r'version 2 .*Saved versions: \[1\]'):
      manager.load(2, {'v': 0})

  def test_load_raises_structure_error_naming_paths(self):
    manager = self._manager()
    manager.save(collections.OrderedDict(a=1, b=[1, 2]), 1)

    with self.assertRaisesRegex(
        errors.ProgramStateStructureError,
        r"1 missing \['c'\] and 2 unexpected \['b/0', 'b/1'\]"):
      manager.load(1, collections.OrderedDict(a=0, c=0))

  def test_load_accepts_structure_with_other_key_order(self):
    manager = self._manager()
    manager.save(collections.OrderedDict(a=1, b=2), 1)

    loaded = manager.load(1, collections.OrderedDict(b=0, a=0))

    self.assertEqual(list(loaded.items()), [('b', 2), ('a', 1)])

  @parameterized.named_parameters(
      ('object_array', {'w': np.array([[1], [2, 3]], dtype=object)},
       "dtype object.*without pickle"),
      ('python_object', {'w': object()}, "found object at 'w'"),
      ('huge_int', {'w': 2**80}, "at 'w'"),
  )
  def test_save_raises_type_error_and_writes_nothing(self, state, message):
    manager = self._manager()

    with self.assertRaisesRegex(TypeError, message):
      manager.save(state, 1)

    self.assertIsNone(manager.get_versions())

  @parameterized.named_parameters(
      ('negative', -1, ValueError),
      ('float', 1.5, TypeError),
  )
  def test_save_raises_invalid_version(self, version, error):
    manager = self._manager()

    with self.assertRaises(error):
      manager.save({'v': 1}, version)

  @parameterized.named_parameters(
      ('empty', ''),
      ('separator', 'a/b'),
      ('hidden', '.state'),
  )
  def test_init_raises_value_error_bad_prefix(self, prefix):

    with self.assertRaisesRegex(ValueError, 'prefix'):
      FileProgramStateManager(self.create_tempdir().full_path, prefix=prefix)

  def test_prefix_names_files(self):
    manager = self._manager(prefix='ckpt-')

    manager.save({'v': 1}, 5)

    self.assertEqual(os.listdir(manager.root_dir), ['ckpt-5.npz'])
    self.assertEqual(manager.get_versions(), [5])

  # Retention: versions 0..5 saved one after the other.
  @parameterized.named_parameters(
      ('keep_three_and_first', 3, True, [0, 4, 5]),
      ('keep_three', 3, False, [3, 4, 5]),
      ('keep_all_with_zero', 0, True, [0, 1, 2, 3, 4, 5]),
      ('keep_all_with_negative', -1, False, [0, 1, 2, 3, 4, 5]),
      ('keep_one', 1, False, [5]),
      ('keep_one_and_first_keeps_newest', 1, True, [0, 5]),
      ('keep_more_than_saved', 10, True, [0, 1, 2, 3, 4, 5]),
  )
  def test_retention(self, keep_total, keep_first, expected):
    manager = self._manager(keep_total=keep_total, keep_first=keep_first)

    for version in range(6):
      manager.save({'v': version}, version)

    self.assertEqual(manager.get_versions(), expected)
    self.assertEqual(manager.load_latest({'v': 0}), ({'v': 5}, 5))

  # Crashes and partial writes.

  def test_load_latest_skips_temporary_file_left_by_crash(self):
    manager = self._manager()
    manager.save(_training_state(1), 1)
    with open(self._version_path(manager, 1), 'rb') as f:
      complete = f.read()
    # What a crash while writing version 2 leaves: half a temporary file.
    temp_path = os.path.join(manager.root_dir,
                             '.program_state_2.npz.tmp-0123abcd')
    with open(temp_path, 'wb') as f:
      f.write(complete[:len(complete) // 2])

    state, version = manager.load_latest(_training_state(0))

    self.assertEqual((version, state['round_num']), (1, 1))
    self.assertEqual(manager.get_versions(), [1])

  def test_save_removes_temporary_files_left_by_crash(self):
    manager = self._manager()
    manager.save({'v': 1}, 1)
    temp_path = os.path.join(manager.root_dir,
                             '.program_state_2.npz.tmp-0123abcd')
    self.create_tempfile(temp_path, content='partial')

    manager.save({'v': 2}, 2)

    self.assertFalse(os.path.exists(temp_path))
    self.assertEqual(sorted(os.listdir(manager.root_dir)),
                     ['program_state_1.npz', 'program_state_2.npz'])

  def test_load_latest_skips_process_killed_during_save(self):
    manager = self._manager()
    manager.save({'round_num': 1}, 1)
    # A separate process saves version 2 and dies (no cleanup, no Python
    # shutdown) while syncing the temporary file to disk, before the rename.
    script = textwrap.dedent(f"""
        import os
        from unittest import mock
        from tffx.program import file_program_state_manager as m
        manager = m.FileProgramStateManager({manager.root_dir!r})
        with mock.patch.object(os, 'fsync', lambda fd: os._exit(3)):
          manager.save({{'round_num': 2}}, 2)
        """)
    root = os.path.dirname(os.path.dirname(os.path.abspath(tffx.__file__)))
    env = dict(os.environ, PYTHONPATH=root, TF_CPP_MIN_LOG_LEVEL='3')

    result = subprocess.run([sys.executable, '-c', script], env=env,
                            capture_output=True, check=False)

    self.assertEqual(result.returncode, 3, result.stderr.decode()[-2000:])
    names = os.listdir(manager.root_dir)
    self.assertLen([n for n in names if '.tmp-' in n], 1)
    self.assertEqual(manager.get_versions(), [1])
    self.assertEqual(manager.load_latest({'round_num': 0}),
                     ({'round_num': 1}, 1))

  @parameterized.named_parameters(
      ('truncated', lambda data: data[:len(data) // 2]),
      ('empty', lambda data: b''),
      ('last_bytes_lost', lambda data: data[:-10]),
      ('not_an_archive', lambda data: b'not a zip file at all' * 10),
  )
  def test_load_latest_skips_unreadable_version(self, damage):
    manager = self._manager()
    manager.save(_training_state(1), 1)
    manager.save(_training_state(2), 2)
    path = self._version_path(manager, 2)
    with open(path, 'rb') as f:
      data = f.read()
    with open(path, 'wb') as f:
      f.write(damage(data))

    with self.assertLogs(level='WARNING'):
      state, version = manager.load_latest(_training_state(0))

    self.assertEqual((version, state['round_num']), (1, 1))
    with self.assertRaisesRegex(errors.ProgramStateCorruptError,
                                'program_state_2.npz.*cut short'):
      manager.load(2, _training_state(0))

  def test_save_replaces_unreadable_version(self):
    manager = self._manager()
    manager.save({'v': 1}, 1)
    self.create_tempfile(self._version_path(manager, 2), content='garbage')

    with self.assertLogs(level='WARNING'):
      manager.save({'v': 2}, 2)

    self.assertEqual(manager.load_latest({'v': 0}), ({'v': 2}, 2))

  def test_failed_write_leaves_previous_state_and_no_temporary_file(self):
    manager = self._manager()
    manager.save({'v': 1}, 1)

    def savez_until_disk_full(f, **arrays):
      f.write(b'PK\x03\x04 partial')
      raise OSError(28, 'No space left on device')

    with mock.patch.object(file_program_state_manager.np, 'savez',
                           savez_until_disk_full):
      with self.assertRaisesRegex(OSError, 'No space left'):
        manager.save({'v': 2}, 2)

    self.assertEqual(os.listdir(manager.root_dir), ['program_state_1.npz'])
    self.assertEqual(manager.load_latest({'v': 0}), ({'v': 1}, 1))


if __name__ == '__main__':
  absltest.main()
