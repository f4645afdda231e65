import os

from absl.testing import absltest
import tensorflow as tf

from tffx.simulation import errors
from tffx.simulation import shakespeare
from tffx.simulation import sql_client_data


class ShakespeareTest(absltest.TestCase):

  def test_load_data_reads_snippets_from_cache(self):
    cache_dir = self.create_tempdir().full_path
    sql_client_data.write_database(
        os.path.join(cache_dir, 'shakespeare.sqlite'), {
            'train': {'KING_LEAR': [{'snippets': 'Hark!'},
                                    {'snippets': 'When?'}]},
            'test': {'KING_LEAR': [{'snippets': 'Never.'}]},
        })

    train, test = shakespeare.load_data(cache_dir=cache_dir)

    self.assertEqual(train.element_type_structure['snippets'],
                     tf.TensorSpec((), tf.string))
    self.assertEqual(
        [e['snippets'].numpy() for e in
         train.create_tf_dataset_for_client('KING_LEAR')], [b'Hark!',
                                                            b'When?'])
    self.assertEqual(test.client_ids, ['KING_LEAR'])

  def test_get_synthetic_has_load_data_structure(self):

    synthetic = shakespeare.get_synthetic()

    self.assertEqual(dict(synthetic.element_type_structure),
                     {'snippets': tf.TensorSpec((), tf.string)})
    self.assertLen(synthetic.client_ids, 3)

  def test_load_data_raises_not_found(self):

    with self.assertRaisesRegex(errors.DatasetFileNotFoundError,
                                'shakespeare.sqlite'):
      shakespeare.load_data(cache_dir=self.create_tempdir().full_path)


if __name__ == '__main__':
  absltest.main()
