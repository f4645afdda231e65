import collections

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.learning.optimizers import optimizer


class OptimizerTest(absltest.TestCase):

  def test_base_class_is_abstract(self):

    with self.assertRaises(TypeError):
      optimizer.Optimizer()  # pytype: disable=not-instantiable

  def test_check_structures_match_accepts_same_structure(self):

    optimizer.check_structures_match([1.0, (2.0,)], [0.1, (0.2,)],
                                     'the gradients')

  def test_check_structures_match_raises_value_error(self):

    with self.assertRaisesRegex(ValueError,
                                r'the gradients to have the structure'):
      optimizer.check_structures_match([1.0, 2.0], [0.1], 'the gradients')

  def test_replace_hparams_keeps_dtypes(self):
    state = collections.OrderedDict(
        learning_rate=tf.constant(0.1, tf.float32),
        accumulator=[tf.zeros([2])])

    updated = optimizer.replace_hparams(state, {'learning_rate': 0.5},
                                        ('learning_rate',), 'SGD')

    self.assertEqual(list(updated), ['learning_rate', 'accumulator'])
    self.assertEqual(updated['learning_rate'].dtype, tf.float32)
    self.assertAlmostEqual(float(updated['learning_rate']), 0.5)
    self.assertIs(updated['accumulator'], state['accumulator'])
    self.assertAlmostEqual(float(state['learning_rate']), 0.1)

  def test_replace_hparams_casts_to_numpy_dtype(self):
    state = collections.OrderedDict(learning_rate=np.float64(0.1))

    updated = optimizer.replace_hparams(state, {'learning_rate': 1},
                                        ('learning_rate',), 'SGD')

    self.assertEqual(updated['learning_rate'].dtype, tf.float64)

  def test_replace_hparams_raises_key_error_for_unknown_name(self):

    with self.assertRaisesRegex(KeyError, r"unknown \['beta'\]"):
      optimizer.replace_hparams({'learning_rate': 0.1}, {'beta': 0.5},
                                ('learning_rate',), 'SGD')


if __name__ == '__main__':
  absltest.main()
