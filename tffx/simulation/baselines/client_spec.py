"""`ClientSpec`: how each client iterates over its dataset in a baseline task.

    ClientSpec(num_epochs, batch_size, max_elements=None,
               shuffle_buffer_size=None)

`shuffle_repeat_take` applies the first three fields to a client's dataset
in the order TFF documents: shuffle (unless the buffer is 1), repeat
`num_epochs` times, then take at most `max_elements` examples (counted
after repeating). Batching is left to each task, since some tasks (text)
tokenize before they batch.
"""

import dataclasses
from typing import Optional

import tensorflow as tf


def _check_positive(name: str, value, optional: bool) -> None:
  if value is None and optional:
    return
  if isinstance(value, bool) or not isinstance(value, int):
    kind = '`None` or a positive integer' if optional else 'a positive integer'
    raise TypeError(f'{name} must be {kind}, found {value!r} of type '
                    f'{type(value).__name__}.')
  if value < 1:
    kind = '`None` or a positive integer' if optional else 'a positive integer'
    raise ValueError(f'{name} must be {kind}, found {value}.')


@dataclasses.dataclass(frozen=True)
class ClientSpec:
  """Contains information for configuring clients within a training task.

  Attributes:
    num_epochs: The number of passes each client makes over its whole local
      dataset.
    batch_size: The batch size used when iterating over client datasets.
    max_elements: An optional positive integer: the most examples a client
      uses, taken after its dataset is repeated `num_epochs` times. `None`
      (the default) uses the whole (repeated) dataset.
    shuffle_buffer_size: An optional positive integer, the shuffle buffer
      size. `None` uses a default suited to the task's dataset; `1` does not
      shuffle.

  Raises:
    TypeError: if a field is not an integer (`max_elements` and
      `shuffle_buffer_size` may also be `None`).
    ValueError: if a field is not positive.
  """
  num_epochs: int
  batch_size: int
  max_elements: Optional[int] = None
  shuffle_buffer_size: Optional[int] = None

  def __post_init__(self):
    _check_positive('num_epochs', self.num_epochs, optional=False)
    _check_positive('batch_size', self.batch_size, optional=False)
    _check_positive('max_elements', self.max_elements, optional=True)
    _check_positive('shuffle_buffer_size', self.shuffle_buffer_size,
                    optional=True)


def shuffle_repeat_take(dataset: tf.data.Dataset, spec: ClientSpec,
                        default_shuffle_buffer_size: int) -> tf.data.Dataset:
  """Shuffles, repeats and truncates one client's dataset as `spec` says.

  Args:
    dataset: A client's dataset, unbatched.
    spec: The `ClientSpec`.
    default_shuffle_buffer_size: The task's buffer size, used when
      `spec.shuffle_buffer_size` is None.
  """
  buffer_size = spec.shuffle_buffer_size or default_shuffle_buffer_size
  if buffer_size > 1:
    dataset = dataset.shuffle(buffer_size)
  if spec.num_epochs > 1:
    dataset = dataset.repeat(spec.num_epochs)
  if spec.max_elements is not None:
    dataset = dataset.take(spec.max_elements)
  return dataset
