"""Dataset helpers of `tff.simulation.datasets`: mixtures, label filters, IID.

    build_dataset_mixture(a, b, a_probability)   examples of a or b at random
    build_single_label_dataset(ds, key, label)   the examples with one label
    build_synthethic_iid_datasets(cd, size)      IID pseudo-clients of `size`
                                                 examples (TFF's spelling)
"""

from typing import Any, Optional

import tensorflow as tf

from tffx.simulation import client_data


def build_dataset_mixture(a: tf.data.Dataset, b: tf.data.Dataset,
                          a_probability: float,
                          seed: Optional[int] = None) -> tf.data.Dataset:
  """Each element from `a` with probability `a_probability`, else from `b`.

  Raises:
    ValueError: if `a_probability` is not in [0, 1].
  """
  if not 0.0 <= a_probability <= 1.0:
    raise ValueError(f'Expected a_probability in [0, 1], found '
                     f'{a_probability}.')
  return tf.data.Dataset.sample_from_datasets(
      [a, b], weights=[a_probability, 1.0 - a_probability], seed=seed)


def build_single_label_dataset(dataset: tf.data.Dataset, label_key: str,
                               desired_label: Any) -> tf.data.Dataset:
  """The elements of `dataset` whose `label_key` equals `desired_label`.

  Raises:
    ValueError: if the elements are not mappings holding `label_key`.
  """
  spec = dataset.element_spec
  if not isinstance(spec, dict) or label_key not in spec:
    raise ValueError('label_key must be in the keys of the dataset element '
                     f'spec; found the element spec {spec}.')

  def has_label(element):
    return tf.math.equal(element[label_key],
                         tf.cast(desired_label, spec[label_key].dtype))

  return dataset.filter(has_label)


def build_synthethic_iid_datasets(cd: client_data.ClientData,
                                  client_dataset_size: int) -> tf.data.Dataset:
  """An endless dataset of IID pseudo-client datasets (TFF's spelling).

  The examples of all clients are shuffled (a 10,000-example buffer,
  reshuffled each pass) and repeated forever; each element of the result is
  a window of `client_dataset_size` examples, a structure of datasets
  (`tf.data.Dataset.window`), as in TFF.

  Raises:
    ValueError: if `client_dataset_size` is not positive.
  """
  if client_dataset_size < 1:
    raise ValueError(f'Expected a positive client_dataset_size, found '
                     f'{client_dataset_size}.')
  examples = cd.create_tf_dataset_from_all_clients()
  examples = examples.shuffle(10000, reshuffle_each_iteration=True).repeat()
  return examples.window(client_dataset_size)
