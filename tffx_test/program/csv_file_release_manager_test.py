import collections
import csv
import os

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.program import csv_file_release_manager
from tffx.program import errors

CSVFileReleaseManager = csv_file_release_manager.CSVFileReleaseManager
CSVSaveMode = csv_file_release_manager.CSVSaveMode


def _metrics(loss, **extra):
  train = collections.OrderedDict(loss=loss, **extra)
  return collections.OrderedDict(
      client_work=collections.OrderedDict(train=train))


def _read(path):
  with open(path, newline='') as f:
    reader = csv.DictReader(f)
    return reader.fieldnames, list(reader)


class CSVFileReleaseManagerTest(parameterized.TestCase):

  def _path(self):
    return os.path.join(self.create_tempdir().full_path, 'out', 'metrics.csv')

  @parameterized.parameters(CSVSaveMode.APPEND, CSVSaveMode.WRITE)
  def test_release_writes_one_row_per_round(self, save_mode):
    path = self._path()
    manager = CSVFileReleaseManager(path, save_mode=save_mode)

    for round_num in range(3):
      manager.release(_metrics(0.5 / (round_num + 1)), round_num)

    header, rows = _read(path)
    self.assertEqual(header, ['key', 'client_work/train/loss'])
    self.assertEqual(
        [(r['key'], r['client_work/train/loss']) for r in rows],
        [('0', '0.5'), ('1', '0.25'), ('2', '0.16666666666666666')])

  @parameterized.parameters(CSVSaveMode.APPEND, CSVSaveMode.WRITE)
  def test_header_grows_when_new_names_appear(self, save_mode):
    path = self._path()
    manager = CSVFileReleaseManager(path, save_mode=save_mode)

    manager.release(_metrics(1.0), 0)
    manager.release(_metrics(0.5, accuracy=np.float32(0.75)), 1)
    manager.release(_metrics(0.25), 2)

    header, rows = _read(path)
    self.assertEqual(header, ['key', 'client_work/train/loss',
                              'client_work/train/accuracy'])
    self.assertEqual([r['client_work/train/accuracy'] for r in rows],
                     ['', '0.75', ''])

  def test_append_mode_appends_without_rewriting(self):
    path = self._path()
    manager = CSVFileReleaseManager(path, save_mode=CSVSaveMode.APPEND)
    manager.release(_metrics(1.0), 0)
    inode = os.stat(path).st_ino

    manager.release(_metrics(0.5), 1)

    self.assertEqual(os.stat(path).st_ino, inode)
    self.assertLen(_read(path)[1], 2)

  def test_write_mode_rewrites_through_a_new_file(self):
    path = self._path()
    manager = CSVFileReleaseManager(path, save_mode=CSVSaveMode.WRITE)
    manager.release(_metrics(1.0), 0)
    inode = os.stat(path).st_ino

    manager.release(_metrics(0.5), 1)

    self.assertNotEqual(os.stat(path).st_ino, inode)
    self.assertLen(_read(path)[1], 2)
    self.assertEqual(os.listdir(os.path.dirname(path)), ['metrics.csv'])

  def test_release_formats_values(self):
    path = self._path()
    manager = CSVFileReleaseManager(path)

    manager.release(
        collections.OrderedDict(
            histogram=np.array([1, 2]), name='fedavg', none=None, ok=True),
        0)

    _, rows = _read(path)
    self.assertEqual(dict(rows[0]), {
        'key': '0', 'histogram': '[1, 2]', 'name': 'fedavg', 'none': '',
        'ok': 'True'})

  def test_remove_values_greater_than_drops_later_rounds(self):
    path = self._path()
    manager = CSVFileReleaseManager(path)
    for round_num in range(5):
      manager.release(_metrics(float(round_num)), round_num)

    manager.remove_values_greater_than(2)

    self.assertEqual([r['key'] for r in _read(path)[1]], ['0', '1', '2'])

  def test_resumed_run_does_not_duplicate_rows(self):
    path = self._path()
    first_run = CSVFileReleaseManager(path)
    for round_num in range(5):
      first_run.release(_metrics(float(round_num)), round_num)
    # The run crashed after round 4; its last checkpoint is round 2.

    resumed_run = CSVFileReleaseManager(path)
    resumed_run.remove_values_greater_than(2)
    for round_num in range(3, 6):
      resumed_run.release(_metrics(float(round_num)), round_num)

    self.assertEqual([r['key'] for r in _read(path)[1]],
                     ['0', '1', '2', '3', '4', '5'])

  def test_new_manager_continues_existing_header(self):
    path = self._path()
    CSVFileReleaseManager(path).release(_metrics(1.0, accuracy=0.5), 0)

    CSVFileReleaseManager(path).release(_metrics(0.5), 1)

    header, rows = _read(path)
    self.assertEqual(header, ['key', 'client_work/train/loss',
                              'client_work/train/accuracy'])
    self.assertEqual([r['client_work/train/accuracy'] for r in rows],
                     ['0.5', ''])

  def test_row_cut_short_by_crash_is_dropped(self):
    path = self._path()
    manager = CSVFileReleaseManager(path)
    manager.release(_metrics(1.0, accuracy=0.5), 0)
    manager.release(_metrics(0.5, accuracy=0.75), 1)
    with open(path, 'a') as f:
      f.write('2,0.2')  # The append of round 2 stopped here.

    resumed = CSVFileReleaseManager(path)
    resumed.remove_values_greater_than(1)
    resumed.release(_metrics(0.25, accuracy=0.8), 2)

    self.assertEqual([(r['key'], r['client_work/train/accuracy'])
                      for r in _read(path)[1]],
                     [('0', '0.5'), ('1', '0.75'), ('2', '0.8')])

  def test_append_after_row_cut_short_drops_partial_row(self):
    path = self._path()
    manager = CSVFileReleaseManager(path)
    manager.release(_metrics(1.0), 0)
    with open(path, 'a') as f:
      f.write('1,0.')  # The append of round 1 stopped here.

    CSVFileReleaseManager(path).release(_metrics(0.5), 1)

    self.assertEqual([(r['key'], r['client_work/train/loss'])
                      for r in _read(path)[1]], [('0', '1.0'), ('1', '0.5')])

  def test_remove_all_values_keeps_header(self):
    path = self._path()
    manager = CSVFileReleaseManager(path)
    manager.release(_metrics(1.0), 0)

    manager.remove_all_values()

    self.assertEqual(_read(path), (['key', 'client_work/train/loss'], []))

  def test_custom_key_fieldname(self):
    path = self._path()
    manager = CSVFileReleaseManager(path, key_fieldname='round')

    manager.release({'loss': 1.0}, 7)

    self.assertEqual(_read(path)[0], ['round', 'loss'])

  def test_init_raises_key_fieldname_not_found_without_key_column(self):
    path = self.create_tempfile('metrics.csv',
                                content='round,loss\n0,1.0\n').full_path

    with self.assertRaisesRegex(errors.CSVKeyFieldnameNotFoundError,
                                r"'key' column, found the columns \['round', "
                                r"'loss'\]"):
      CSVFileReleaseManager(path)

  def test_init_raises_format_error_non_integer_key(self):
    path = self.create_tempfile('metrics.csv',
                                content='key,loss\nfirst,1.0\n').full_path

    with self.assertRaisesRegex(errors.CSVFileFormatError, "found 'first'"):
      CSVFileReleaseManager(path)

  @parameterized.named_parameters(
      ('string_key', {'loss': 1.0}, 'one', TypeError, 'integer key'),
      ('negative_key', {'loss': 1.0}, -1, ValueError, 'non-negative key'),
      ('metric_named_key', {'key': 1.0}, 0, ValueError, 'the key column'),
  )
  def test_release_raises(self, value, key, error, message):
    manager = CSVFileReleaseManager(self._path())

    with self.assertRaisesRegex(error, message):
      manager.release(value, key)

  @parameterized.named_parameters(
      ('empty_path', dict(file_path=''), ValueError, 'file_path'),
      ('bad_save_mode', dict(file_path='a.csv', save_mode='append'),
       TypeError, 'CSVSaveMode'),
      ('empty_key_fieldname', dict(file_path='a.csv', key_fieldname=''),
       ValueError, 'key_fieldname'),
  )
  def test_init_raises(self, kwargs, error, message):

    with self.assertRaisesRegex(error, message):
      CSVFileReleaseManager(**kwargs)


if __name__ == '__main__':
  absltest.main()
