import os

from absl.testing import absltest
from absl.testing import parameterized

from tffx.program import atomic_files


class AtomicFilesTest(parameterized.TestCase):

  def test_write_atomically_creates_file_and_leaves_no_temporary(self):
    directory = self.create_tempdir().full_path
    path = os.path.join(directory, 'state.bin')

    atomic_files.write_atomically(path, lambda f: f.write(b'abc'))

    with open(path, 'rb') as f:
      self.assertEqual(f.read(), b'abc')
    self.assertEqual(os.listdir(directory), ['state.bin'])

  def test_write_atomically_replaces_file_with_new_one(self):
    path = self.create_tempfile('state.txt', content='old').full_path
    inode = os.stat(path).st_ino

    atomic_files.write_atomically(path, lambda f: f.write('new'), mode='w',
                                  encoding='utf-8')

    with open(path) as f:
      self.assertEqual(f.read(), 'new')
    self.assertNotEqual(os.stat(path).st_ino, inode)

  def test_write_atomically_failure_keeps_old_file_and_no_temporary(self):
    path = self.create_tempfile('state.txt', content='old').full_path

    def write_then_fail(f):
      f.write('half of the new')
      raise OSError(28, 'No space left on device')

    with self.assertRaisesRegex(OSError, 'No space left'):
      atomic_files.write_atomically(path, write_then_fail, mode='w')

    with open(path) as f:
      self.assertEqual(f.read(), 'old')
    self.assertEqual(os.listdir(os.path.dirname(path)), ['state.txt'])

  def test_temporary_path_is_hidden_fresh_and_in_same_directory(self):
    path = os.path.join('root', 'state.npz')

    first = atomic_files.temporary_path(path)
    second = atomic_files.temporary_path(path)

    self.assertNotEqual(first, second)
    self.assertEqual(os.path.dirname(first), 'root')
    self.assertTrue(os.path.basename(first).startswith('.state.npz.tmp-'))
    self.assertTrue(atomic_files.is_temporary_name(os.path.basename(first)))

  @parameterized.named_parameters(
      ('temporary', '.state_1.npz.tmp-abc', True),
      ('final', 'state_1.npz', False),
      ('hidden_not_temporary', '.state_1.npz', False),
      ('marker_not_hidden', 'state_1.npz.tmp-abc', False),
  )
  def test_is_temporary_name(self, name, expected):

    self.assertEqual(atomic_files.is_temporary_name(name), expected)

  def test_remove_temporary_files_removes_only_those_of_prefix(self):
    directory = self.create_tempdir()
    for name in ('.state_1.npz.tmp-a', '.state_2.npz.tmp-b', 'state_1.npz',
                 '.metrics.csv.tmp-c', '.state_hidden'):
      directory.create_file(name)

    atomic_files.remove_temporary_files(directory.full_path, 'state_')

    self.assertCountEqual(
        os.listdir(directory.full_path),
        ['state_1.npz', '.metrics.csv.tmp-c', '.state_hidden'])


if __name__ == '__main__':
  absltest.main()
