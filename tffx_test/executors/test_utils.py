"""Helpers for executor tests: Python stand-ins for TensorFlow blocks, and
checks that a program gives the same result after a serialization round trip.

    block = python_tf_block(lambda x: x + 1, np.int32, np.int32)
    executor = ReferenceExecutor(load)     # runs stand-ins and real graphs
    result = call_with_round_trip(self, comp, arg)
    round_comp = fed_avg_round()           # a FedAvg round of a linear model

A stand-in is a real `TensorFlow` block (it serializes like one) whose graph
holds only placeholders; `load` finds its Python function by the block's name.
"""

import collections
import fractions
import functools
import itertools
from typing import Any, Callable

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.computations import building_blocks as bb
from tffx.computations import federated_computation as fc
from tffx.computations import intrinsics
from tffx.computations import serialization
from tffx.computations import tensorflow_computation as tfc
from tffx.executors import federated_value
from tffx.executors import tensorflow_runner
from tffx.proto import computation_pb2
from tffx.types import computation_types as ct
from tffx.types import python_containers
from tffx.types import structure

_PYTHON_FUNCTIONS = {}
_COUNTER = itertools.count()


def _leaf_count(type_spec) -> int:
  if type_spec is None:
    return 0
  if isinstance(type_spec, ct.StructType):
    return sum(_leaf_count(t) for t in type_spec)
  return 1


def python_tf_block(fn: Callable[[Any], Any], parameter_type: Any,
                    result_type: Any, name: str = 'fn') -> bb.TensorFlow:
  """A `TensorFlow` block that `load` runs as `fn(executor value)`."""
  fn_type = ct.FunctionType(parameter_type, result_type)
  graph_def = tf.compat.v1.GraphDef()
  parameter_names, result_names = [], []
  for prefix, count, names in (('p', _leaf_count(fn_type.parameter),
                                parameter_names),
                               ('r', _leaf_count(fn_type.result),
                                result_names)):
    for i in range(count):
      graph_def.node.add(name=f'{prefix}{i}', op='NoOp')
      names.append(f'{prefix}{i}:0')
  proto = computation_pb2.TensorFlow(
      graph_def=graph_def.SerializeToString(),
      parameter_names=parameter_names,
      result_names=result_names,
      name=f'python_{name}_{next(_COUNTER)}')
  _PYTHON_FUNCTIONS[proto.name] = fn
  return bb.TensorFlow(proto, fn_type)


def load(block: bb.TensorFlow) -> Callable[[Any], Any]:
  """Loads a stand-in made by `python_tf_block`, or else the real graph."""
  fn = _PYTHON_FUNCTIONS.get(block.name)
  if fn is None:
    return tensorflow_runner.load(block)
  return fn


def _canonical(value: Any) -> Any:
  """A comparable form; containers lost in serialization compare as structs."""
  if isinstance(value, federated_value.FederatedValue):
    return ('federated', str(value.type_signature),
            [_canonical(m) for m in value.members])
  if isinstance(value, tf.data.Dataset):
    return ('dataset', [_canonical(structure.from_container(e, True))
                        for e in value.as_numpy_iterator()])
  if isinstance(value, structure.Struct):
    return ('struct', [(n, _canonical(v)) for n, v in value.items()])
  if python_containers.is_container(value):
    return ('struct', [(n, _canonical(v))
                       for n, v in python_containers.elements(value)])
  return np.asarray(value)


def assert_same_result(test: absltest.TestCase, actual: Any,
                       expected: Any) -> None:
  """Asserts that two results hold the same values, exactly."""
  actual, expected = _canonical(actual), _canonical(expected)
  _assert_same(test, actual, expected, 'result')


def _assert_same(test, actual, expected, path):
  if isinstance(expected, np.ndarray):
    test.assertIsInstance(actual, np.ndarray, path)
    np.testing.assert_array_equal(actual, expected, err_msg=path)
    test.assertEqual(actual.dtype.kind, expected.dtype.kind, path)
    return
  test.assertIsInstance(actual, tuple, path)
  test.assertEqual(actual[0], expected[0], path)
  if expected[0] == 'federated':
    test.assertEqual(actual[1], expected[1], path)
  items_a, items_e = actual[-1], expected[-1]
  test.assertLen(items_a, len(items_e), path)
  for i, (a, e) in enumerate(zip(items_a, items_e)):
    if expected[0] == 'struct':
      test.assertEqual(a[0], e[0], f'{path}[{i}] name')
      a, e = a[1], e[1]
    _assert_same(test, a, e, f'{path}[{i}]')


def call_with_round_trip(test: absltest.TestCase, comp, *args,
                         **kwargs) -> Any:
  """Calls `comp` and its serialized-and-back copy; returns the first result.

  Fails the test unless both give the same values.
  """
  result = comp(*args, **kwargs)
  copy = serialization.round_trip(comp)
  test.assertTrue(copy.type_signature.is_equivalent_to(comp.type_signature))
  assert_same_result(test, copy(*args, **kwargs), result)
  return result


def run_with_round_trip(test: absltest.TestCase, executor, block, arg,
                        num_clients: int) -> Any:
  """`executor.run` on `block` and on its serialized copy; returns the first."""
  result = executor.run(block, arg, num_clients)
  copy = serialization.round_trip(block).to_building_block()
  assert_same_result(test, executor.run(copy, arg, num_clients), result)
  return result


FED_AVG_LEARNING_RATE = 0.1


@functools.lru_cache(maxsize=None)
def fed_avg_round():
  """A federated averaging round of a linear model `y = x @ w + b`.

  `(<w=float32[2],b=float32>@SERVER, {<x=float32[?,2],y=float32[?]>*}@CLIENTS
  -> <w=float32[2],b=float32>@SERVER)`: each client takes gradient steps of
  rate `FED_AVG_LEARNING_RATE` on the mean squared error, one per batch; the
  server takes the example-weighted mean of the client weights. Traced on
  first use, so tests that import this module but not the round pay nothing.
  """
  model = collections.OrderedDict(w=ct.TensorType(np.float32, [2]),
                                  b=ct.TensorType(np.float32))
  batch = collections.OrderedDict(x=ct.TensorType(np.float32, [None, 2]),
                                  y=ct.TensorType(np.float32, [None]))

  @tfc.tf_computation(model, ct.SequenceType(batch))
  def client_update(weights, dataset):
    """Gradient steps on the mean squared error of a linear model."""

    def step(state, b):
      w, bias, count = state
      error = tf.linalg.matvec(b['x'], w) + bias - b['y']
      n = tf.cast(tf.size(b['y']), tf.float32)
      grad_w = 2.0 * tf.linalg.matvec(b['x'], error, transpose_a=True) / n
      grad_b = 2.0 * tf.reduce_sum(error) / n
      return (w - FED_AVG_LEARNING_RATE * grad_w,
              bias - FED_AVG_LEARNING_RATE * grad_b, count + n)

    w, bias, count = dataset.reduce((weights['w'], weights['b'], 0.0), step)
    return collections.OrderedDict(
        weights=collections.OrderedDict(w=w, b=bias), num_examples=count)

  @fc.federated_computation(ct.type_at_server(model),
                            ct.type_at_clients(ct.SequenceType(batch)))
  def fed_avg_round(server_weights, client_data):
    broadcast = intrinsics.federated_broadcast(server_weights)
    outputs = intrinsics.federated_map(client_update, (broadcast, client_data))
    return intrinsics.federated_mean(outputs.weights,
                                     weight=outputs.num_examples)

  return fed_avg_round


def round_to_dtype(exact: fractions.Fraction, dtype) -> np.ndarray:
  """`exact` rounded once to the float `dtype`, ties to even (0-d array)."""
  dtype = np.dtype(dtype)
  guess = np.asarray(float(exact), dtype)  # Within one ulp of the answer.
  candidates = [np.nextafter(guess, dtype.type(-np.inf)), guess,
                np.nextafter(guess, dtype.type(np.inf))]

  def distance(c):
    even = int(c.view(f'u{dtype.itemsize}')) % 2 == 0
    return (abs(fractions.Fraction(float(c)) - exact), not even)

  return np.asarray(min(candidates, key=distance), dtype)


def intrinsic_lambda(uri: str, parameter_type: Any,
                     result_type: Any) -> bb.Lambda:
  """`(x -> uri(x))`, the intrinsic of concrete type parameter -> result."""
  return bb.Lambda('x', parameter_type, bb.Call(
      bb.Intrinsic(uri, ct.FunctionType(parameter_type, result_type)),
      bb.Reference('x', parameter_type)))


def spread_vectors(num_clients: int = 1000, size: int = 8,
                   seed: int = 0) -> list:
  """float32 vectors whose entries span 1e-6..1e6 in magnitude, both signs."""
  rng = np.random.default_rng(seed)
  magnitudes = 10.0**rng.uniform(-6, 6, size=(num_clients, size))
  signs = rng.choice([-1.0, 1.0], size=(num_clients, size))
  return list((magnitudes * signs).astype(np.float32))


def exact_float32_sum(vectors: list) -> np.ndarray:
  """The element-wise rational sum of float32 vectors, rounded once."""
  columns = zip(*[[fractions.Fraction(float(x)) for x in v] for v in vectors])
  return np.array([round_to_dtype(sum(c), np.float32) for c in columns],
                  np.float32)
