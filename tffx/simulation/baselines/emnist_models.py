"""The Keras models of the EMNIST character recognition baseline.

Each takes `(batch, 28, 28, 1)` float images and returns logits, one per
class (10 digits, or 62 digits and letters):

    create_conv_dropout_model   model_id 'cnn_dropout': two 3x3 convolutions
                                (32, 64), 2x2 max pooling, dropout 0.25,
                                dense 128, dropout 0.5, dense output
    create_original_fedavg_cnn_model
                                model_id 'cnn': McMahan et al. (2017)'s CNN,
                                two 5x5 convolutions (32, 64) each followed
                                by 2x2 max pooling, dense 512, dense output
    create_two_hidden_layer_model
                                model_id '2nn': two dense layers of 200
                                units, dense output

`seed` seeds the weight initializers (Glorot normal), so two models built
with one seed start equal.
"""

from typing import Optional

import tensorflow as tf

_INPUT_SHAPE = (28, 28, 1)


def _num_classes(only_digits: bool) -> int:
  return 10 if only_digits else 62


def create_conv_dropout_model(only_digits: bool = True,
                              seed: Optional[int] = None) -> tf.keras.Model:
  """The 'cnn_dropout' model: convolutions, max pooling and dropout."""
  init = tf.keras.initializers.GlorotNormal(seed=seed)
  return tf.keras.Sequential([
      tf.keras.Input(shape=_INPUT_SHAPE),
      tf.keras.layers.Conv2D(32, kernel_size=(3, 3), activation='relu',
                             kernel_initializer=init),
      tf.keras.layers.Conv2D(64, kernel_size=(3, 3), activation='relu',
                             kernel_initializer=init),
      tf.keras.layers.MaxPool2D(pool_size=(2, 2)),
      tf.keras.layers.Dropout(0.25, seed=seed),
      tf.keras.layers.Flatten(),
      tf.keras.layers.Dense(128, activation='relu', kernel_initializer=init),
      tf.keras.layers.Dropout(0.5, seed=seed),
      tf.keras.layers.Dense(_num_classes(only_digits),
                            kernel_initializer=init),
  ])


def create_original_fedavg_cnn_model(
    only_digits: bool = True, seed: Optional[int] = None) -> tf.keras.Model:
  """The 'cnn' model of McMahan et al. (2017), without dropout."""
  init = tf.keras.initializers.GlorotNormal(seed=seed)
  return tf.keras.Sequential([
      tf.keras.Input(shape=_INPUT_SHAPE),
      tf.keras.layers.Conv2D(32, kernel_size=(5, 5), padding='same',
                             activation='relu', kernel_initializer=init),
      tf.keras.layers.MaxPool2D(pool_size=(2, 2), strides=2, padding='same'),
      tf.keras.layers.Conv2D(64, kernel_size=(5, 5), padding='same',
                             activation='relu', kernel_initializer=init),
      tf.keras.layers.MaxPool2D(pool_size=(2, 2), strides=2, padding='same'),
      tf.keras.layers.Flatten(),
      tf.keras.layers.Dense(512, activation='relu', kernel_initializer=init),
      tf.keras.layers.Dense(_num_classes(only_digits),
                            kernel_initializer=init),
  ])


def create_two_hidden_layer_model(
    only_digits: bool = True, hidden_units: int = 200,
    seed: Optional[int] = None) -> tf.keras.Model:
  """The '2nn' model: two dense hidden layers with ReLU."""
  init = tf.keras.initializers.GlorotNormal(seed=seed)
  return tf.keras.Sequential([
      tf.keras.Input(shape=_INPUT_SHAPE),
      tf.keras.layers.Flatten(),
      tf.keras.layers.Dense(hidden_units, activation='relu',
                            kernel_initializer=init),
      tf.keras.layers.Dense(hidden_units, activation='relu',
                            kernel_initializer=init),
      tf.keras.layers.Dense(_num_classes(only_digits),
                            kernel_initializer=init),
  ])
