"""Tests for dataset_values: a dataset argument is a value on every call."""

import subprocess
import sys
import textwrap

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

import tffx as tff
from tffx.executors import dataset_values


def _shuffled(seed=3):
  return tf.data.Dataset.range(10).shuffle(10, seed=seed)


def _first_pass(dataset):
  return [int(x) for x in dataset.as_numpy_iterator()]


@tff.tf_computation(tff.SequenceType(np.int64))
def _order(dataset):
  # The first five elements as one number, e.g. 47268 for 4, 7, 2, 6, 8.
  return dataset.take(5).reduce(np.int64(0), lambda acc, x: acc * 10 + x)


@tff.federated_computation(tff.type_at_clients(tff.SequenceType(np.int64)))
def _client_orders(datasets):
  return tff.federated_map(_order, datasets)


def _expected_order(seed=3):
  digits = _first_pass(_shuffled(seed))[:5]
  return int(''.join(str(d) for d in digits))


_EXECUTORS = (
    ('native', tff.backends.native.create_local_execution_context),
    ('reference', tff.backends.reference.create_reference_execution_context),
)


class AsValueTest(absltest.TestCase):

  def test_as_value_gives_the_first_pass_after_reads(self):
    dataset = _shuffled()
    first = _first_pass(dataset)
    _first_pass(dataset)  # The live object now gives another order.

    rebuilt = dataset_values.as_value(dataset)

    self.assertEqual(_first_pass(rebuilt), first)
    self.assertNotEqual(_first_pass(dataset), first)

  def test_as_value_of_a_generator_dataset(self):

    def generate():
      yield from range(6)

    dataset = tf.data.Dataset.from_generator(
        generate, output_signature=tf.TensorSpec([], tf.int64)).shuffle(
            6, seed=1)
    first = _first_pass(dataset)
    _first_pass(dataset)

    rebuilt = dataset_values.as_value(dataset)

    self.assertEqual(_first_pass(rebuilt), first)

  def test_as_value_under_op_determinism(self):
    # Op determinism cannot be turned off again, so it runs in a subprocess.
    program = textwrap.dedent("""
        import tensorflow as tf
        from tffx.executors import dataset_values
        tf.config.experimental.enable_op_determinism()
        dataset = tf.data.Dataset.range(3)
        assert dataset_values.as_value(dataset) is dataset
        print('ok')
    """)

    run = subprocess.run([sys.executable, '-c', program], capture_output=True,
                         text=True, timeout=300, check=False)

    self.assertEqual(run.stdout.strip(), 'ok', run.stderr[-2000:])

  def test_as_value_keeps_a_dataset_without_shuffle(self):
    dataset = tf.data.Dataset.range(3).map(lambda x: x * 2)

    self.assertIs(dataset_values.as_value(dataset), dataset)

  def test_as_value_of_a_shuffle_inside_a_pipeline(self):
    dataset = _shuffled().batch(3).map(lambda x: x + 1)
    expected = [b.tolist() for b in dataset.as_numpy_iterator()]
    dataset.as_numpy_iterator()  # Not read to the end: no effect.
    list(dataset)

    rebuilt = dataset_values.as_value(dataset)

    self.assertEqual([b.tolist() for b in rebuilt.as_numpy_iterator()],
                     expected)


class DatasetArgumentTest(parameterized.TestCase):

  @tff.test.with_contexts(*_EXECUTORS)
  def test_every_call_sees_the_same_order(self):
    dataset = _shuffled()
    _first_pass(dataset)
    _first_pass(dataset)

    orders = [_order(dataset) for _ in range(3)]

    self.assertEqual(orders, [_expected_order()] * 3)

  @tff.test.with_contexts(*_EXECUTORS)
  def test_client_datasets_are_values_in_every_round(self):
    datasets = [_shuffled(3), _shuffled(4)]

    rounds = [_client_orders(datasets) for _ in range(2)]

    self.assertEqual(rounds, [[_expected_order(3), _expected_order(4)]] * 2)


if __name__ == '__main__':
  absltest.main()
