"""The federated datasets of `tffx-train`, and the client datasets of a round.

    load_dataset('synthetic_1_1')                 FedProx's Synthetic(1, 1),
                                                  generated in memory
    load_dataset('hdf5:/data/emnist_train.h5',    a file in TFF's layout;
                 features=['pixels'],             features flattened into x,
                 label='label',                   `label` into y
                 test_path='/data/emnist_test.h5')
        -> FederatedData(train, test, num_features, num_classes, eval_split)

    client_datasets(data.train, ids, batch_size=32, epochs=1, seed=s)
        -> one tf.data.Dataset of (x, y) batches per id, shuffled with a seed

Every example becomes `(x: float32[num_features], y: int32)`. A shuffle's
seed comes from the run's seed, the round and the client's position in the
dataset, so a round sees the same batches in every run (and in a resumed
one). Synthetic clients keep their held-out 10% as the test split; an HDF5
dataset without `test_path` is evaluated on its training clients. This
module reads data; it does not sample clients (`tffx.simulation`) or train.
"""

import os
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import h5py
import numpy as np
import tensorflow as tf

from tffx.cli import errors
from tffx.simulation import client_data as client_data_lib
from tffx.simulation import errors as simulation_errors
from tffx.simulation import hdf5_client_data
from tffx.simulation import synthetic
from tffx.simulation import tensor_slices_client_data

HDF5_PREFIX = 'hdf5:'
SYNTHETIC_DATASETS = tuple(synthetic.VARIANTS)
# Enough to mix the examples of a client of a few thousand; a client's
# dataset is shuffled within a window of this many examples.
_SHUFFLE_BUFFER = 10_000


class FederatedData(NamedTuple):
  """A dataset ready for training.

  Attributes:
    train: The `ClientData` clients train on, elements `(x, y)`.
    test: The `ClientData` evaluation runs on, elements `(x, y)`.
    num_features: The length of `x`.
    num_classes: The number of labels; labels are `0 .. num_classes - 1`.
    eval_split: 'test', or 'train' when there is no test data.
    warnings: Lines to show the user (e.g. clients skipped for having no
      examples).
  """
  train: client_data_lib.ClientData
  test: client_data_lib.ClientData
  num_features: int
  num_classes: int
  eval_split: str
  warnings: Tuple[str, ...] = ()


def _as_pairs(arrays) -> tensor_slices_client_data.TestClientData:
  """Synthetic clients' `OrderedDict(x, y)` arrays as `(x, y)` examples.

  Held so, the clients' datasets need no map function: tracing one for
  every dataset of every round, and TensorFlow preparing it for every read,
  cost more than the rounds' training (~3 ms a dataset).
  """
  return tensor_slices_client_data.TestClientData(
      {client_id: (a['x'], a['y']) for client_id, a in arrays.items()})


def _load_synthetic(name: str, data_seed: int) -> FederatedData:
  train, test = synthetic.load_variant_arrays(name, seed=data_seed)
  return FederatedData(_as_pairs(train), _as_pairs(test),
                       synthetic.NUM_FEATURES, synthetic.NUM_CLASSES, 'test')


def _open_hdf5(path: str, flag: str) -> hdf5_client_data.HDF5ClientData:
  if not os.path.exists(path):
    raise errors.TrainConfigError(f'{flag}: file not found')
  try:
    return hdf5_client_data.HDF5ClientData(path)
  except simulation_errors.ClientDataFileError as e:
    raise errors.TrainConfigError(f'{flag}: {e}') from e


def _check_columns(data: hdf5_client_data.HDF5ClientData,
                   features: Sequence[str], label: str, flag: str) -> int:
  """Checks the feature and label columns; returns the number of features."""
  spec = data.element_type_structure
  for name in [*features, label]:
    if name not in spec:
      raise errors.TrainConfigError(
          f'{flag}: expected a feature {name!r} in the file, found '
          f'{sorted(spec)}. Tip: name the columns with --hdf5_features and '
          f'--hdf5_label.')
  for name in features:
    if not (spec[name].dtype.is_floating or spec[name].dtype.is_integer):
      raise errors.TrainConfigError(
          f'{flag}: expected the feature {name!r} to be numeric, found '
          f'{spec[name].dtype.name}')
  label_spec = spec[label]
  if not label_spec.dtype.is_integer or label_spec.shape.num_elements() != 1:
    raise errors.TrainConfigError(
        f'{flag}: expected the label {label!r} to be one integer per example, '
        f'found {label_spec.dtype.name} of shape {label_spec.shape}')
  return sum(int(spec[name].shape.num_elements()) for name in features)


class _Labels(NamedTuple):
  """The label column of an HDF5 file: range and examples per client."""
  low: Optional[int]
  high: Optional[int]
  counts: Dict[str, int]


def _read_labels(path: str, label: str) -> _Labels:
  # Reads the label column only, not the features.
  low = high = None
  counts = {}
  with h5py.File(path, 'r') as f:
    examples = f['examples']
    for client in examples:
      values = np.asarray(examples[client][label][()]).reshape(-1)
      counts[client] = int(values.size)
      if values.size:
        low = int(values.min()) if low is None else min(low, int(values.min()))
        high = (int(values.max()) if high is None else
                max(high, int(values.max())))
  return _Labels(low, high, counts)


def _check_labels(labels: _Labels, num_classes: Optional[int],
                  flag: str) -> None:
  if labels.high is None:
    raise errors.TrainConfigError(
        f'{flag}: expected examples, found {len(labels.counts)} clients '
        f'with none')
  if labels.low < 0:
    raise errors.TrainConfigError(
        f'{flag}: expected labels 0 or more, found {labels.low}')
  if num_classes and labels.high >= num_classes:
    raise errors.TrainConfigError(
        f'{flag}: expected labels below --num_classes={num_classes}, found '
        f'{labels.high}. Tip: pass --num_classes={labels.high + 1}, or 0 to '
        f'read it from the labels.')


def _without_empty_clients(data: client_data_lib.ClientData, labels: _Labels,
                           path: str, warnings: List[str]
                          ) -> client_data_lib.ClientData:
  """`data` without its clients of no examples; a warning if there were."""
  empty = {c for c, n in labels.counts.items() if n == 0}
  if not empty:
    return data
  warnings.append(f'{len(empty)} of {len(labels.counts)} clients in {path} '
                  f'have no examples; they are skipped')
  kept = [c for c in data.client_ids if c not in empty]
  return client_data_lib.ClientData.from_clients_and_tf_fn(
      kept, lambda c: data.create_tf_dataset_for_client(c.numpy().decode()))


def _hdf5_example_fn(features: Sequence[str], label: str):

  def to_example(element):
    x = tf.concat([
        tf.reshape(tf.cast(element[name], tf.float32), [-1])
        for name in features
    ], axis=0)
    return x, tf.reshape(tf.cast(element[label], tf.int32), [])

  return lambda dataset: dataset.map(to_example)


def _load_hdf5(path: str, features: Sequence[str], label: str,
               test_path: Optional[str],
               num_classes: Optional[int]) -> FederatedData:
  flag = f'--dataset={HDF5_PREFIX}{path}'
  train = _open_hdf5(path, flag)
  num_features = _check_columns(train, features, label, flag)
  test = train
  if test_path:
    test_flag = f'--hdf5_test_path={test_path}'
    test = _open_hdf5(test_path, test_flag)
    if test.element_type_structure != train.element_type_structure:
      raise errors.TrainConfigError(
          f'{test_flag}: expected the features of the training file '
          f'{dict(train.element_type_structure)}, found '
          f'{dict(test.element_type_structure)}')
  warnings = []
  labels = _read_labels(path, label)
  _check_labels(labels, num_classes, flag)
  high = labels.high
  train = _without_empty_clients(train, labels, path, warnings)
  if test_path:
    test_labels = _read_labels(test_path, label)
    _check_labels(test_labels, num_classes, test_flag)
    high = max(high, test_labels.high)
    test = _without_empty_clients(test, test_labels, test_path, warnings)
  else:
    test = train
  preprocess = _hdf5_example_fn(features, label)
  return FederatedData(train.preprocess(preprocess),
                       test.preprocess(preprocess),
                       num_features, num_classes or high + 1,
                       'test' if test_path else 'train', tuple(warnings))


def load_dataset(spec: str,
                 features: Sequence[str] = ('pixels',),
                 label: str = 'label',
                 test_path: Optional[str] = None,
                 num_classes: Optional[int] = None,
                 data_seed: int = 0) -> FederatedData:
  """Loads the dataset named by `--dataset` (see the module docstring).

  Args:
    spec: A name in `SYNTHETIC_DATASETS`, or `hdf5:<path>`.
    features: For HDF5, the columns flattened and joined into `x`.
    label: For HDF5, the integer column that is `y`.
    test_path: For HDF5, an optional file of test clients in the same
      layout (TFF ships EMNIST's train and test clients as two files).
    num_classes: For HDF5, the number of labels; None or 0 reads the labels
      and takes the largest plus one.
    data_seed: For synthetic data, the seed of the generator.

  Raises:
    TrainConfigError: for an unknown name, a missing file, a file whose
      layout or columns do not fit, labels below 0 or not below
      `num_classes`, or a file in which no client has examples. Clients
      without examples are skipped, with a line in `warnings`.
  """
  if spec.startswith(HDF5_PREFIX):
    path = spec[len(HDF5_PREFIX):]
    if not path:
      raise errors.TrainConfigError(
          f'--dataset={spec}: expected a file path after {HDF5_PREFIX!r}')
    return _load_hdf5(os.path.expanduser(path), list(features), label,
                      test_path and os.path.expanduser(test_path),
                      num_classes)
  if spec not in SYNTHETIC_DATASETS:
    raise errors.TrainConfigError(
        f'--dataset={spec}: expected one of {", ".join(SYNTHETIC_DATASETS)} '
        f'or {HDF5_PREFIX}<path>')
  return _load_synthetic(spec, data_seed)


def shuffle_seed(seed: int, round_num: int, client_index: int) -> int:
  """The seed of one client's shuffle in one round, from the run's seed."""
  sequence = np.random.SeedSequence(seed, spawn_key=(round_num, client_index))
  return int(sequence.generate_state(1, np.uint32)[0])


def client_datasets(data: client_data_lib.ClientData,
                    client_ids: Sequence[str],
                    batch_size: int,
                    epochs: int = 1,
                    seed: Optional[int] = None,
                    round_num: int = 0) -> List[tf.data.Dataset]:
  """The batched datasets of `client_ids`, in order.

  Args:
    data: A `ClientData` of `(x, y)` examples.
    client_ids: The clients, e.g. those sampled for a round.
    batch_size: Examples per batch (the last batch may be smaller).
    epochs: How many times each client goes over its examples.
    seed: Shuffle with seeds from `seed`, `round_num` and each client's
      position in `data.client_ids`; None keeps the stored order (for
      evaluation).
    round_num: The round, part of the shuffle seed.
  """
  positions = {c: i for i, c in enumerate(data.client_ids)}
  datasets = []
  for client_id in client_ids:
    dataset = data.create_tf_dataset_for_client(client_id)
    if seed is not None:
      dataset = dataset.shuffle(
          _SHUFFLE_BUFFER,
          seed=shuffle_seed(seed, round_num, positions[client_id]),
          reshuffle_each_iteration=True)
    if epochs > 1:
      dataset = dataset.repeat(epochs)
    datasets.append(dataset.batch(batch_size))
  return datasets
