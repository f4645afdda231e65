"""TFF's tutorial "Composing Learning Algorithms", run on tffx.

FedAvg with client-side gradient clipping, composed from a custom
`tff.learning.templates.ClientWorkProcess`, `build_broadcast_process`,
`tff.aggregators.MeanFactory` and `build_apply_optimizer_finalizer` with
`tff.learning.templates.compose_learning_process`, as in the tutorial, on
EMNIST-shaped local data. The checks compare the state, types and metrics with
the tutorial's and one round with the same algorithm written in NumPy.
"""

import collections

from absl.testing import absltest
import numpy as np
import tensorflow as tf

import tffx as tff
from tffx_test.compat import tutorial_data

NUM_CLIENTS = 4
BATCH_SIZE = 20


@tf.function
def client_update(model, dataset, server_weights, client_optimizer):
  """Performs training (using the server model weights) on the client's dataset."""
  # Initialize the client model with the current server weights.
  client_weights = tff.learning.models.ModelWeights.from_model(model)
  tf.nest.map_structure(lambda x, y: x.assign(y), client_weights,
                        server_weights)

  # Use the client_optimizer to update the local model.
  # Keep track of the number of examples as well.
  num_examples = 0.0
  for batch in dataset:
    with tf.GradientTape() as tape:
      # Compute a forward pass on the batch of data
      outputs = model.forward_pass(batch)
      num_examples += tf.cast(outputs.num_examples, tf.float32)

    # Compute the corresponding gradient
    grads = tape.gradient(outputs.loss, client_weights.trainable)

    # Compute the gradient norm and clip
    gradient_norm = tf.linalg.global_norm(grads)
    if gradient_norm > 1:
      grads = tf.nest.map_structure(lambda x: x / gradient_norm, grads)

    grads_and_vars = zip(grads, client_weights.trainable)

    # Apply the gradient using a client optimizer.
    client_optimizer.apply_gradients(grads_and_vars)

  # Compute the difference between the server weights and the client weights
  client_update = tf.nest.map_structure(tf.subtract,
                                        client_weights.trainable,
                                        server_weights.trainable)

  return tff.learning.templates.ClientResult(
      update=client_update, update_weight=num_examples)


def build_gradient_clipping_client_work(model_fn, optimizer_fn):
  """Creates a client work process that uses gradient clipping."""

  with tf.Graph().as_default():
    # Wrap model construction in a graph to avoid polluting the global context
    # with variables created for this model.
    model = model_fn()
  data_type = tff.SequenceType(model.input_spec)
  model_weights_type = tff.learning.models.weights_type_from_model(model)

  @tff.federated_computation
  def initialize_fn():
    return tff.federated_value((), tff.SERVER)

  @tff.tensorflow.computation(model_weights_type, data_type)
  def client_update_computation(model_weights, dataset):
    model = model_fn()
    optimizer = optimizer_fn()
    return client_update(model, dataset, model_weights, optimizer)

  @tff.federated_computation(
      initialize_fn.type_signature.result,
      tff.FederatedType(model_weights_type, tff.CLIENTS),
      tff.FederatedType(data_type, tff.CLIENTS)
  )
  def next_fn(state, model_weights, client_dataset):
    client_result = tff.federated_map(
        client_update_computation, (model_weights, client_dataset))
    # Return empty measurements, though a more complete algorithm might
    # measure something here.
    measurements = tff.federated_value((), tff.SERVER)
    return tff.templates.MeasuredProcessOutput(state, client_result,
                                               measurements)

  return tff.learning.templates.ClientWorkProcess(initialize_fn, next_fn)


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


def _numpy_round(weights, datasets, learning_rate=0.01):
  """One round of the tutorial's algorithm in NumPy (for the linear model).

  Each client runs SGD from `weights` with the gradient scaled to norm 1 when
  larger, and reports `trained - initial` weighted by its example count; the
  finalizer applies SGD (learning rate 1) to the weighted mean of those
  updates, as `build_apply_optimizer_finalizer` does.
  """
  initial = [w.astype(np.float64) for w in weights]
  updates, counts = [], []
  for dataset in datasets:
    kernel, bias = [w.copy() for w in initial]
    count = 0
    for x, y in dataset.as_numpy_iterator():
      y = y.reshape([-1])
      logits = x @ kernel + bias
      probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
      probabilities /= probabilities.sum(axis=1, keepdims=True)
      error = (probabilities - np.eye(10)[y]) / len(y)
      grads = [x.T @ error, error.sum(axis=0)]
      norm = np.sqrt(sum(np.sum(g**2) for g in grads))
      if norm > 1:
        grads = [g / norm for g in grads]
      kernel -= learning_rate * grads[0]
      bias -= learning_rate * grads[1]
      count += len(y)
    updates.append([kernel - initial[0], bias - initial[1]])
    counts.append(count)
  mean_update = [
      sum(c * u[i] for c, u in zip(counts, updates)) / sum(counts)
      for i in range(2)
  ]
  return [w - u for w, u in zip(initial, mean_update)]


class ComposingLearningAlgorithmsTest(absltest.TestCase):

  def test_tutorial_program_runs_as_written(self):
    emnist_train = tutorial_data.emnist_like_client_data(
        num_clients=6, examples_per_client=60, seed=2)
    client_ids = sorted(emnist_train.client_ids)[:NUM_CLIENTS]
    federated_train_data = [
        preprocess(emnist_train.create_tf_dataset_for_client(x))
        for x in client_ids
    ]
    input_spec = federated_train_data[0].element_spec

    def model_fn():
      keras_model = create_keras_model()
      return tff.learning.models.from_keras_model(
          keras_model,
          input_spec=input_spec,
          loss=tf.keras.losses.SparseCategoricalCrossentropy(),
          metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])

    client_optimizer_fn = lambda: tf.keras.optimizers.SGD(learning_rate=0.01)
    server_optimizer_fn = tff.learning.optimizers.build_sgdm(learning_rate=1.0)

    @tff.tensorflow.computation()
    def initial_model_weights_fn():
      return tff.learning.models.ModelWeights.from_model(model_fn())

    model_weights_type = initial_model_weights_fn.type_signature.result

    distributor = tff.learning.templates.build_broadcast_process(
        model_weights_type)
    client_work = build_gradient_clipping_client_work(model_fn,
                                                      client_optimizer_fn)

    # TFF aggregators use a factory pattern, which create an aggregator
    # based on the output type of the client work. This also uses a float (the
    # number of examples) to govern the weight in the average being computed.
    aggregator_factory = tff.aggregators.MeanFactory()
    aggregator = aggregator_factory.create(model_weights_type.trainable,
                                           tff.TensorType(np.float32))
    finalizer = tff.learning.templates.build_apply_optimizer_finalizer(
        server_optimizer_fn, model_weights_type)

    fed_avg_with_clipping = tff.learning.templates.compose_learning_process(
        initial_model_weights_fn,
        distributor,
        client_work,
        aggregator,
        finalizer
    )

    state = fed_avg_with_clipping.initialize()

    self.assertEqual(state.client_work, ())
    # The finalizer's state is the server optimizer's (its hyperparameters).
    self.assertEqual(dict(state.finalizer), {'learning_rate': 1.0})
    self.assertEqual(
        str(model_weights_type),
        '<trainable=<float32[784,10],float32[10]>,non_trainable=<>>')

    initial_weights = fed_avg_with_clipping.get_model_weights(state)
    learning_process_output = fed_avg_with_clipping.next(
        state, federated_train_data)

    self.assertEqual(
        learning_process_output.metrics,
        collections.OrderedDict([
            ('distributor', ()),
            ('client_work', ()),
            ('aggregator',
             collections.OrderedDict([('mean_value', ()),
                                      ('mean_weight', ())])),
            ('finalizer', collections.OrderedDict([('update_non_finite', 0)])),
        ]))

    # The tutorial's client update is `trained - initial`, which the
    # finalizer's SGD subtracts: the round moves away from the clients'
    # training. The NumPy round reproduces exactly that.
    expected = _numpy_round(initial_weights.trainable, federated_train_data)
    weights = fed_avg_with_clipping.get_model_weights(
        learning_process_output.state)
    np.testing.assert_allclose(weights.trainable[0], expected[0], atol=1e-5)
    np.testing.assert_allclose(weights.trainable[1], expected[1], atol=1e-5)


if __name__ == '__main__':
  absltest.main()
