"""TFF's tutorial "Custom Federated Algorithms, Part 1", run on tffx.

The program below is written the way the tutorial's code is written (same
API calls, in the same order; the tutorial's temperature readings), and the
checks compare what it prints (type signatures, results) with what the
tutorial shows, and results with NumPy.
"""

import collections
import contextlib
import io

from absl.testing import absltest
import numpy as np
import tensorflow as tf

import tffx as tff


class HelloWorldTest(absltest.TestCase):

  def test_hello_world_returns_bytes(self):

    @tff.federated_computation
    def hello_world():
      return 'Hello, World!'

    result = hello_world()

    self.assertEqual(result, b'Hello, World!')
    self.assertEqual(result.decode(), 'Hello, World!')


class FederatedTypesTest(absltest.TestCase):

  def test_federated_float_on_clients_prints_as_in_tutorial(self):
    federated_float_on_clients = tff.FederatedType(np.float32, tff.CLIENTS)

    self.assertEqual(str(federated_float_on_clients.member), 'float32')
    self.assertEqual(str(federated_float_on_clients.placement), 'CLIENTS')
    self.assertEqual(str(federated_float_on_clients), '{float32}@CLIENTS')
    self.assertFalse(federated_float_on_clients.all_equal)
    self.assertEqual(
        str(tff.FederatedType(np.float32, tff.CLIENTS, all_equal=True)),
        'float32@CLIENTS')

  def test_simple_regression_model_type_prints_as_in_tutorial(self):
    simple_regression_model_type = (
        tff.StructType([('a', np.float32), ('b', np.float32)]))

    self.assertEqual(str(simple_regression_model_type), '<a=float32,b=float32>')
    self.assertEqual(
        str(tff.FederatedType(
            simple_regression_model_type, tff.CLIENTS, all_equal=True)),
        '<a=float32,b=float32>@CLIENTS')

  def test_federated_type_repr_is_tffs(self):
    federated_float_on_clients = tff.FederatedType(np.float32, tff.CLIENTS)

    self.assertEqual(
        repr(federated_float_on_clients),
        "FederatedType(TensorType(np.float32), PlacementLiteral('clients'), "
        'False)')


class FederatedComputationsTest(absltest.TestCase):

  def test_get_average_temperature_traces_once_and_averages(self):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):

      @tff.federated_computation(tff.FederatedType(np.float32, tff.CLIENTS))
      def get_average_temperature(sensor_readings):
        print('Getting traced, the argument is "{}".'.format(
            type(sensor_readings).__name__))
        return tff.federated_mean(sensor_readings)

    result = get_average_temperature([68.5, 70.3, 69.8])

    self.assertEqual(printed.getvalue(),
                     'Getting traced, the argument is "Value".\n')
    self.assertEqual(
        str(get_average_temperature.type_signature),
        '({float32}@CLIENTS -> float32@SERVER)')
    self.assertAlmostEqual(
        result, np.mean(np.array([68.5, 70.3, 69.8], np.float32)), places=4)

  def test_fraction_over_threshold_broadcasts_the_threshold(self):

    @tff.tensorflow.computation(np.float32, np.float32)
    def exceeds_threshold_fn(reading, threshold):
      return tf.cast(reading > threshold, np.float32)

    @tff.federated_computation(
        tff.FederatedType(np.float32, tff.CLIENTS),
        tff.FederatedType(np.float32, tff.SERVER))
    def get_fraction_over_threshold(readings, threshold):
      return tff.federated_mean(
          tff.federated_map(
              exceeds_threshold_fn,
              [readings, tff.federated_broadcast(threshold)]))

    result = get_fraction_over_threshold([68.5, 70.3, 69.8], 69.0)

    self.assertEqual(
        str(get_fraction_over_threshold.type_signature),
        '(<readings={float32}@CLIENTS,threshold=float32@SERVER> -> '
        'float32@SERVER)')
    self.assertAlmostEqual(result, 2.0 / 3.0, places=6)


class TensorFlowLogicTest(absltest.TestCase):

  def test_add_half_on_clients_maps_pointwise(self):

    @tff.tensorflow.computation(np.float32)
    def add_half(x):
      return tf.add(x, 0.5)

    @tff.federated_computation(tff.FederatedType(np.float32, tff.CLIENTS))
    def add_half_on_clients(x):
      return tff.federated_map(add_half, x)

    result = add_half_on_clients([1.0, 3.0, 2.0])

    self.assertEqual(str(add_half.type_signature), '(float32 -> float32)')
    self.assertEqual(
        str(add_half_on_clients.type_signature),
        '({float32}@CLIENTS -> {float32}@CLIENTS)')
    np.testing.assert_allclose(result, [1.5, 3.5, 2.5])

  def test_capturing_an_eager_tensor_fails_and_a_constant_inside_works(self):
    constant_10 = tf.constant(10.)

    with self.assertRaisesRegex(
        Exception,
        'Attempting to capture an EagerTensor without building a function'):

      @tff.tensorflow.computation(np.float32)
      def add_ten_captured(x):
        return x + constant_10

      add_ten_captured(5.0)

    def get_constant_10():
      return tf.constant(10.)

    @tff.tensorflow.computation(np.float32)
    def add_ten(x):
      return x + get_constant_10()

    self.assertEqual(add_ten(5.0), 15.0)


class SequencesTest(absltest.TestCase):

  def test_local_temperature_average_reduces_a_sequence(self):
    float32_sequence = tff.SequenceType(np.float32)

    @tff.tensorflow.computation(tff.SequenceType(np.float32))
    def get_local_temperature_average(local_temperatures):
      sum_and_count = (
          local_temperatures.reduce((0.0, 0), lambda x, y: (x[0] + y, x[1] + 1)))
      return sum_and_count[0] / tf.cast(sum_and_count[1], np.float32)

    @tff.tensorflow.computation(tff.SequenceType(np.int32))
    def foo(x):
      return x.reduce(np.int32(0), lambda x, y: x + y)

    self.assertEqual(str(float32_sequence), 'float32*')
    self.assertEqual(
        str(get_local_temperature_average.type_signature),
        '(float32* -> float32)')
    self.assertEqual(foo([1, 2, 3]), 6)
    self.assertAlmostEqual(
        get_local_temperature_average([68.5, 70.3, 69.8]),
        np.mean(np.array([68.5, 70.3, 69.8], np.float32)), places=4)

  def test_sequence_of_structures_prints_its_element_spec(self):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):

      @tff.tensorflow.computation(
          tff.SequenceType(
              collections.OrderedDict([('A', np.int32), ('B', np.int32)])))
      def foo(ds):
        print('element_structure = {}'.format(ds.element_spec))
        return ds.reduce(np.int32(0), lambda total, x: total + x['A'] * x['B'])

    result = foo([{'A': 2, 'B': 3}, {'A': 4, 'B': 5}])

    self.assertEqual(
        printed.getvalue(),
        "element_structure = OrderedDict([('A', TensorSpec(shape=(), "
        "dtype=tf.int32, name=None)), ('B', TensorSpec(shape=(), "
        "dtype=tf.int32, name=None))])\n")
    self.assertEqual(str(foo.type_signature), '(<A=int32,B=int32>* -> int32)')
    self.assertEqual(result, 2 * 3 + 4 * 5)

  def test_global_temperature_average_is_mean_of_local_means(self):

    @tff.tensorflow.computation(tff.SequenceType(np.float32))
    def get_local_temperature_average(local_temperatures):
      sum_and_count = (
          local_temperatures.reduce((0.0, 0), lambda x, y: (x[0] + y, x[1] + 1)))
      return sum_and_count[0] / tf.cast(sum_and_count[1], np.float32)

    @tff.federated_computation(
        tff.FederatedType(tff.SequenceType(np.float32), tff.CLIENTS))
    def get_global_temperature_average(sensor_readings):
      return tff.federated_mean(
          tff.federated_map(get_local_temperature_average, sensor_readings))

    readings = [[68.0, 70.0], [71.0], [68.0, 72.0, 70.0]]
    result = get_global_temperature_average(readings)

    self.assertEqual(
        str(get_global_temperature_average.type_signature),
        '({float32*}@CLIENTS -> float32@SERVER)')
    self.assertAlmostEqual(
        result, np.mean([np.mean(r) for r in readings]), places=4)


if __name__ == '__main__':
  absltest.main()
