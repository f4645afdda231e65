import collections
import io
import json
import os
import tarfile

from absl.testing import absltest
import tensorflow as tf

from tffx.simulation import errors
from tffx.simulation import sql_client_data
from tffx.simulation import stackoverflow


def _post(tokens, score):
  return {'creation_date': '2010-01-08 09:34:05 UTC', 'score': score,
          'tags': 'sql|median', 'title': 'median in sql', 'tokens': tokens,
          'type': 'answer'}


def _write_archive(cache_dir, archive, member, content: bytes):
  directory = os.path.join(cache_dir, 'datasets')
  os.makedirs(directory, exist_ok=True)
  with tarfile.open(os.path.join(directory, archive), 'w:bz2') as tar:
    info = tarfile.TarInfo(member)
    info.size = len(content)
    tar.addfile(info, io.BytesIO(content))


class StackOverflowTest(absltest.TestCase):

  def test_load_data_reads_three_splits(self):
    cache_dir = self.create_tempdir().full_path
    sql_client_data.write_database(
        os.path.join(cache_dir, 'stackoverflow.sqlite'), {
            'train': {'1': [_post('a b', 3)]},
            'heldout': {'10': [_post('c', -1)]},
            'test': {'1': [_post('d', 0)], '2': [_post('e', 5)]},
        })

    train, heldout, test = stackoverflow.load_data(cache_dir=cache_dir)

    self.assertEqual(list(train.element_type_structure),
                     ['creation_date', 'score', 'tags', 'title', 'tokens',
                      'type'])
    self.assertEqual(train.element_type_structure['score'],
                     tf.TensorSpec((), tf.int64))
    [post] = list(heldout.create_tf_dataset_for_client('10'))
    self.assertEqual((post['tokens'].numpy(), int(post['score'])), (b'c', -1))
    self.assertEqual(test.client_ids, ['1', '2'])

  def test_load_word_counts_from_keras_archive(self):
    cache_dir = self.create_tempdir().full_path
    _write_archive(cache_dir, 'stackoverflow.word_count.tar.bz2',
                   'stackoverflow.word_count', b'the 10\nis 7\na 3\n')

    counts = stackoverflow.load_word_counts(cache_dir=cache_dir, vocab_size=2)

    self.assertEqual(list(counts.items()), [('the', 10), ('is', 7)])

  def test_load_tag_counts_sorted_by_frequency(self):
    cache_dir = self.create_tempdir().full_path
    _write_archive(cache_dir, 'stackoverflow.tag_count.tar.bz2',
                   'stackoverflow.tag_count',
                   json.dumps({'css': 2, 'sql': 5, 'git': 1}).encode())

    counts = stackoverflow.load_tag_counts(cache_dir=cache_dir)

    self.assertEqual(list(counts.items()), [('sql', 5), ('css', 2),
                                            ('git', 1)])

  def test_get_synthetic_has_load_data_structure(self):
    cache_dir = self.create_tempdir().full_path
    sql_client_data.write_database(
        os.path.join(cache_dir, 'stackoverflow.sqlite'), {
            split: {'1': [_post('a', 1)]}
            for split in ('train', 'heldout', 'test')
        })
    train, _, _ = stackoverflow.load_data(cache_dir=cache_dir)

    synthetic = stackoverflow.get_synthetic()

    self.assertEqual(synthetic.element_type_structure,
                     train.element_type_structure)

  def test_synthetic_counts_count_the_synthetic_posts(self):
    synthetic = stackoverflow.get_synthetic()
    words, tags = collections.Counter(), collections.Counter()
    for client_id in synthetic.client_ids:
      for post in synthetic.create_tf_dataset_for_client(client_id):
        words.update(post['tokens'].numpy().decode().split())
        tags.update(post['tags'].numpy().decode().split('|'))

    word_counts = stackoverflow.get_synthetic_word_counts()
    tag_counts = stackoverflow.get_synthetic_tag_counts()

    self.assertEqual(dict(word_counts), dict(words))
    self.assertEqual(dict(tag_counts), dict(tags))
    self.assertEqual(list(word_counts.values()),
                     sorted(word_counts.values(), reverse=True))

  def test_load_word_counts_checks_vocab_size(self):
    for vocab_size, error in ((2.0, TypeError), (0, ValueError)):
      with self.subTest(vocab_size=vocab_size):

        with self.assertRaises(error):
          stackoverflow.load_word_counts(vocab_size=vocab_size)

  def test_loaders_raise_not_found(self):
    cache_dir = self.create_tempdir().full_path

    for load in (stackoverflow.load_data, stackoverflow.load_word_counts,
                 stackoverflow.load_tag_counts):
      with self.subTest(load=load.__name__):

        with self.assertRaises(errors.DatasetFileNotFoundError):
          load(cache_dir=cache_dir)


if __name__ == '__main__':
  absltest.main()
