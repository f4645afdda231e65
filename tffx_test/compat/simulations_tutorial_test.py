"""TFF's tutorial "High-performance Simulation with TFF", run on tffx.

The tutorial's program: EMNIST client data mapped to flat batches, a Keras
model wrapped with `from_keras_model`, `build_weighted_fed_avg`, and an
`evaluate` loop that times and prints the training metrics of each round.
EMNIST-shaped local data stands in for the download. The checks compare the
printed metrics with the data (example and batch counts) and that the loss
falls.
"""

import collections
import contextlib
import io
import re
import time

from absl.testing import absltest
import tensorflow as tf

import tffx as tff
from tffx_test.compat import tutorial_data


class SimulationsTest(absltest.TestCase):

  def test_tutorial_program_runs_as_written(self):
    source = tutorial_data.emnist_like_client_data(
        num_clients=10, examples_per_client=30, seed=3)

    def map_fn(example):
      return collections.OrderedDict(
          x=tf.reshape(example['pixels'], [-1, 784]), y=example['label'])

    def client_data(n):
      ds = source.create_tf_dataset_for_client(source.client_ids[n])
      return ds.repeat(2).shuffle(500).batch(20).map(map_fn)

    train_data = [client_data(n) for n in range(10)]
    element_spec = train_data[0].element_spec

    def model_fn():
      model = tf.keras.models.Sequential([
          tf.keras.layers.InputLayer(input_shape=(784,)),
          tf.keras.layers.Dense(units=10, kernel_initializer='zeros'),
          tf.keras.layers.Softmax(),
      ])
      return tff.learning.models.from_keras_model(
          model,
          input_spec=element_spec,
          loss=tf.keras.losses.SparseCategoricalCrossentropy(),
          metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])

    trainer = tff.learning.algorithms.build_weighted_fed_avg(
        model_fn,
        client_optimizer_fn=tff.learning.optimizers.build_sgdm(
            learning_rate=0.02))

    all_train_metrics = []

    def evaluate(num_rounds=10):
      state = trainer.initialize()
      for _ in range(num_rounds):
        t1 = time.time()
        result = trainer.next(state, train_data)
        state = result.state
        train_metrics = result.metrics['client_work']['train']
        t2 = time.time()
        all_train_metrics.append(train_metrics)
        print('train metrics {m}, round time {t:.2f} seconds'.format(
            m=train_metrics, t=t2 - t1))

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
      evaluate(5)

    lines = printed.getvalue().splitlines()
    self.assertLen(lines, 5)
    for line in lines:
      self.assertRegex(
          line, r"^train metrics OrderedDict\(\[\('sparse_categorical_accuracy'"
          r", .*\('num_batches', .*\)\]\), round time \d+\.\d\d seconds$")
    # Every client has 30 examples, repeated twice, in batches of 20.
    self.assertEqual(all_train_metrics[0]['num_examples'], 10 * 60)
    self.assertEqual(all_train_metrics[0]['num_batches'], 10 * 3)
    # NumPy 2 prints scalars as `np.int64(600)`, NumPy 1 (TFF 0.87's) as `600`.
    self.assertEqual(
        re.findall(r"'num_examples', (?:np\.int64\()?(\d+)", lines[0]),
        ['600'])
    losses = [m['loss'] for m in all_train_metrics]
    self.assertLess(losses[-1], losses[0])
    self.assertGreater(all_train_metrics[-1]['sparse_categorical_accuracy'],
                       all_train_metrics[0]['sparse_categorical_accuracy'])


if __name__ == '__main__':
  absltest.main()
