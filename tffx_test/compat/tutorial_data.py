"""Small local stand-ins for the data sets TFF's tutorials download.

The tutorials load MNIST (`tf.keras.datasets.mnist.load_data()`) and EMNIST
(`tff.simulation.datasets.emnist.load_data()`); here nothing is downloaded.
These functions make data of the same structure (dtypes, shapes, element
specs), small and learnable: each label has its own pixel pattern plus noise,
so a linear model's loss falls when it trains.
"""

import collections

import numpy as np

import tffx as tff

_IMAGE_SHAPE = (28, 28)
_NUM_CLASSES = 10


def _class_templates(seed):
  """Returns one [28, 28] pattern in [0, 1] per class, mostly dark like MNIST."""
  rng = np.random.default_rng(seed)
  shape = (_NUM_CLASSES,) + _IMAGE_SHAPE
  lit = rng.uniform(size=shape) < 0.15
  return np.where(lit, rng.uniform(0.5, 1.0, size=shape), 0.0)


def _images_for_labels(labels, rng, templates):
  noise = rng.normal(scale=0.05, size=(len(labels),) + _IMAGE_SHAPE)
  return np.clip(templates[labels] + noise, 0.0, 1.0)


def mnist_like_arrays(num_examples, seed=0):
  """Returns `(images, labels)` shaped like one half of Keras' MNIST.

  Args:
    num_examples: The number of examples.
    seed: Seed of the pixel patterns and noise.

  Returns:
    `images`: uint8 [num_examples, 28, 28]; `labels`: uint8 [num_examples],
    each digit appearing about equally often, as `mnist.load_data()` gives.
  """
  rng = np.random.default_rng(seed + 1)
  labels = np.arange(num_examples) % _NUM_CLASSES
  rng.shuffle(labels)
  images = _images_for_labels(labels, rng, _class_templates(seed))
  return (np.round(images * 255).astype(np.uint8), labels.astype(np.uint8))


def emnist_like_client_data(num_clients, examples_per_client, seed=0):
  """Returns a ClientData with EMNIST's element structure.

  Each element is `OrderedDict(label=int32[], pixels=float32[28, 28])`, as in
  `tff.simulation.datasets.emnist.load_data()`; client ids look like EMNIST's
  writer ids. Clients have different label mixes (non-IID), like writers.

  Args:
    num_clients: The number of clients.
    examples_per_client: The number of examples of every client.
    seed: Seed of the pixel patterns, labels and noise.
  """
  rng = np.random.default_rng(seed + 2)
  templates = _class_templates(seed)
  data = collections.OrderedDict()
  for client in range(num_clients):
    favourite = rng.integers(_NUM_CLASSES, size=3)
    labels = np.where(
        rng.uniform(size=examples_per_client) < 0.5,
        rng.choice(favourite, size=examples_per_client),
        rng.integers(_NUM_CLASSES, size=examples_per_client))
    pixels = _images_for_labels(labels, rng, templates)
    data[f'f{client:04d}_{client % 100:02d}'] = collections.OrderedDict(
        label=labels.astype(np.int32), pixels=pixels.astype(np.float32))
  return tff.simulation.datasets.TestClientData(data)
