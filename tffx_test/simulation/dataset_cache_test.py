import io
import lzma
import os
import tarfile

from absl.testing import absltest

from tffx.simulation import dataset_cache
from tffx.simulation import errors

_ORIGIN = 'https://storage.googleapis.com/tff-datasets-public/x.sqlite.lzma'
_ARCHIVE_ORIGIN = 'https://example.org/files/counts.tar.bz2'


def _write_tar_bz2(path, member, content):
  with tarfile.open(path, 'w:bz2') as tar:
    info = tarfile.TarInfo(member)
    info.size = len(content)
    tar.addfile(info, io.BytesIO(content))


class GetCompressedFileTest(absltest.TestCase):

  def test_returns_decompressed_file_in_cache(self):
    cache_dir = self.create_tempdir()
    expected = cache_dir.create_file('x.sqlite', content='db').full_path

    path = dataset_cache.get_compressed_file(_ORIGIN, cache_dir.full_path)

    self.assertEqual(path, expected)

  def test_decompresses_lzma_file_placed_in_cache(self):
    cache_dir = self.create_tempdir().full_path
    with lzma.open(os.path.join(cache_dir, 'x.sqlite.lzma'), 'wb') as f:
      f.write(b'contents')

    path = dataset_cache.get_compressed_file(_ORIGIN, cache_dir)

    self.assertEqual(path, os.path.join(cache_dir, 'x.sqlite'))
    with open(path, 'rb') as f:
      self.assertEqual(f.read(), b'contents')

  def test_raises_not_found_naming_file_origin_and_place(self):
    cache_dir = self.create_tempdir().full_path

    with self.assertRaises(errors.DatasetFileNotFoundError) as cm:
      dataset_cache.get_compressed_file(_ORIGIN, cache_dir)

    message = str(cm.exception)
    self.assertIn('does not download', message)
    self.assertIn(_ORIGIN, message)
    self.assertIn(os.path.join(cache_dir, 'x.sqlite.lzma'), message)
    self.assertIsInstance(cm.exception, ValueError)

  def test_default_cache_is_tffs(self):
    home = self.create_tempdir().full_path
    self.enter_context(absltest.mock.patch.dict(os.environ, {'HOME': home}))

    with self.assertRaisesRegex(errors.DatasetFileNotFoundError,
                                os.path.join(home, '.tff', 'x.sqlite')):
      dataset_cache.get_compressed_file(_ORIGIN)

  def test_raises_client_data_file_error_for_corrupt_lzma(self):
    cache_dir = self.create_tempdir()
    cache_dir.create_file('x.sqlite.lzma', content='not lzma')

    with self.assertRaises(errors.ClientDataFileError):
      dataset_cache.get_compressed_file(_ORIGIN, cache_dir.full_path)


class GetExtractedFileTest(absltest.TestCase):

  def test_extracts_member_of_archive_in_keras_datasets_dir(self):
    cache_dir = self.create_tempdir().full_path
    os.makedirs(os.path.join(cache_dir, 'datasets'))
    _write_tar_bz2(os.path.join(cache_dir, 'datasets', 'counts.tar.bz2'),
                   'counts', b'a 3\n')

    path = dataset_cache.get_extracted_file('counts.tar.bz2', _ARCHIVE_ORIGIN,
                                            'counts', cache_dir)

    self.assertEqual(path, os.path.join(cache_dir, 'datasets', 'counts'))
    with open(path, 'rb') as f:
      self.assertEqual(f.read(), b'a 3\n')

  def test_raises_not_found_naming_archive_and_place(self):
    cache_dir = self.create_tempdir().full_path

    with self.assertRaises(errors.DatasetFileNotFoundError) as cm:
      dataset_cache.get_extracted_file('counts.tar.bz2', _ARCHIVE_ORIGIN,
                                       'counts', cache_dir)

    self.assertIn(os.path.join(cache_dir, 'datasets', 'counts.tar.bz2'),
                  str(cm.exception))
    self.assertIn(_ARCHIVE_ORIGIN, str(cm.exception))

  def test_raises_client_data_file_error_when_member_missing(self):
    cache_dir = self.create_tempdir().full_path
    os.makedirs(os.path.join(cache_dir, 'datasets'))
    _write_tar_bz2(os.path.join(cache_dir, 'datasets', 'counts.tar.bz2'),
                   'other', b'x')

    with self.assertRaises(errors.ClientDataFileError):
      dataset_cache.get_extracted_file('counts.tar.bz2', _ARCHIVE_ORIGIN,
                                       'counts', cache_dir)



class LocateTest(absltest.TestCase):

  def _legacy(self):
    return dataset_cache.LegacyArchive('old.tar.bz2', ('old_train.h5',
                                                       'old_test.h5'))

  def _place_legacy_files(self, cache_dir):
    directory = os.path.join(cache_dir, 'datasets')
    os.makedirs(directory)
    for name in self._legacy().members:
      with open(os.path.join(directory, name), 'wb') as f:
        f.write(b'h5')
    return directory

  def test_prefers_the_database(self):
    cache_dir = self.create_tempdir().full_path
    self._place_legacy_files(cache_dir)
    with open(os.path.join(cache_dir, 'x.sqlite'), 'wb') as f:
      f.write(b'db')

    found = dataset_cache.locate(_ORIGIN, self._legacy(), cache_dir)

    self.assertEqual(found, dataset_cache.Located(
        os.path.join(cache_dir, 'x.sqlite'), ()))

  def test_falls_back_to_legacy_files(self):
    cache_dir = self.create_tempdir().full_path
    directory = self._place_legacy_files(cache_dir)

    found = dataset_cache.locate(_ORIGIN, self._legacy(), cache_dir)

    self.assertIsNone(found.database)
    self.assertEqual(found.hdf5_files,
                     (os.path.join(directory, 'old_train.h5'),
                      os.path.join(directory, 'old_test.h5')))

  def test_legacy_origin_is_in_tffs_bucket(self):

    self.assertEqual(self._legacy().origin, dataset_cache.BUCKET +
                     'old.tar.bz2')


if __name__ == '__main__':
  absltest.main()
