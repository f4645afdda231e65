"""TFF's tutorial "Building Your Own Federated Learning Algorithm", on tffx.

Federated averaging built from `tff.tensorflow.computation`s and
`tff.federated_computation`s around a Keras model wrapped with
`tff.learning.models.from_keras_model` (`model.trainable_variables`,
`model.forward_pass`), packaged as a `tff.templates.IterativeProcess`, as in
the tutorial; EMNIST-shaped local data stands in for the download. The checks
compare the printed type signatures with the tutorial's, and the centralized
Keras evaluation before and after training (loss falls, accuracy rises).
"""

from absl.testing import absltest
import numpy as np
import tensorflow as tf

import tffx as tff
from tffx_test.compat import tutorial_data

NUM_CLIENTS = 4
BATCH_SIZE = 20


def preprocess(dataset):

  def batch_format_fn(element):
    """Flatten a batch of EMNIST data and return a (features, label) tuple."""
    return (tf.reshape(element['pixels'], [-1, 784]),
            tf.reshape(element['label'], [-1, 1]))

  return dataset.batch(BATCH_SIZE).map(batch_format_fn)


def create_keras_model():
  initializer = tf.keras.initializers.GlorotNormal(seed=0)
  return tf.keras.models.Sequential([
      tf.keras.layers.Input(shape=(784,)),
      tf.keras.layers.Dense(10, kernel_initializer=initializer),
      tf.keras.layers.Softmax(),
  ])


@tf.function
def client_update(model, dataset, server_weights, client_optimizer):
  """Performs training (using the server model weights) on the client's dataset."""
  # Initialize the client model with the current server weights.
  client_weights = model.trainable_variables
  # Assign the server weights to the client model.
  tf.nest.map_structure(lambda x, y: x.assign(y), client_weights,
                        server_weights)

  # Use the client_optimizer to update the local model.
  for batch in dataset:
    with tf.GradientTape() as tape:
      # Compute a forward pass on the batch of data
      outputs = model.forward_pass(batch)

    # Compute the corresponding gradient
    grads = tape.gradient(outputs.loss, client_weights)
    grads_and_vars = zip(grads, client_weights)

    # Apply the gradient using a client optimizer.
    client_optimizer.apply_gradients(grads_and_vars)

  return client_weights


@tf.function
def server_update(model, mean_client_weights):
  """Updates the server model weights as the average of the client model weights."""
  model_weights = model.trainable_variables
  # Assign the mean client weights to the server model.
  tf.nest.map_structure(lambda x, y: x.assign(y), model_weights,
                        mean_client_weights)
  return model_weights


class BuildingYourOwnFederatedLearningAlgorithmTest(absltest.TestCase):

  def test_introduction_to_the_federated_core(self):
    federated_float_on_clients = tff.FederatedType(np.float32, tff.CLIENTS)

    @tff.federated_computation(tff.FederatedType(np.float32, tff.CLIENTS))
    def get_average_temperature(client_temperatures):
      return tff.federated_mean(client_temperatures)

    @tff.tensorflow.computation(np.float32)
    def add_half(x):
      return tf.add(x, 0.5)

    @tff.federated_computation(tff.FederatedType(np.float32, tff.CLIENTS))
    def add_half_on_clients(x):
      return tff.federated_map(add_half, x)

    self.assertEqual(str(federated_float_on_clients), '{float32}@CLIENTS')
    self.assertEqual(
        str(get_average_temperature.type_signature),
        '({float32}@CLIENTS -> float32@SERVER)')
    self.assertAlmostEqual(
        get_average_temperature([68.5, 70.3, 69.8]),
        np.mean(np.array([68.5, 70.3, 69.8], np.float32)), places=4)
    self.assertEqual(str(add_half.type_signature), '(float32 -> float32)')
    self.assertEqual(
        str(add_half_on_clients.type_signature),
        '({float32}@CLIENTS -> {float32}@CLIENTS)')
    np.testing.assert_allclose(add_half_on_clients([1.0, 3.0, 2.0]),
                               [1.5, 3.5, 2.5])

  def test_tutorial_program_runs_as_written(self):
    emnist_train = tutorial_data.emnist_like_client_data(
        num_clients=6, examples_per_client=60, seed=1)
    emnist_test = tutorial_data.emnist_like_client_data(
        num_clients=3, examples_per_client=40, seed=1)

    client_ids = sorted(emnist_train.client_ids)[:NUM_CLIENTS]
    federated_train_data = [
        preprocess(emnist_train.create_tf_dataset_for_client(x))
        for x in client_ids
    ]

    def model_fn():
      keras_model = create_keras_model()
      return tff.learning.models.from_keras_model(
          keras_model,
          input_spec=federated_train_data[0].element_spec,
          loss=tf.keras.losses.SparseCategoricalCrossentropy(),
          metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])

    @tff.tensorflow.computation
    def server_init():
      model = model_fn()
      return model.trainable_variables

    @tff.federated_computation
    def initialize_fn():
      return tff.federated_value(server_init(), tff.SERVER)

    whimsy_model = model_fn()
    tf_dataset_type = tff.SequenceType(whimsy_model.input_spec)
    self.assertEqual(str(tf_dataset_type), '<float32[?,784],int32[?,1]>*')

    model_weights_type = server_init.type_signature.result
    self.assertEqual(str(model_weights_type), '<float32[784,10],float32[10]>')

    @tff.tensorflow.computation(tf_dataset_type, model_weights_type)
    def client_update_fn(tf_dataset, server_weights):
      model = model_fn()
      client_optimizer = tf.keras.optimizers.SGD(learning_rate=0.01)
      return client_update(model, tf_dataset, server_weights, client_optimizer)

    @tff.tensorflow.computation(model_weights_type)
    def server_update_fn(mean_client_weights):
      model = model_fn()
      return server_update(model, mean_client_weights)

    federated_server_type = tff.FederatedType(model_weights_type, tff.SERVER)
    federated_dataset_type = tff.FederatedType(tf_dataset_type, tff.CLIENTS)

    @tff.federated_computation(federated_server_type, federated_dataset_type)
    def next_fn(server_weights, federated_dataset):
      # Broadcast the server weights to the clients.
      server_weights_at_client = tff.federated_broadcast(server_weights)

      # Each client computes their updated weights.
      client_weights = tff.federated_map(
          client_update_fn, (federated_dataset, server_weights_at_client))

      # The server averages these updates.
      mean_client_weights = tff.federated_mean(client_weights)

      # The server updates its model.
      server_weights = tff.federated_map(server_update_fn, mean_client_weights)

      return server_weights

    federated_algorithm = tff.templates.IterativeProcess(
        initialize_fn=initialize_fn, next_fn=next_fn)

    self.assertEqual(
        str(federated_algorithm.initialize.type_signature),
        '( -> <float32[784,10],float32[10]>@SERVER)')
    self.assertEqual(
        str(federated_algorithm.next.type_signature),
        '(<server_weights=<float32[784,10],float32[10]>@SERVER,'
        'federated_dataset={<float32[?,784],int32[?,1]>*}@CLIENTS> -> '
        '<float32[784,10],float32[10]>@SERVER)')

    central_emnist_test = emnist_test.create_tf_dataset_from_all_clients()
    central_emnist_test = preprocess(central_emnist_test)

    def evaluate(model_weights):
      keras_model = create_keras_model()
      keras_model.compile(
          loss=tf.keras.losses.SparseCategoricalCrossentropy(),
          metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])
      keras_model.set_weights(model_weights)
      return keras_model.evaluate(central_emnist_test, verbose=0)

    server_state = federated_algorithm.initialize()
    initial_loss, initial_accuracy = evaluate(server_state)

    for _ in range(8):
      server_state = federated_algorithm.next(server_state,
                                              federated_train_data)
    final_loss, final_accuracy = evaluate(server_state)

    self.assertLess(final_loss, initial_loss)
    self.assertGreater(final_accuracy, initial_accuracy)


if __name__ == '__main__':
  absltest.main()
