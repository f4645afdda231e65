"""TFF's tutorial "Federated Learning for Image Classification", run on tffx.

The program is written the way the tutorial's code is written: EMNIST
client data, `preprocess`, a Keras model wrapped with
`tff.learning.models.from_keras_model`, `build_weighted_fed_avg`, the
TensorBoard summaries, then the same model written by hand as a
`tff.learning.models.VariableModel`, and federated evaluation with
`build_fed_eval`. `tutorial_data.emnist_like_client_data` stands in for
`tff.simulation.datasets.emnist.load_data()` (same element structure).
"""

import collections
import os

from absl.testing import absltest
import numpy as np
import tensorflow as tf

import tffx as tff
from tffx_test.compat import tutorial_data

NUM_CLIENTS = 4
NUM_EPOCHS = 2
BATCH_SIZE = 20
SHUFFLE_BUFFER = 100
PREFETCH_BUFFER = 10

# What the tutorial prints for `training_process.initialize.type_signature`,
# except that tffx keeps the client optimizer's hyperparameters as the client
# work's state, where the tutorial shows `client_work=<>` (a recorded
# difference, docs/tff_differences.md, Tutorials).
_INITIALIZE_TYPE = """\
( -> <
  global_model_weights=<
    trainable=<
      float32[784,10],
      float32[10]
    >,
    non_trainable=<>
  >,
  distributor=<>,
  client_work=<
    learning_rate=float32
  >,
  aggregator=<
    value_sum_process=<>,
    weight_sum_process=<>
  >,
  finalizer=<
    learning_rate=float32
  >
>@SERVER)"""


def preprocess(dataset):

  def batch_format_fn(element):
    """Flatten a batch `pixels` and return the features as an `OrderedDict`."""
    return collections.OrderedDict(
        x=tf.reshape(element['pixels'], [-1, 784]),
        y=tf.reshape(element['label'], [-1, 1]))

  return dataset.repeat(NUM_EPOCHS).shuffle(SHUFFLE_BUFFER, seed=1).batch(
      BATCH_SIZE).map(batch_format_fn).prefetch(PREFETCH_BUFFER)


def make_federated_data(client_data, client_ids):
  return [
      preprocess(client_data.create_tf_dataset_for_client(x))
      for x in client_ids
  ]


def create_keras_model():
  return tf.keras.models.Sequential([
      tf.keras.layers.InputLayer(input_shape=(784,)),
      tf.keras.layers.Dense(10, kernel_initializer='zeros'),
      tf.keras.layers.Softmax(),
  ])


MnistVariables = collections.namedtuple(
    'MnistVariables', 'weights bias num_examples loss_sum accuracy_sum')


def create_mnist_variables():
  return MnistVariables(
      weights=tf.Variable(
          lambda: tf.zeros(dtype=tf.float32, shape=(784, 10)),
          name='weights',
          trainable=True),
      bias=tf.Variable(
          lambda: tf.zeros(dtype=tf.float32, shape=(10)),
          name='bias',
          trainable=True),
      num_examples=tf.Variable(0.0, name='num_examples', trainable=False),
      loss_sum=tf.Variable(0.0, name='loss_sum', trainable=False),
      accuracy_sum=tf.Variable(0.0, name='accuracy_sum', trainable=False))


def predict_on_batch(variables, x):
  return tf.nn.softmax(tf.matmul(x, variables.weights) + variables.bias)


def mnist_forward_pass(variables, batch):
  y = predict_on_batch(variables, batch['x'])
  predictions = tf.cast(tf.argmax(y, 1), tf.int32)

  flat_labels = tf.reshape(batch['y'], [-1])
  loss = -tf.reduce_mean(
      tf.reduce_sum(tf.one_hot(flat_labels, 10) * tf.math.log(y), axis=[1]))
  accuracy = tf.reduce_mean(
      tf.cast(tf.equal(predictions, flat_labels), tf.float32))

  num_examples = tf.cast(tf.size(batch['y']), tf.float32)

  variables.num_examples.assign_add(num_examples)
  variables.loss_sum.assign_add(loss * num_examples)
  variables.accuracy_sum.assign_add(accuracy * num_examples)

  return loss, predictions


def get_local_unfinalized_metrics(variables):
  return collections.OrderedDict(
      num_examples=[variables.num_examples],
      loss=[variables.loss_sum, variables.num_examples],
      accuracy=[variables.accuracy_sum, variables.num_examples])


def get_metric_finalizers():
  return collections.OrderedDict(
      num_examples=tf.function(func=lambda x: x[0]),
      loss=tf.function(func=lambda x: x[0] / x[1]),
      accuracy=tf.function(func=lambda x: x[0] / x[1]))


# The class body is built on first use, so that this module imports (and the
# Keras part of the tutorial runs) while `VariableModel` is missing.
def _mnist_model_class():

  class MnistModel(tff.learning.models.VariableModel):

    def __init__(self):
      self._variables = create_mnist_variables()

    @property
    def trainable_variables(self):
      return [self._variables.weights, self._variables.bias]

    @property
    def non_trainable_variables(self):
      return []

    @property
    def local_variables(self):
      return [
          self._variables.num_examples, self._variables.loss_sum,
          self._variables.accuracy_sum
      ]

    @property
    def input_spec(self):
      return collections.OrderedDict(
          x=tf.TensorSpec([None, 784], tf.float32),
          y=tf.TensorSpec([None, 1], tf.int32))

    @tf.function
    def predict_on_batch(self, x, training=True):
      del training
      return predict_on_batch(self._variables, x)

    @tf.function
    def forward_pass(self, batch, training=True):
      del training
      loss, predictions = mnist_forward_pass(self._variables, batch)
      num_exmaples = tf.shape(batch['x'])[0]
      return tff.learning.models.BatchOutput(
          loss=loss, predictions=predictions, num_examples=num_exmaples)

    @tf.function
    def report_local_unfinalized_metrics(self):
      return get_local_unfinalized_metrics(self._variables)

    def metric_finalizers(self):
      return get_metric_finalizers()

    @tf.function
    def reset_metrics(self):
      for var in self.local_variables:
        var.assign(tf.zeros_like(var))

  return MnistModel


class FederatedLearningForImageClassificationTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.emnist_train = tutorial_data.emnist_like_client_data(
        num_clients=6, examples_per_client=60, seed=0)
    self.emnist_test = tutorial_data.emnist_like_client_data(
        num_clients=6, examples_per_client=30, seed=0)

  def _federated_train_data(self):
    sample_clients = self.emnist_train.client_ids[0:NUM_CLIENTS]
    return make_federated_data(self.emnist_train, sample_clients)

  def test_environment_greeting_is_bytes(self):
    # The tutorial's first cell checks the environment with this greeting.

    greeting = tff.federated_computation(lambda: 'Hello, World!')()

    self.assertEqual(greeting, b'Hello, World!')

  def test_client_data_has_emnists_structure(self):
    emnist_train = self.emnist_train

    example_dataset = emnist_train.create_tf_dataset_for_client(
        emnist_train.client_ids[0])
    example_element = next(iter(example_dataset))
    preprocessed_example_dataset = preprocess(example_dataset)
    sample_batch = tf.nest.map_structure(lambda x: x.numpy(),
                                         next(iter(preprocessed_example_dataset)))

    self.assertEqual(
        emnist_train.element_type_structure,
        collections.OrderedDict([
            ('label', tf.TensorSpec(shape=(), dtype=tf.int32)),
            ('pixels', tf.TensorSpec(shape=(28, 28), dtype=tf.float32)),
        ]))
    self.assertEqual(example_element['label'].numpy().dtype, np.int32)
    self.assertEqual(sample_batch['x'].shape, (BATCH_SIZE, 784))
    self.assertEqual(sample_batch['y'].shape, (BATCH_SIZE, 1))

  def test_keras_model_trains_with_weighted_fed_avg(self):
    federated_train_data = self._federated_train_data()
    preprocessed_example_dataset = federated_train_data[0]

    def model_fn():
      # We _must_ create a new model here, and _not_ capture it from an
      # external scope. TFF will call this within different graph contexts.
      keras_model = create_keras_model()
      return tff.learning.models.from_keras_model(
          keras_model,
          input_spec=preprocessed_example_dataset.element_spec,
          loss=tf.keras.losses.SparseCategoricalCrossentropy(),
          metrics=[tf.keras.metrics.SparseCategoricalAccuracy()])

    training_process = tff.learning.algorithms.build_weighted_fed_avg(
        model_fn,
        client_optimizer_fn=tff.learning.optimizers.build_sgdm(
            learning_rate=0.02),
        server_optimizer_fn=tff.learning.optimizers.build_sgdm(
            learning_rate=1.0))
    self.assertEqual(
        training_process.initialize.type_signature.formatted_representation(),
        _INITIALIZE_TYPE)

    train_state = training_process.initialize()
    result = training_process.next(train_state, federated_train_data)
    train_state = result.state
    train_metrics = result.metrics
    first_metrics = train_metrics

    NUM_ROUNDS = 6
    for _ in range(2, NUM_ROUNDS):
      result = training_process.next(train_state, federated_train_data)
      train_state = result.state
      train_metrics = result.metrics

    # The metrics a round reports, as the tutorial prints them.
    self.assertEqual(list(first_metrics),
                     ['distributor', 'client_work', 'aggregator', 'finalizer'])
    self.assertEqual(
        list(first_metrics['client_work']['train']),
        ['sparse_categorical_accuracy', 'loss', 'num_examples', 'num_batches'])
    self.assertEqual(dict(first_metrics['finalizer']), {'update_non_finite': 0})
    num_examples = sum(
        len(list(d.unbatch())) for d in federated_train_data)
    self.assertEqual(first_metrics['client_work']['train']['num_examples'],
                     num_examples)
    num_batches = sum(len(list(d)) for d in federated_train_data)
    self.assertEqual(first_metrics['client_work']['train']['num_batches'],
                     num_batches)
    # The first round starts from zero weights: uniform predictions.
    self.assertLess(train_metrics['client_work']['train']['loss'],
                    first_metrics['client_work']['train']['loss'])
    self.assertGreater(
        train_metrics['client_work']['train']['sparse_categorical_accuracy'],
        first_metrics['client_work']['train']['sparse_categorical_accuracy'])

    logdir = os.path.join(self.create_tempdir().full_path, 'training')
    summary_writer = tf.summary.create_file_writer(logdir)
    train_state = training_process.initialize()
    with summary_writer.as_default():
      for round_num in range(1, 3):
        result = training_process.next(train_state, federated_train_data)
        train_state = result.state
        train_metrics = result.metrics
        for name, value in train_metrics['client_work']['train'].items():
          tf.summary.scalar(name, value, step=round_num)
    summary_writer.flush()

    tags = set()
    for event_file in tf.io.gfile.glob(os.path.join(logdir, 'events.*')):
      for event in tf.compat.v1.train.summary_iterator(event_file):
        tags.update(value.tag for value in event.summary.value)
    self.assertEqual(
        tags,
        {'sparse_categorical_accuracy', 'loss', 'num_examples', 'num_batches'})

  def test_custom_variable_model_trains_and_evaluates(self):
    federated_train_data = self._federated_train_data()
    MnistModel = _mnist_model_class()

    training_process = tff.learning.algorithms.build_weighted_fed_avg(
        MnistModel,
        client_optimizer_fn=tff.learning.optimizers.build_sgdm(
            learning_rate=0.02))
    train_state = training_process.initialize()
    result = training_process.next(train_state, federated_train_data)
    train_state = result.state
    first_metrics = result.metrics
    for _ in range(2, 6):
      result = training_process.next(train_state, federated_train_data)
      train_state = result.state
      train_metrics = result.metrics

    self.assertEqual(
        list(first_metrics['client_work']['train']),
        ['num_examples', 'loss', 'accuracy'])
    # The model starts at zero (loss log(10) on every batch) and the loss is
    # averaged over the round's batches while it trains, so it is below that.
    self.assertBetween(first_metrics['client_work']['train']['loss'], 0.5,
                       np.log(10.0) - 1e-3)
    self.assertLess(train_metrics['client_work']['train']['loss'],
                    first_metrics['client_work']['train']['loss'])

    evaluation_process = tff.learning.algorithms.build_fed_eval(MnistModel)
    evaluation_state = evaluation_process.initialize()
    model_weights = training_process.get_model_weights(train_state)
    evaluation_state = evaluation_process.set_model_weights(
        evaluation_state, model_weights)
    evaluation_output = evaluation_process.next(evaluation_state,
                                                federated_train_data)
    sample_clients = self.emnist_train.client_ids[0:NUM_CLIENTS]
    federated_test_data = make_federated_data(self.emnist_test, sample_clients)
    test_output = evaluation_process.next(evaluation_state, federated_test_data)

    self.assertIn('<num_examples=float32,loss=float32,accuracy=float32>',
                  evaluation_process.next.type_signature.formatted_representation()
                  .replace('\n', '').replace(' ', ''))
    eval_metrics = evaluation_output.metrics['client_work']['eval'][
        'current_round_metrics']
    # The model's own loss, recomputed in NumPy on the same data.
    weights = model_weights.trainable
    examples = [b for d in federated_train_data for b in d.as_numpy_iterator()]
    x = np.concatenate([b['x'] for b in examples])
    y = np.concatenate([b['y'] for b in examples]).reshape([-1])
    logits = x @ weights[0] + weights[1]
    logits -= logits.max(axis=1, keepdims=True)
    log_probabilities = logits - np.log(np.exp(logits).sum(axis=1,
                                                           keepdims=True))
    self.assertEqual(eval_metrics['num_examples'], len(y))
    self.assertAlmostEqual(
        eval_metrics['accuracy'],
        np.mean(np.argmax(log_probabilities, axis=1) == y), places=4)
    self.assertLess(
        test_output.metrics['client_work']['eval']['current_round_metrics']
        ['loss'], np.log(10.0))


if __name__ == '__main__':
  absltest.main()
