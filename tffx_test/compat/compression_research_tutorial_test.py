"""TFF's tutorial "TFF for Federated Learning Research: Model and Update
Compression", run on tffx.

The tutorial's program: EMNIST preprocessed with `ClientData.preprocess`, the
CNN of the original FedAvg paper wrapped with `from_keras_model`, a `train`
loop that samples clients each round and writes TensorBoard summaries, first
with `build_weighted_fed_avg`'s default aggregator, then with
`model_aggregator=tff.learning.compression_aggregator()` (quantizing the
large tensors of the update). EMNIST-shaped local data stands in for the
download; the tutorial's sizing executor (`tff.framework`) is TFF-internal
and not part of this program (see docs/tff_differences.md). The checks: the
loss falls in both runs, the summaries are written, and one round with
compression lands close to one round without it from the same state.
"""

import functools
import os

from absl.testing import absltest
import numpy as np
import tensorflow as tf

import tffx as tff
from tffx_test.compat import tutorial_data

MAX_CLIENT_DATASET_SIZE = 418

CLIENT_EPOCHS_PER_ROUND = 1
CLIENT_BATCH_SIZE = 20
TEST_BATCH_SIZE = 500


def reshape_emnist_element(element):
  return (tf.expand_dims(element['pixels'], axis=-1), element['label'])


def preprocess_train_dataset(dataset):
  """Preprocessing function for the EMNIST training dataset."""
  return (dataset
          # Shuffle according to the largest client dataset
          .shuffle(buffer_size=MAX_CLIENT_DATASET_SIZE)
          # Repeat to do multiple local epochs
          .repeat(CLIENT_EPOCHS_PER_ROUND)
          # Batch to a fixed client batch size
          .batch(CLIENT_BATCH_SIZE, drop_remainder=False)
          # Preprocessing step
          .map(reshape_emnist_element))


def create_original_fedavg_cnn_model(only_digits=True):
  """The CNN model used in https://arxiv.org/abs/1602.05629."""
  data_format = 'channels_last'

  max_pool = functools.partial(
      tf.keras.layers.MaxPooling2D,
      pool_size=(2, 2),
      padding='same',
      data_format=data_format)
  conv2d = functools.partial(
      tf.keras.layers.Conv2D,
      kernel_size=5,
      padding='same',
      data_format=data_format,
      activation=tf.nn.relu)

  model = tf.keras.models.Sequential([
      tf.keras.layers.InputLayer(input_shape=(28, 28, 1)),
      conv2d(filters=32),
      max_pool(),
      conv2d(filters=64),
      max_pool(),
      tf.keras.layers.Flatten(),
      tf.keras.layers.Dense(512, activation=tf.nn.relu),
      tf.keras.layers.Dense(10 if only_digits else 62),
      tf.keras.layers.Softmax(),
  ])

  return model


class CompressionResearchTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    emnist_train = tutorial_data.emnist_like_client_data(
        num_clients=6, examples_per_client=40, seed=4)
    self.raw_emnist_train = emnist_train
    self.emnist_train = emnist_train.preprocess(preprocess_train_dataset)

    # Gets the type information of the input data. TFF is a strongly typed
    # functional programming framework, and needs type information about
    # inputs to the model.
    input_spec = self.emnist_train.create_tf_dataset_for_client(
        self.emnist_train.client_ids[0]).element_spec

    def tff_model_fn():
      keras_model = create_original_fedavg_cnn_model()
      return tff.learning.models.from_keras_model(
          keras_model=keras_model,
          input_spec=input_spec,
          loss=tf.keras.losses.SparseCategoricalCrossentropy(),
          metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])

    self.tff_model_fn = tff_model_fn

  def _train(self, federated_averaging_process, num_rounds,
             num_clients_per_round, summary_writer):
    """Trains the federated averaging process and outputs metrics."""
    emnist_train = self.emnist_train
    np.random.seed(0)
    losses = []
    # Initialize the Federated Averaging algorithm to get the initial server
    # state.
    state = federated_averaging_process.initialize()

    with summary_writer.as_default():
      for round_num in range(num_rounds):
        # Sample the clients parcitipated in this round.
        sampled_clients = np.random.choice(
            emnist_train.client_ids,
            size=num_clients_per_round,
            replace=False)
        # Create a list of `tf.Dataset` instances from the data of sampled
        # clients.
        sampled_train_data = [
            emnist_train.create_tf_dataset_for_client(client)
            for client in sampled_clients
        ]
        # Round one round of the algorithm based on the server state and
        # client data and output the new state and metrics.
        result = federated_averaging_process.next(state, sampled_train_data)
        state = result.state
        train_metrics = result.metrics['client_work']['train']
        losses.append(train_metrics['loss'])

        # Add metrics to Tensorboard.
        for name, value in train_metrics.items():
          tf.summary.scalar(name, value, step=round_num)
        summary_writer.flush()
    return losses

  def test_training_without_and_with_compression(self):
    federated_averaging = tff.learning.algorithms.build_weighted_fed_avg(
        model_fn=self.tff_model_fn,
        client_optimizer_fn=tff.learning.optimizers.build_sgdm(
            learning_rate=0.02),
        server_optimizer_fn=tff.learning.optimizers.build_sgdm(
            learning_rate=1.0))
    compression_aggregator = tff.learning.compression_aggregator()
    self.assertIsInstance(compression_aggregator,
                          tff.aggregators.WeightedAggregationFactory)
    federated_averaging_with_compression = (
        tff.learning.algorithms.build_weighted_fed_avg(
            self.tff_model_fn,
            client_optimizer_fn=tff.learning.optimizers.build_sgdm(
                learning_rate=0.02),
            server_optimizer_fn=tff.learning.optimizers.build_sgdm(
                learning_rate=1.0),
            model_aggregator=compression_aggregator))

    logdir = self.create_tempdir().full_path
    summary_writer = tf.summary.create_file_writer(
        os.path.join(logdir, 'original'))
    losses = self._train(federated_averaging, num_rounds=4,
                         num_clients_per_round=3,
                         summary_writer=summary_writer)
    summary_writer = tf.summary.create_file_writer(
        os.path.join(logdir, 'compression'))
    compressed_losses = self._train(
        federated_averaging_with_compression, num_rounds=4,
        num_clients_per_round=3, summary_writer=summary_writer)

    self.assertLess(losses[-1], losses[0])
    self.assertLess(compressed_losses[-1], compressed_losses[0])
    self.assertNotEmpty(
        tf.io.gfile.glob(os.path.join(logdir, 'compression', 'events.*')))

    # One round from the same initial weights, on unshuffled data: the
    # compressed update is the uncompressed one up to 8-bit quantization of
    # the large tensors.
    data = [
        self.raw_emnist_train.create_tf_dataset_for_client(c).batch(
            CLIENT_BATCH_SIZE).map(reshape_emnist_element)
        for c in self.raw_emnist_train.client_ids[:3]
    ]
    initial_state = federated_averaging.initialize()
    initial_weights = federated_averaging.get_model_weights(initial_state)
    plain = federated_averaging.next(initial_state, data)
    compressed = federated_averaging_with_compression.next(
        federated_averaging_with_compression.set_model_weights(
            federated_averaging_with_compression.initialize(),
            initial_weights), data)
    initial = initial_weights.trainable
    plain_weights = federated_averaging.get_model_weights(plain.state).trainable
    compressed_weights = federated_averaging_with_compression.get_model_weights(
        compressed.state).trainable
    for start, expected, actual in zip(initial, plain_weights,
                                       compressed_weights):
      update = np.asarray(expected) - np.asarray(start)
      scale = np.max(np.abs(update)) + 1e-12
      np.testing.assert_allclose(
          np.asarray(actual) - np.asarray(start), update, atol=scale / 50)


if __name__ == '__main__':
  absltest.main()
