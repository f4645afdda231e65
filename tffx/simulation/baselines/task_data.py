"""`BaselineTaskDatasets`: a baseline task's data and its preprocessing.

    train_data (ClientData) --train_preprocess_fn per client--> training
    test_data / validation_data (ClientData or tf.data.Dataset)
        --eval_preprocess_fn--> evaluation

The element type of the preprocessed training data is the task's
`element_type_structure`, which a task's model takes as its `input_spec`.
Preprocessing functions map one `tf.data.Dataset` to another; they are
applied to each client's dataset separately, so batches never mix clients.
"""

import collections
from typing import Any, Callable, List, Optional, Union

import numpy as np
import tensorflow as tf

from tffx.simulation import client_data
from tffx.simulation.baselines import client_spec

CentralOrClientData = Union[tf.data.Dataset, client_data.ClientData]
PreprocessFnType = Callable[[tf.data.Dataset], tf.data.Dataset]


def _check_data(name: str, data: Any, optional: bool = False) -> None:
  if data is None and optional:
    return
  if not isinstance(data, (client_data.ClientData, tf.data.Dataset)):
    raise TypeError(
        f'{name} must be a tffx.simulation.datasets.ClientData or a '
        f'tf.data.Dataset{" or None" if optional else ""}, found '
        f'{type(data).__name__}.')


def _element_spec(data: CentralOrClientData):
  if isinstance(data, client_data.ClientData):
    return data.element_type_structure
  return data.element_spec


def specs_compatible(spec_a, spec_b) -> bool:
  """Whether two nests of `tf.TensorSpec` agree in structure, dtypes, shapes."""
  try:
    tf.nest.assert_same_structure(spec_a, spec_b, check_types=False)
  except (ValueError, TypeError):
    return False
  return all(
      a.dtype == b.dtype and a.shape.is_compatible_with(b.shape)
      for a, b in zip(tf.nest.flatten(spec_a), tf.nest.flatten(spec_b)))


def _kind_and_size(data: CentralOrClientData):
  if isinstance(data, client_data.ClientData):
    return 'Federated', len(data.client_ids)
  return 'Centralized', 'N/A'


class BaselineTaskDatasets:
  """A convenience class for a task's data and preprocessing logic.

  Attributes:
    train_data: A `tffx.simulation.datasets.ClientData` for training.
    test_data: The test data, a `ClientData` or a `tf.data.Dataset`.
    validation_data: The validation data, a `ClientData`, a
      `tf.data.Dataset`, or `None` if the task has none.
    train_preprocess_fn: The callable preprocessing each training dataset,
      or `None` (no preprocessing).
    eval_preprocess_fn: The callable preprocessing evaluation (test and
      validation) datasets, or `None` (no preprocessing).
    element_type_structure: The nest of `tf.TensorSpec` of the elements of
      the preprocessed training datasets.
  """

  def __init__(self,
               train_data: client_data.ClientData,
               test_data: CentralOrClientData,
               validation_data: Optional[CentralOrClientData] = None,
               train_preprocess_fn: Optional[PreprocessFnType] = None,
               eval_preprocess_fn: Optional[PreprocessFnType] = None):
    """Creates a `BaselineTaskDatasets`.

    Args:
      train_data: A `tffx.simulation.datasets.ClientData` for training.
      test_data: A `ClientData` or a `tf.data.Dataset` for test metrics.
      validation_data: An optional `ClientData` or `tf.data.Dataset` for
        validation metrics.
      train_preprocess_fn: An optional callable accepting and returning a
        `tf.data.Dataset`, applied to each training client's dataset;
        `None` is the identity.
      eval_preprocess_fn: An optional callable accepting and returning a
        `tf.data.Dataset`, applied to evaluation data; `None` is the
        identity.

    Raises:
      TypeError: if `train_data` is not a `ClientData`, or the test or
        validation data is neither a `ClientData` nor a `tf.data.Dataset`.
      ValueError: if a preprocessing function is neither `None` nor
        callable, or if `validation_data` has an element type other than
        the test data's (both before preprocessing).
    """
    if not isinstance(train_data, client_data.ClientData):
      raise TypeError(
          f'train_data must be a tffx.simulation.datasets.ClientData, found '
          f'{type(train_data).__name__}.')
    _check_data('test_data', test_data)
    _check_data('validation_data', validation_data, optional=True)
    if train_preprocess_fn is not None and not callable(train_preprocess_fn):
      raise ValueError('The train_preprocess_fn must be None or callable.')
    if eval_preprocess_fn is not None and not callable(eval_preprocess_fn):
      raise ValueError('The eval_preprocess_fn must be None or callable.')

    self._train_data = train_data
    self._test_data = test_data
    self._validation_data = validation_data
    self._train_preprocess_fn = train_preprocess_fn
    self._eval_preprocess_fn = eval_preprocess_fn
    if train_preprocess_fn is None:
      self._preprocessed_train_data = train_data
    else:
      self._preprocessed_train_data = train_data.preprocess(
          train_preprocess_fn)
    self._element_type_structure = (
        self._preprocessed_train_data.element_type_structure)

    # As in TFF, the test data is not checked against the training data: a
    # task may evaluate differently shaped data (e.g. train batched, test
    # not), and a test spec computed here would build every test pipeline.
    if validation_data is not None:
      test_type = _element_spec(test_data)
      validation_type = _element_spec(validation_data)
      if not specs_compatible(test_type, validation_type):
        raise ValueError(
            f'The validation set must be None, or have the same element type '
            f'structure as the test data. Found test type {test_type} and '
            f'validation type {validation_type}.')

  @property
  def train_data(self) -> client_data.ClientData:
    return self._train_data

  @property
  def test_data(self) -> CentralOrClientData:
    return self._test_data

  @property
  def validation_data(self) -> Optional[CentralOrClientData]:
    return self._validation_data

  @property
  def train_preprocess_fn(self) -> Optional[PreprocessFnType]:
    return self._train_preprocess_fn

  @property
  def eval_preprocess_fn(self) -> Optional[PreprocessFnType]:
    return self._eval_preprocess_fn

  @property
  def element_type_structure(self):
    return self._element_type_structure

  def sample_train_clients(
      self,
      num_clients: int,
      replace: bool = False,
      random_seed: Optional[int] = None) -> List[tf.data.Dataset]:
    """Samples training clients uniformly at random.

    Args:
      num_clients: The (positive) number of clients to sample.
      replace: Whether to sample with replacement; without it,
        `num_clients` may not exceed the number of training clients.
      random_seed: An optional seed; `None` seeds from the system (see
        `numpy.random.RandomState`).

    Returns:
      The sampled clients' preprocessed training datasets, a list.

    Raises:
      ValueError: if `num_clients` exceeds the number of training clients
        and `replace` is False.
    """
    random_state = np.random.RandomState(seed=random_seed)
    client_ids = random_state.choice(
        self._preprocessed_train_data.client_ids, size=num_clients,
        replace=replace)
    return [
        self._preprocessed_train_data.create_tf_dataset_for_client(str(i))
        for i in client_ids
    ]

  def get_centralized_test_data(self) -> tf.data.Dataset:
    """Returns the test data as one `tf.data.Dataset`, preprocessed.

    Federated test data is first joined into one dataset (clients in their
    order), then `eval_preprocess_fn` is applied to it.
    """
    test_data = self._test_data
    if isinstance(test_data, client_data.ClientData):
      test_data = test_data.create_tf_dataset_from_all_clients()
    if self._eval_preprocess_fn is not None:
      test_data = self._eval_preprocess_fn(test_data)
    return test_data

  def _data_info(self) -> 'collections.OrderedDict[str, list]':
    """The rows of the summary table: header, then one per split."""
    rows = collections.OrderedDict()
    rows['header'] = ['Split', 'Dataset Type', 'Number of Clients']
    rows['train'] = ['Train', *_kind_and_size(self._train_data)]
    rows['test'] = ['Test', *_kind_and_size(self._test_data)]
    if self._validation_data is not None:
      rows['validation'] = ['Validation',
                            *_kind_and_size(self._validation_data)]
    return rows

  def summary(self, print_fn: Callable[[str], Any] = print) -> None:
    """Prints a table of the splits, their kind and their number of clients.

    For 10 training clients and centralized test data:

        Split |Dataset Type |Number of Clients |
        =========================================
        Train |Federated    |10                |
        Test  |Centralized  |N/A               |
        _________________________________________
        Train Preprocess Function: True
        Eval Preprocess Function: False

    Args:
      print_fn: Called with each line (`print` by default; pass e.g.
        `lines.append` to collect them).
    """
    rows = list(self._data_info().values())
    widths = [
        max(len(str(row[column])) for row in rows) + 1
        for column in range(len(rows[0]))
    ]
    lines = [
        ''.join(f'{str(value):<{width}}|' for value, width in zip(row, widths))
        for row in rows
    ]
    total_width = sum(widths) + len(widths)
    lines.insert(1, '=' * total_width)
    lines.append('_' * total_width)
    for line in lines:
      print_fn(line)
    print_fn('Train Preprocess Function: '
             f'{self._train_preprocess_fn is not None}')
    print_fn(f'Eval Preprocess Function: {self._eval_preprocess_fn is not None}')

  def record_hparams(self) -> 'collections.OrderedDict[str, Any]':
    """The summary's facts as a flat dict, for logging with hyperparameters.

    Keys: `train_data_type`, `num_train_clients`, `test_data_type`,
    `num_test_clients`, `validation_data_type` and `num_validation_clients`
    (`'None'` and `'N/A'` without validation data), `train_preprocess_fn`
    and `eval_preprocess_fn` (whether each is set). A type is
    `'Federated'` or `'Centralized'`; the number of clients of centralized
    data is `'N/A'`. A tffx addition (not in TFF).
    """
    hparams = collections.OrderedDict()
    for split, data in (('train', self._train_data),
                        ('test', self._test_data),
                        ('validation', self._validation_data)):
      kind, size = ('None', 'N/A') if data is None else _kind_and_size(data)
      hparams[f'{split}_data_type'] = kind
      hparams[f'num_{split}_clients'] = size
    hparams['train_preprocess_fn'] = self._train_preprocess_fn is not None
    hparams['eval_preprocess_fn'] = self._eval_preprocess_fn is not None
    return hparams


# TFF's evaluation default for the tasks: one pass, batches of 64, in order.
_DEFAULT_EVAL_SPEC = client_spec.ClientSpec(
    num_epochs=1, batch_size=64, shuffle_buffer_size=1)


def from_client_specs(
    train_data: client_data.ClientData,
    test_data: CentralOrClientData,
    train_client_spec: client_spec.ClientSpec,
    eval_client_spec: Optional[client_spec.ClientSpec],
    create_preprocess_fn: Callable[[client_spec.ClientSpec],
                                   PreprocessFnType]) -> BaselineTaskDatasets:
  """A task's datasets, preprocessed as its client specs say.

  Args:
    train_data: The training `ClientData`.
    test_data: The test data.
    train_client_spec: The `ClientSpec` of training clients.
    eval_client_spec: The `ClientSpec` of evaluation data; `None` is one
      epoch in batches of 64, without shuffling.
    create_preprocess_fn: The task's `ClientSpec -> preprocess_fn`.
  """
  return BaselineTaskDatasets(
      train_data=train_data,
      test_data=test_data,
      train_preprocess_fn=create_preprocess_fn(train_client_spec),
      eval_preprocess_fn=create_preprocess_fn(eval_client_spec or
                                              _DEFAULT_EVAL_SPEC))
