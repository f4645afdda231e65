"""How a client loops over its dataset (`LoopImplementation`).

    loop = build_training_loop(LoopImplementation.DATASET_REDUCE)
    final_state = loop(reduce_fn, dataset, initial_state)
    # with reduce_fn(state, batch) -> state

Both loops fold `reduce_fn` over the batches in order, inside the graph being
traced by a `tffx.tf_computation`:

    DATASET_REDUCE     `dataset.reduce(initial_state, reduce_fn)`: one dataset
                       op, single device.
    DATASET_ITERATOR   a `tf.while_loop` over `iter(dataset)` inside a
                       `tf.function` (iterators exist only in functions), the
                       graph form of `for batch in iter(dataset): ...`; lets
                       the runtime place each step (e.g. several devices).

The state must keep its structure, dtypes and shapes from step to step. This
module does not know what the state holds; the algorithms decide.
"""

import enum
from typing import Any, Callable

import tensorflow as tf

ReduceFn = Callable[[Any, Any], Any]
TrainingLoop = Callable[[ReduceFn, tf.data.Dataset, Any], Any]


class LoopImplementation(enum.Enum):
  """How client work iterates over a dataset (TFF's `LoopImplementation`).

  Attributes:
    DATASET_ITERATOR: A `for batch in iter(dataset)` loop (a `tf.while_loop`
      over a dataset iterator).
    DATASET_REDUCE: `dataset.reduce`, which runs on a single device.
  """
  DATASET_ITERATOR = 1
  DATASET_REDUCE = 2


def _dataset_reduce(reduce_fn: ReduceFn, dataset: tf.data.Dataset,
                    initial_state: Any) -> Any:
  return dataset.reduce(initial_state, reduce_fn)


def _dataset_iterator(reduce_fn: ReduceFn, dataset: tf.data.Dataset,
                      initial_state: Any) -> Any:
  # No autograph: the loop is written out, and user code called by
  # `reduce_fn` (models, losses) runs as written.
  @tf.function(autograph=False)
  def iterate(dataset, initial_state):
    iterator = iter(dataset)

    def has_batch(optional, unused_state):
      return optional.has_value()

    def step(optional, state):
      return iterator.get_next_as_optional(), reduce_fn(
          state, optional.get_value())

    _, final_state = tf.while_loop(
        has_batch, step, (iterator.get_next_as_optional(), initial_state))
    return final_state

  return iterate(dataset, initial_state)


_LOOPS = {
    LoopImplementation.DATASET_REDUCE: _dataset_reduce,
    LoopImplementation.DATASET_ITERATOR: _dataset_iterator,
}


def build_training_loop(
    loop_implementation: LoopImplementation) -> TrainingLoop:
  """Returns `loop(reduce_fn, dataset, initial_state) -> final_state`.

  Args:
    loop_implementation: A `LoopImplementation`.

  Raises:
    TypeError: if `loop_implementation` is not a `LoopImplementation`.
  """
  if not isinstance(loop_implementation, LoopImplementation):
    raise TypeError(
        f'Expected loop_implementation to be a tffx.learning.'
        f'LoopImplementation, found {loop_implementation!r}. Tip: use '
        f'tffx.learning.LoopImplementation.DATASET_REDUCE.')
  return _LOOPS[loop_implementation]
