"""The reference executor: the interpreter with clients one after the other.

This executor is written for clarity, not speed. It is the golden standard:
every faster executor is tested against it on the same programs, so when
they disagree, this one is presumed right. Keep it obvious.

    ReferenceExecutor().run(comp, arg, num_clients)
      `-- Interpreter(SequentialStrategy(num_clients), tensorflow).run(...)

The loop over blocks and the handlers are `interpreter`'s; clients are a
Python loop (`sequential_strategy`); aggregations are `aggregations`'. It
does not run anything concurrently, stream values or resolve `Data` blocks.
"""

from typing import Any, Callable

from tffx.computations import building_blocks as bb
from tffx.executors import client_strategy
from tffx.executors import executor_base
from tffx.executors import interpreter
from tffx.executors import sequential_strategy
from tffx.executors import tensorflow_runner


class ReferenceExecutor(executor_base.Executor):
  """Evaluates computations by walking their building blocks.

  Args:
    load_tensorflow: Turns a `TensorFlow` block into a callable of one
      executor value (None for no parameter). Defaults to
      `tensorflow_runner.load`, which imports each graph once per process;
      tests may pass Python stand-ins.
  """

  def __init__(self,
               load_tensorflow: Callable[[bb.TensorFlow], Callable] = (
                   tensorflow_runner.load)):
    self._load_tensorflow = load_tensorflow

  def run(self, comp: bb.ComputationBuildingBlock, arg: Any,
          num_clients: int) -> Any:
    executor_base.check_num_clients(num_clients)
    return interpreter.Interpreter(
        sequential_strategy.SequentialStrategy(num_clients),
        lambda block: client_strategy.TensorFlowFunction(
            block, self._load_tensorflow(block))).run(comp, arg)
