import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.learning.optimizers import adafactor
from tffx.learning.optimizers import adagrad
from tffx.learning.optimizers import adam
from tffx.learning.optimizers import adamw
from tffx.learning.optimizers import optimizer
from tffx.learning.optimizers import rmsprop
from tffx.learning.optimizers import scheduling
from tffx.learning.optimizers import sgdm
from tffx.learning.optimizers import yogi


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

  def test_prepare_step_names_first_mismatched_state_entry(self):
    state = collections.OrderedDict(a=[0.0, 0.0], b=[0.0])

    with self.assertRaisesRegex(ValueError, 'the b in the state'):
      optimizer.prepare_step(state, [1.0, 2.0], [0.1, 0.2], ('a', 'b'))

  def test_prepare_step_checks_gradients_first(self):
    state = collections.OrderedDict(a=[0.0])

    with self.assertRaisesRegex(ValueError, 'the gradients to have the'):
      optimizer.prepare_step(state, [1.0, 2.0], [0.1], ('a',))

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



# Every optimizer, with a learning rate (float32) and its other settings.
_ALL_OPTIMIZERS = (
    ('sgd', lambda: sgdm.build_sgdm(0.1)),
    ('sgdm', lambda: sgdm.build_sgdm(0.1, momentum=0.9)),
    ('adam', lambda: adam.build_adam(0.1)),
    ('adamw', lambda: adamw.build_adamw(0.1)),
    ('adagrad', lambda: adagrad.build_adagrad(0.1)),
    ('rmsprop', lambda: rmsprop.build_rmsprop(0.1)),
    ('yogi', lambda: yogi.build_yogi(0.1)),
    ('adafactor', lambda: adafactor.build_adafactor(0.1)),
    ('scheduled', lambda: scheduling.schedule_learning_rate(
        adam.build_adam(1.0), lambda i: 0.1 / tf.cast(i + 1, tf.float32))),
)
_TWO_SPECS = [tf.TensorSpec([2], tf.float32), tf.TensorSpec([], tf.float32)]
_TWO_WEIGHTS = [np.array([1.0, -1.0], np.float32), np.float32(0.5)]


class WeightsGradientsChecksTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('same', [np.zeros([2], np.float32)], [np.ones([2], np.float32)]),
      ('none_gradient', [np.zeros([2], np.float32), np.float32(0.0)],
       [np.ones([2], np.float32), None]),
      ('unknown_dimension', [tf.TensorSpec([None, 2], tf.float32)],
       [tf.TensorSpec([3, 2], tf.float32)]),
  )
  def test_check_weights_gradients_match_accepts(self, weights, gradients):

    optimizer.check_weights_gradients_match(weights, gradients)

  @parameterized.named_parameters(
      ('bad_shape', tf.zeros([2], tf.float32), tf.zeros([3], tf.float32)),
      ('broadcastable_shape', tf.zeros([2], tf.float32),
       tf.zeros([1], tf.float32)),
      ('bad_dtype', tf.zeros([2], tf.float32), tf.zeros([2], tf.float64)),
      ('bad_structure', [tf.zeros([2]), tf.zeros([3])],
       [tf.zeros([2]), [tf.zeros([3])]]),
  )
  def test_check_weights_gradients_match_raises_value_error(
      self, weights, gradients):

    with self.assertRaises(ValueError):
      optimizer.check_weights_gradients_match(weights, gradients)

  def test_handle_indexed_slices_gradients_makes_dense_tensors(self):
    slices = tf.IndexedSlices(
        values=tf.constant([[0.0, 1.0], [1.0, 3.0]]),
        indices=tf.constant([0, 2]),
        dense_shape=tf.constant([4, 2]))
    tensor = tf.constant([4.0, 5.5])

    dense = optimizer.handle_indexed_slices_gradients([tensor, slices, None])

    self.assertIs(dense[0], tensor)
    self.assertIsInstance(dense[1], tf.Tensor)
    np.testing.assert_array_equal(dense[1],
                                  [[0.0, 1.0], [0.0, 0.0], [1.0, 3.0],
                                   [0.0, 0.0]])
    self.assertIsNone(dense[2])


class AllOptimizersTest(parameterized.TestCase):

  @parameterized.named_parameters(*_ALL_OPTIMIZERS)
  def test_next_raises_value_error_for_broadcastable_gradient(self, build):
    opt = build()
    state = opt.initialize([tf.TensorSpec([2], tf.float32)])

    with self.assertRaises(ValueError):
      opt.next(state, [np.zeros([2], np.float32)], [np.ones([1], np.float32)])

  @parameterized.named_parameters(*_ALL_OPTIMIZERS)
  def test_next_raises_value_error_for_mismatched_structure(self, build):
    opt = build()
    state = opt.initialize(_TWO_SPECS)

    with self.assertRaises(ValueError):
      opt.next(state, _TWO_WEIGHTS, [np.ones([2], np.float32)])

  @parameterized.named_parameters(*_ALL_OPTIMIZERS)
  def test_next_skips_none_gradient_over_three_steps(self, build):
    opt = build()
    state = opt.initialize(_TWO_SPECS)
    alone = opt.initialize(_TWO_SPECS[:1])
    weights, alone_weights = _TWO_WEIGHTS, _TWO_WEIGHTS[:1]

    for g in ([1.0, -2.0], [0.5, 0.5], [-1.0, 3.0]):
      gradient = np.array(g, np.float32)
      state, weights = opt.next(state, weights, [gradient, None])
      alone, alone_weights = opt.next(alone, alone_weights, [gradient])

    self.assertEqual(float(weights[1]), 0.5)
    np.testing.assert_allclose(weights[0], alone_weights[0], rtol=1e-6)
    self.assertNotAlmostEqual(float(weights[0][0]), 1.0)

  @parameterized.named_parameters(*_ALL_OPTIMIZERS)
  def test_next_with_float64_weights_matches_float32(self, build):
    opt = build()
    specs64 = [tf.TensorSpec([2], tf.float64)]
    state64 = opt.initialize(specs64)
    state32 = opt.initialize([tf.TensorSpec([2], tf.float32)])
    weights64 = [np.array([1.0, -1.0], np.float64)]
    weights32 = [np.array([1.0, -1.0], np.float32)]

    for g in ([1.0, -2.0], [0.5, 0.25]):
      state64, weights64 = opt.next(state64, weights64,
                                    [np.array(g, np.float64)])
      state32, weights32 = opt.next(state32, weights32,
                                    [np.array(g, np.float32)])

    self.assertEqual(weights64[0].dtype, tf.float64)
    np.testing.assert_allclose(weights64[0], weights32[0], rtol=1e-5)

  @parameterized.named_parameters(*_ALL_OPTIMIZERS)
  def test_next_accepts_indexed_slices_gradient(self, build):
    opt = build()
    state = opt.initialize([tf.TensorSpec([3, 2], tf.float32)])
    weights = [np.ones([3, 2], np.float32)]
    sparse = tf.IndexedSlices(
        values=tf.constant([[1.0, 2.0]]), indices=tf.constant([1]),
        dense_shape=tf.constant([3, 2]))

    _, from_sparse = opt.next(state, weights, [sparse])
    _, from_dense = opt.next(state, weights, [tf.convert_to_tensor(sparse)])

    np.testing.assert_allclose(from_sparse[0], from_dense[0], rtol=1e-6)


if __name__ == '__main__':
  absltest.main()
