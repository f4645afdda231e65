import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.computations import tensorflow_computation as tfc
from tffx.executors import batched_computation
from tffx.executors import tensorflow_runner
from tffx.types import computation_types as ct
from tffx.types import structure

VECTOR = ct.TensorType(np.float32, [3])


def _exp(x):
  return tf.exp(x)


def _mixes_ranks(x, y):
  # y (a scalar per client) would broadcast along the client axis.
  return x + y


def _constant(x):
  del x  # Unused.
  return tf.constant(1.0)


def _reduces(x):
  return tf.reduce_sum(x)


def _dataset_sum(ds):
  return ds.reduce(0.0, lambda a, b: a + b)


def _run_per_client(comp, stacked_args):
  runner = tensorflow_runner.load(comp.to_building_block())
  return [runner(arg) for arg in stacked_args]


class ToBatchedTest(parameterized.TestCase):

  def test_batched_scalar_function_matches_per_client_calls(self):

    @tfc.tf_computation(np.float32)
    def scale(x):
      return tf.maximum(x * 1.1 - 0.3, -1.0) / 3.0

    values = np.float32(np.random.default_rng(0).normal(size=50) * 100)

    batched = batched_computation.to_batched(scale.to_building_block())
    result = tensorflow_runner.load(batched)(values)

    self.assertEqual(str(batched.type_signature),
                     '(float32[?] -> float32[?])')
    np.testing.assert_array_equal(result, _run_per_client(scale, values))

  def test_batched_struct_function_broadcasts_lower_rank_constants(self):
    member = collections.OrderedDict(v=VECTOR, n=ct.TensorType(np.int32, [3]))

    @tfc.tf_computation(member)
    def shift(x):
      return {'sum': x['v'] + tf.constant([1.0, 2.0, 3.0]) * 2.0,
              'big': tf.cast(x['n'], tf.float32) > x['v']}

    rng = np.random.default_rng(1)
    v = np.float32(rng.normal(size=(4, 3)))
    n = np.int32(rng.integers(-2, 2, size=(4, 3)))

    batched = batched_computation.to_batched(shift.to_building_block())
    result = tensorflow_runner.load(batched)(structure.Struct.named(v=v, n=n))

    expected = _run_per_client(
        shift, [structure.Struct.named(v=v[i], n=n[i]) for i in range(4)])
    for i in range(4):
      np.testing.assert_array_equal(result.sum[i], expected[i].sum)
      np.testing.assert_array_equal(result.big[i], expected[i].big)

  def test_batched_block_keeps_computation_name(self):

    @tfc.tf_computation(np.float32)
    def add_one(x):
      return x + 1.0

    batched = batched_computation.to_batched(add_one.to_building_block())

    self.assertEqual(batched.name, 'add_one')

  @parameterized.named_parameters(
      ('transcendental_op', _exp, [np.float32]),
      ('batched_inputs_of_different_ranks', _mixes_ranks,
       [VECTOR, np.float32]),
      ('result_independent_of_argument', _constant, [np.float32]),
      ('reduction', _reduces, [VECTOR]),
      ('unknown_shape', _exp, [ct.TensorType(np.float32, [None])]),
      ('sequence_parameter', _dataset_sum, [ct.SequenceType(np.float32)]),
  )
  def test_to_batched_declines(self, fn, parameter_types):
    comp = tfc.tf_computation(fn, *parameter_types)

    self.assertIsNone(batched_computation.to_batched(comp.to_building_block()))

  def test_to_batched_declines_functions_of_no_parameter(self):
    comp = tfc.tf_computation(lambda: tf.constant(1.0))

    self.assertIsNone(batched_computation.to_batched(comp.to_building_block()))


if __name__ == '__main__':
  absltest.main()
