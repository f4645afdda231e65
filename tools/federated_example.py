"""A short federated example written with tffx's core API only.

Runs two classic federated programs on simulated clients:
  1. the mean of client temperatures above a server threshold;
  2. five rounds of hand-written federated averaging of a linear model over
     client datasets, printing the loss after each round.

It uses only tffx's core API (tf_computation, federated_computation and
intrinsics), so it runs as soon as tffx is installed.
"""

import collections
import sys

import numpy as np
import tensorflow as tf

import tffx

_FEATURES = 3
_CLIENTS = 8
_EXAMPLES_PER_CLIENT = 32
_ROUNDS = 5


@tffx.tf_computation(np.float32, np.float32)
def _above(temperature, threshold):
  return tf.cast(temperature > threshold, tf.float32)


@tffx.federated_computation(
    tffx.type_at_clients(np.float32), tffx.type_at_server(np.float32))
def fraction_above_threshold(temperatures, threshold):
  """Fraction of clients whose temperature exceeds the server's threshold."""
  return tffx.federated_mean(
      tffx.federated_map(
          _above,
          tffx.federated_zip(
              (temperatures, tffx.federated_broadcast(threshold)))))


_WEIGHTS = collections.OrderedDict(w=(np.float32, [_FEATURES]), b=np.float32)
_BATCH = collections.OrderedDict(x=(np.float32, [None, _FEATURES]),
                                 y=(np.float32, [None]))


def _loss(weights, batch):
  predictions = tf.linalg.matvec(batch['x'], weights['w']) + weights['b']
  return tf.reduce_mean(tf.square(predictions - batch['y']))


@tffx.tf_computation(_WEIGHTS, tffx.SequenceType(_BATCH))
def _train_on_client(weights, dataset):
  """One local epoch of SGD; returns the new weights and the example count."""

  def step(state, batch):
    w, b, count = state
    with tf.GradientTape() as tape:
      tape.watch([w, b])
      loss = _loss({'w': w, 'b': b}, batch)
    grad_w, grad_b = tape.gradient(loss, [w, b])
    count += tf.cast(tf.shape(batch['y'])[0], tf.float32)
    return w - 0.1 * grad_w, b - 0.1 * grad_b, count

  w, b, count = dataset.reduce(
      (weights['w'], weights['b'], tf.constant(0.0)), step)
  return collections.OrderedDict(w=w, b=b), count


@tffx.tf_computation(_WEIGHTS, tffx.SequenceType(_BATCH))
def _client_loss(weights, dataset):
  """Mean squared error over the client's batches."""
  total, batches = dataset.reduce(
      (0.0, 0.0), lambda acc, batch: (acc[0] + _loss(weights, batch),
                                      acc[1] + 1.0))
  return total / tf.maximum(batches, 1.0)


@tffx.federated_computation(
    tffx.type_at_server(_WEIGHTS), tffx.type_at_clients(
        tffx.SequenceType(_BATCH)))
def fedavg_round(weights, datasets):
  """One round: broadcast, local training, example-weighted mean of weights."""
  client_weights = tffx.federated_broadcast(weights)
  trained, counts = tffx.federated_map(
      _train_on_client, tffx.federated_zip((client_weights, datasets)))
  new_weights = tffx.federated_mean(trained, weight=counts)
  loss = tffx.federated_mean(
      tffx.federated_map(
          _client_loss,
          tffx.federated_zip((tffx.federated_broadcast(new_weights),
                              datasets))))
  return new_weights, loss


def _client_datasets(rng):
  true_w = np.array([1.0, -2.0, 0.5], np.float32)
  datasets = []
  for _ in range(_CLIENTS):
    x = rng.normal(size=(_EXAMPLES_PER_CLIENT, _FEATURES)).astype(np.float32)
    y = (x @ true_w + 3.0 + 0.1 * rng.normal(size=_EXAMPLES_PER_CLIENT))
    datasets.append(
        tf.data.Dataset.from_tensor_slices(
            collections.OrderedDict(x=x, y=y.astype(np.float32))).batch(8))
  return datasets


def main() -> int:
  temperatures = [18.5, 22.0, 25.5, 30.0]
  fraction = fraction_above_threshold(temperatures, 21.0)
  print(f'Temperatures {temperatures}: fraction above 21.0 = {fraction:.2f}')

  datasets = _client_datasets(np.random.default_rng(0))
  weights = collections.OrderedDict(
      w=np.zeros(_FEATURES, np.float32), b=np.float32(0.0))
  print(f'Federated averaging over {_CLIENTS} clients:')
  for round_num in range(1, _ROUNDS + 1):
    weights, loss = fedavg_round(weights, datasets)
    print(f'  round {round_num}: mean client loss {loss:.4f}')
  print(f'Learned w={np.round(weights["w"], 3)} b={weights["b"]:.3f} '
        f'(true w=[1, -2, 0.5], b=3)')
  return 0


if __name__ == '__main__':
  sys.exit(main())
