"""`VariableModel`: TFF's variable-based model interface, and `BatchOutput`.

A `VariableModel` keeps its weights and its metrics in `tf.Variable`s:

    class LinearModel(tffx.learning.models.VariableModel):
      def __init__(self):
        self._w = tf.Variable(tf.zeros([2, 1]))
        self._loss_sum = tf.Variable(0.0, trainable=False)
        ...
      trainable_variables      -> [self._w]
      non_trainable_variables  -> []
      local_variables          -> [self._loss_sum, ...]   (metric state)
      input_spec               -> the spec of one batch
      forward_pass(batch, training=True) -> BatchOutput(loss, predictions,
                                                        num_examples)
      predict_on_batch(x, training=True) -> predictions
      report_local_unfinalized_metrics() -> OrderedDict(name=summable values)
      metric_finalizers()      -> OrderedDict(name=fn(unfinalized) -> value)
      reset_metrics()          -> sets the local variables back to zero

This is TFF's legacy custom-model interface, with the same members, so TFF
model classes run unchanged. The algorithms of `tffx.learning.algorithms`
take a no-argument callable returning one (`model_fn`) and call it inside
each client's TensorFlow graph, so the variables live in that graph: the
client assigns the broadcast weights to them, steps through its data with a
`tf.GradientTape` over `trainable_variables`, and reports the model's own
unfinalized metrics (no others are added). As in TFF, non-trainable
variables start each round from the server's values, may change on the
client (e.g. batch statistics), and are not sent back: the server's
non-trainable weights keep their initial values.

`BatchOutput` is what a forward pass returns, for `VariableModel`s and
`FunctionalModel`s alike. This module holds interfaces only; the algorithms
drive them.
"""

import abc

from typing import Any, NamedTuple, Optional, Sequence

import tensorflow as tf

MetricFinalizersType = 'collections.OrderedDict[str, Callable[[Any], Any]]'


class BatchOutput(NamedTuple):
  """The output of a model's forward pass on one batch (TFF's `BatchOutput`).

  Attributes:
    loss: The scalar mean loss on the batch, or None.
    predictions: The model's outputs on the batch.
    num_examples: The number of examples in the batch (int), or None.
  """
  loss: Optional[Any] = None
  predictions: Any = None
  num_examples: Optional[Any] = None


class VariableModel(abc.ABC):
  """A model whose weights and metric state are `tf.Variable`s (TFF's).

  Subclasses implement every abstract member; `predict_on_batch` and
  `reset_metrics` have no default either, as in TFF.
  """

  @property
  @abc.abstractmethod
  def trainable_variables(self) -> Sequence[tf.Variable]:
    """The variables the optimizer updates."""

  @property
  @abc.abstractmethod
  def non_trainable_variables(self) -> Sequence[tf.Variable]:
    """Model variables not trained (e.g. batch statistics)."""

  @property
  @abc.abstractmethod
  def local_variables(self) -> Sequence[tf.Variable]:
    """Variables local to a client that are not weights (metric state)."""

  @property
  @abc.abstractmethod
  def input_spec(self) -> Any:
    """The `tf.TensorSpec`s of one batch, as its `forward_pass` takes it."""

  @abc.abstractmethod
  def forward_pass(self, batch_input: Any, training: bool = True) -> BatchOutput:
    """Runs the model on a batch, updates the metrics, returns a `BatchOutput`.

    Args:
      batch_input: One batch, structured like `input_spec`.
      training: Whether the pass is for training (the loss is then
        differentiated with respect to `trainable_variables`).
    """

  @abc.abstractmethod
  def predict_on_batch(self, x: Any, training: bool = True) -> Any:
    """The model's predictions on the inputs `x` (no metric update)."""

  @abc.abstractmethod
  def report_local_unfinalized_metrics(
      self) -> 'collections.OrderedDict[str, Any]':
    """The metric state of this client: `OrderedDict(name=values)`.

    Values are tensors or structures of tensors that add up across clients
    (sums, counts).
    """

  @abc.abstractmethod
  def metric_finalizers(self) -> MetricFinalizersType:
    """`OrderedDict(name=fn)`: for each reported metric, its finalizer.

    A finalizer turns the (summed) unfinalized values into the metric, in a
    TensorFlow graph (e.g. `lambda s: s[0] / s[1]`).
    """

  @abc.abstractmethod
  def reset_metrics(self) -> None:
    """Sets the metric state (`local_variables`) back to its initial values."""


def check_variable_model(model: Any, where: str) -> VariableModel:
  """Returns `model`, after checking that it is a `VariableModel`.

  Raises:
    TypeError: naming `where` if it is not.
  """
  if not isinstance(model, VariableModel):
    raise TypeError(
        f'Expected {where} to return a tffx.learning.models.VariableModel, '
        f'found {type(model).__name__}.')
  return model
