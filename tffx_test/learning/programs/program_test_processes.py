"""Tiny learning processes for the program logic tests.

Training: the state (the "model weights") is a float at the server; a
round adds the sum of the clients' datasets. Evaluation: the state holds
the weights and a running total; a round reports weights * number of
examples as the current round metric and the running sum as the total.
"""

import collections

import numpy as np

from tffx.computations import federated_computation
from tffx.computations import intrinsics
from tffx.computations import tensorflow_computation
from tffx.learning.templates import learning_process
from tffx.types import computation_types as ct
from tffx.types import placements

fc = federated_computation.federated_computation
tf_computation = tensorflow_computation.tf_computation
Output = learning_process.LearningProcessOutput

DATA = ct.SequenceType(np.float32)
_STATE = ct.type_at_server(np.float32)
_dataset_sum = tf_computation(
    lambda ds: ds.reduce(np.float32(0), lambda a, x: a + x), DATA)
_dataset_count = tf_computation(
    lambda ds: ds.reduce(np.float32(0), lambda a, x: a + 1.0), DATA)
_add = tf_computation(lambda x, y: x + y, np.float32, np.float32)
_mul = tf_computation(lambda x, y: x * y, np.float32, np.float32)


def _sum(fn, datasets):
  return intrinsics.federated_sum(intrinsics.federated_map(fn, datasets))


@fc(_STATE, ct.type_at_clients(DATA))
def _train_next(state, datasets):
  total = _sum(_dataset_sum, datasets)
  metrics = intrinsics.federated_zip(
      collections.OrderedDict(
          client_work=collections.OrderedDict(
              train=collections.OrderedDict(total=total)),
          finalizer=collections.OrderedDict(weights=state)))
  return Output(intrinsics.federated_map(_add, (state, total)), metrics)


def build_train_process() -> learning_process.LearningProcess:
  return learning_process.LearningProcess(
      fc(lambda: intrinsics.federated_value(np.float32(0.0),
                                            placements.SERVER)),
      _train_next, fc(lambda s: s, np.float32),
      fc(lambda s, w: w, np.float32, np.float32))


_EVAL_STATE = collections.OrderedDict(weights=np.float32, total=np.float32)


@fc(ct.type_at_server(_EVAL_STATE), ct.type_at_clients(DATA))
def _eval_next(state, datasets):
  count = _sum(_dataset_count, datasets)
  current = intrinsics.federated_map(_mul, (state.weights, count))
  total = intrinsics.federated_map(_add, (state.total, current))
  new_state = intrinsics.federated_zip(
      collections.OrderedDict(weights=state.weights, total=total))
  metrics = intrinsics.federated_zip(
      collections.OrderedDict(
          client_work=collections.OrderedDict(
              eval=collections.OrderedDict(
                  current_round_metrics=collections.OrderedDict(
                      weighted=current),
                  total_rounds_metrics=collections.OrderedDict(
                      weighted=total)))))
  return Output(new_state, metrics)


def build_eval_process() -> learning_process.LearningProcess:
  return learning_process.LearningProcess(
      fc(lambda: intrinsics.federated_value(
          collections.OrderedDict(weights=np.float32(0.0),
                                  total=np.float32(0.0)), placements.SERVER)),
      _eval_next, fc(lambda s: s.weights, _EVAL_STATE),
      fc(lambda s, w: collections.OrderedDict(weights=w, total=s.total),
         _EVAL_STATE, np.float32))
