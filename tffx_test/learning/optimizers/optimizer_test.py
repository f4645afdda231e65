import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.learning.optimizers import optimizer


class OptimizerTest(parameterized.TestCase):

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

  @parameterized.named_parameters(
      ('negative', optimizer.check_non_negative, -0.5, 'a non-negative lr'),
      ('nan', optimizer.check_non_negative, float('nan'), 'a non-negative lr'),
      ('zero_not_positive', optimizer.check_positive, 0.0, 'a positive lr'),
      ('one_not_in_unit_interval', optimizer.check_unit_interval, 1.0,
       r'lr in \[0, 1\)'),
      ('negative_not_in_unit_interval', optimizer.check_unit_interval, -0.1,
       r'lr in \[0, 1\)'),
  )
  def test_check_raises_value_error(self, check, value, message):

    with self.assertRaisesRegex(ValueError, message):
      check(value, 'lr')

  @parameterized.named_parameters(
      ('non_negative_zero', optimizer.check_non_negative, 0.0),
      ('positive', optimizer.check_positive, 1e-9),
      ('unit_interval_zero', optimizer.check_unit_interval, 0.0),
      ('unit_interval_below_one', optimizer.check_unit_interval, 0.999),
  )
  def test_check_accepts_valid_value(self, check, value):

    check(value, 'lr')

  def test_filled_like_follows_specs(self):
    specs = collections.OrderedDict(
        a=tf.TensorSpec([2], tf.float64), b=[tf.TensorSpec([], tf.float32)])

    filled = optimizer.filled_like(specs, 0.25)

    self.assertEqual(list(filled), ['a', 'b'])
    self.assertEqual(filled['a'].dtype, tf.float64)
    np.testing.assert_array_equal(filled['a'], [0.25, 0.25])
    self.assertEqual(filled['b'][0].shape, ())
    self.assertEqual(float(filled['b'][0]), 0.25)

  def test_check_step_structures_names_first_mismatched_state_entry(self):
    state = collections.OrderedDict(a=[0.0, 0.0], b=[0.0])

    with self.assertRaisesRegex(ValueError, 'the b in the state'):
      optimizer.check_step_structures(state, [1.0, 2.0], [0.1, 0.2],
                                      ('a', 'b'))

  def test_check_step_structures_checks_gradients_first(self):
    state = collections.OrderedDict(a=[0.0])

    with self.assertRaisesRegex(ValueError, 'the gradients to have the'):
      optimizer.check_step_structures(state, [1.0, 2.0], [0.1], ('a',))

  def test_moving_average_follows_average_dtype(self):
    average = tf.constant([1.0, 3.0], tf.float64)

    result = optimizer.moving_average(tf.constant(0.25, tf.float32), average,
                                      tf.constant([5.0, -1.0], tf.float64))

    self.assertEqual(result.dtype, tf.float64)
    np.testing.assert_allclose(result, [4.0, 0.0])


class _Constant(optimizer.HparamsOptimizer):
  """Keeps the weights; only its hyperparameters matter here."""

  def initialize(self, specs):
    state = self.hparams_state()
    state['count'] = tf.constant(0, tf.int32)
    return state

  def next(self, state, weights, gradients):
    return state, weights


class HparamsOptimizerTest(absltest.TestCase):

  def test_hparams_state_is_float32_in_given_order(self):
    constant = _Constant('Constant', [('lr', 0.5), ('decay', 0.25)])

    state = constant.initialize(None)

    self.assertEqual(list(state), ['lr', 'decay', 'count'])
    self.assertEqual(state['lr'].dtype, tf.float32)
    self.assertEqual(float(state['decay']), 0.25)

  def test_get_hparams_returns_only_hparams(self):
    constant = _Constant('Constant', [('lr', 0.5), ('decay', 0.25)])

    hparams = constant.get_hparams(constant.initialize(None))

    self.assertIsInstance(hparams, collections.OrderedDict)
    self.assertEqual(list(hparams), ['lr', 'decay'])
    self.assertEqual(float(hparams['lr']), 0.5)

  def test_set_hparams_replaces_named_entries(self):
    constant = _Constant('Constant', [('lr', 0.5), ('decay', 0.25)])
    state = constant.initialize(None)

    updated = constant.set_hparams(state, {'decay': 0.75})

    self.assertEqual(float(updated['decay']), 0.75)
    self.assertIs(updated['lr'], state['lr'])
    self.assertIs(updated['count'], state['count'])

  def test_set_hparams_raises_key_error_naming_optimizer(self):
    constant = _Constant('Constant', [('lr', 0.5)])

    with self.assertRaisesRegex(KeyError,
                                r"Constant among \['lr'\], found unknown "
                                r"\['count'\]"):
      constant.set_hparams(constant.initialize(None), {'count': 1})


if __name__ == '__main__':
  absltest.main()
