"""TFF's tutorial "Custom Federated Algorithms, Part 2", run on tffx.

Federated averaging written by hand with `tff.tensorflow.computation` and
`tff.federated_computation`, as in the tutorial, on MNIST-shaped local data
(`tutorial_data.mnist_like_arrays` in place of `tf.keras.datasets.mnist`).
The checks compare the printed type signatures with the tutorial's, the
initial loss with ln(10), and one round of federated training with the same
algorithm written in NumPy.
"""

import collections

from absl.testing import absltest
import numpy as np
import tensorflow as tf

import tffx as tff
from tffx_test.compat import tutorial_data

NUM_EXAMPLES_PER_USER = 40
BATCH_SIZE = 10

# The tutorial builds `tf.keras.optimizers.SGD(learning_rate)` inside a
# `tff.tensorflow.computation`, where `learning_rate` is a graph tensor: Keras 2
# accepts that, Keras 3 rejects it by design (its optimizers take a float or a
# schedule). The program therefore runs as written under Keras 2
# (`TF_USE_LEGACY_KERAS=1` with tf-keras installed), as TFF 0.87's did.
_KERAS_2 = tf.keras.__name__.startswith('tf_keras')

_MODEL_STR = '<weights=float32[784,10],bias=float32[10]>'
_BATCH_STR = '<x=float32[?,784],y=int32[?]>'


def get_data_for_digit(source, digit):
  output_sequence = []
  all_samples = [i for i, d in enumerate(source[1]) if d == digit]
  for i in range(0, min(len(all_samples), NUM_EXAMPLES_PER_USER), BATCH_SIZE):
    batch_samples = all_samples[i:i + BATCH_SIZE]
    output_sequence.append({
        'x':
            np.array([source[0][i].flatten() / 255.0 for i in batch_samples],
                     dtype=np.float32),
        'y':
            np.array([source[1][i] for i in batch_samples], dtype=np.int32)
    })
  return output_sequence


def _numpy_loss(model, batch):
  logits = batch['x'] @ model['weights'] + model['bias']
  logits = logits - logits.max(axis=1, keepdims=True)
  log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
  return -np.mean(log_softmax[np.arange(len(batch['y'])), batch['y']])


def _numpy_sgd_step(model, batch, learning_rate):
  logits = batch['x'] @ model['weights'] + model['bias']
  probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
  probabilities /= probabilities.sum(axis=1, keepdims=True)
  error = probabilities - np.eye(10)[batch['y']]
  count = len(batch['y'])
  return {
      'weights': model['weights'] - learning_rate * batch['x'].T @ error / count,
      'bias': model['bias'] - learning_rate * error.sum(axis=0) / count,
  }


class CustomFederatedAlgorithmsPart2Test(absltest.TestCase):

  @absltest.skipUnless(
      _KERAS_2, 'Keras 3 rejects a tensor learning rate in '
      'tf.keras.optimizers.SGD; run with TF_USE_LEGACY_KERAS=1.')
  def test_tutorial_program_runs_as_written(self):
    mnist_train = tutorial_data.mnist_like_arrays(400, seed=0)
    self.assertEqual([(x.dtype, x.shape) for x in mnist_train],
                     [(np.dtype('uint8'), (400, 28, 28)),
                      (np.dtype('uint8'), (400,))])
    federated_train_data = [get_data_for_digit(mnist_train, d) for d in range(10)]

    BATCH_SPEC = collections.OrderedDict(
        x=tf.TensorSpec(shape=[None, 784], dtype=tf.float32),
        y=tf.TensorSpec(shape=[None], dtype=tf.int32))
    BATCH_TYPE = tff.types.tensorflow_to_type(BATCH_SPEC)
    self.assertEqual(str(BATCH_TYPE), _BATCH_STR)

    MODEL_SPEC = collections.OrderedDict(
        weights=tf.TensorSpec(shape=[784, 10], dtype=tf.float32),
        bias=tf.TensorSpec(shape=[10], dtype=tf.float32))
    MODEL_TYPE = tff.types.tensorflow_to_type(MODEL_SPEC)
    self.assertEqual(str(MODEL_TYPE), _MODEL_STR)

    @tf.function
    def forward_pass(model, batch):
      predicted_y = tf.nn.softmax(
          tf.matmul(batch['x'], model['weights']) + model['bias'])
      return -tf.reduce_mean(
          tf.reduce_sum(
              tf.one_hot(batch['y'], 10) * tf.math.log(predicted_y), axis=[1]))

    @tff.tensorflow.computation(MODEL_TYPE, BATCH_TYPE)
    def batch_loss(model, batch):
      return forward_pass(model, batch)

    self.assertEqual(
        str(batch_loss.type_signature),
        f'(<model={_MODEL_STR},batch={_BATCH_STR}> -> float32)')

    initial_model = collections.OrderedDict(
        weights=np.zeros([784, 10], dtype=np.float32),
        bias=np.zeros([10], dtype=np.float32))
    sample_batch = federated_train_data[5][-1]
    self.assertAlmostEqual(
        batch_loss(initial_model, sample_batch), np.log(10.0), places=5)

    @tff.tensorflow.computation(MODEL_TYPE, BATCH_TYPE, np.float32)
    def batch_train(initial_model, batch, learning_rate):
      # Define a group of model variables and set them to `initial_model`.
      # Must be defined outside the @tf.function.
      model_vars = collections.OrderedDict([
          (name, tf.Variable(name=name, initial_value=value))
          for name, value in initial_model.items()
      ])
      optimizer = tf.keras.optimizers.SGD(learning_rate)

      @tf.function
      def _train_on_batch(model_vars, batch):
        # Perform one step of gradient descent using loss from `batch_loss`.
        with tf.GradientTape() as tape:
          loss = forward_pass(model_vars, batch)
        grads = tape.gradient(loss, model_vars)
        optimizer.apply_gradients(
            zip(tf.nest.flatten(grads), tf.nest.flatten(model_vars)))
        return model_vars

      return _train_on_batch(model_vars, batch)

    self.assertEqual(
        str(batch_train.type_signature),
        f'(<initial_model={_MODEL_STR},batch={_BATCH_STR},'
        f'learning_rate=float32> -> {_MODEL_STR})')

    model = initial_model
    losses = []
    for _ in range(5):
      model = batch_train(model, sample_batch, 0.1)
      losses.append(batch_loss(model, sample_batch))
    self.assertTrue(all(b < a for a, b in zip(losses, losses[1:])), losses)

    LOCAL_DATA_TYPE = tff.SequenceType(BATCH_TYPE)

    @tff.federated_computation(MODEL_TYPE, np.float32, LOCAL_DATA_TYPE)
    def local_train(initial_model, learning_rate, all_batches):

      @tff.tensorflow.computation(LOCAL_DATA_TYPE, np.float32)
      def _insert_learning_rate_to_sequence(dataset, learning_rate):
        return dataset.map(lambda x: (x, learning_rate))

      batches_with_learning_rate = _insert_learning_rate_to_sequence(
          all_batches, learning_rate)

      # Mapping function to apply to each batch.
      @tff.federated_computation(
          MODEL_TYPE, batches_with_learning_rate.type_signature.element)
      def batch_fn(model, batch_with_lr):
        batch, lr = batch_with_lr
        return batch_train(model, batch, lr)

      return tff.sequence_reduce(batches_with_learning_rate, initial_model,
                                 batch_fn)

    self.assertEqual(
        str(local_train.type_signature),
        f'(<initial_model={_MODEL_STR},learning_rate=float32,'
        f'all_batches={_BATCH_STR}*> -> {_MODEL_STR})')

    locally_trained_model = local_train(initial_model, 0.1,
                                        federated_train_data[5])

    @tff.federated_computation(MODEL_TYPE, LOCAL_DATA_TYPE)
    def local_eval(model, all_batches):

      @tff.tensorflow.computation(MODEL_TYPE, LOCAL_DATA_TYPE)
      def _insert_model_to_sequence(model, dataset):
        return dataset.map(lambda x: (model, x))

      model_plus_data = _insert_model_to_sequence(model, all_batches)

      @tff.tensorflow.computation(np.float32, batch_loss.type_signature.result)
      def tff_add(accumulator, arg):
        return accumulator + arg

      return tff.sequence_reduce(
          tff.sequence_map(
              batch_loss,
              model_plus_data), 0., tff_add)

    self.assertEqual(
        str(local_eval.type_signature),
        f'(<model={_MODEL_STR},all_batches={_BATCH_STR}*> -> float32)')
    initial_loss = local_eval(initial_model, federated_train_data[5])
    trained_loss = local_eval(locally_trained_model, federated_train_data[5])
    other_digit_loss = local_eval(locally_trained_model, federated_train_data[0])
    self.assertAlmostEqual(
        initial_loss, len(federated_train_data[5]) * np.log(10.0), places=4)
    self.assertLess(trained_loss, initial_loss)
    self.assertGreater(other_digit_loss, initial_loss)

    SERVER_MODEL_TYPE = tff.FederatedType(MODEL_TYPE, tff.SERVER)
    CLIENT_DATA_TYPE = tff.FederatedType(LOCAL_DATA_TYPE, tff.CLIENTS)

    @tff.federated_computation(SERVER_MODEL_TYPE, CLIENT_DATA_TYPE)
    def federated_eval(model, data):
      return tff.federated_mean(
          tff.federated_map(local_eval, [tff.federated_broadcast(model), data]))

    self.assertEqual(
        str(federated_eval.type_signature),
        f'(<model={_MODEL_STR}@SERVER,data={{{_BATCH_STR}*}}@CLIENTS> -> '
        'float32@SERVER)')

    SERVER_FLOAT_TYPE = tff.FederatedType(np.float32, tff.SERVER)

    @tff.federated_computation(SERVER_MODEL_TYPE, SERVER_FLOAT_TYPE,
                               CLIENT_DATA_TYPE)
    def federated_train(model, learning_rate, data):
      return tff.federated_mean(
          tff.federated_map(local_train, [
              tff.federated_broadcast(model),
              tff.federated_broadcast(learning_rate), data
          ]))

    self.assertEqual(
        str(federated_train.type_signature),
        f'(<model={_MODEL_STR}@SERVER,learning_rate=float32@SERVER,'
        f'data={{{_BATCH_STR}*}}@CLIENTS> -> {_MODEL_STR}@SERVER)')

    model = initial_model
    learning_rate = 0.1
    round_losses = []
    for _ in range(3):
      model = federated_train(model, learning_rate, federated_train_data)
      learning_rate = learning_rate * 0.9
      round_losses.append(federated_eval(model, federated_train_data))

    # One round of the same algorithm in NumPy: every client runs SGD over
    # its batches from the server model; the server averages the results.
    client_models = []
    for client_batches in federated_train_data:
      client_model = {k: v.astype(np.float64) for k, v in initial_model.items()}
      for batch in client_batches:
        client_model = _numpy_sgd_step(client_model, batch, 0.1)
      client_models.append(client_model)
    expected = {
        k: np.mean([m[k] for m in client_models], axis=0)
        for k in ('weights', 'bias')
    }
    first_round_model = federated_train(initial_model, 0.1,
                                        federated_train_data)
    np.testing.assert_allclose(
        first_round_model['weights'], expected['weights'], atol=1e-5)
    np.testing.assert_allclose(
        first_round_model['bias'], expected['bias'], atol=1e-5)
    expected_loss = np.mean([
        sum(_numpy_loss(expected, b) for b in batches)
        for batches in federated_train_data
    ])
    self.assertAlmostEqual(
        federated_eval(first_round_model, federated_train_data),
        expected_loss, places=3)
    self.assertTrue(
        all(b < a for a, b in zip(round_losses, round_losses[1:])),
        round_losses)


if __name__ == '__main__':
  absltest.main()
