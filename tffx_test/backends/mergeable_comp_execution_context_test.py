"""Computations split into MergeableCompForm and run over several contexts."""

import asyncio

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

import tffx as tff
from tffx.backends import mergeable_comp_execution_context
from tffx.backends import native
from tffx.backends.mapreduce import mergeable_comp_compiler
from tffx.computations import context_stack
from tffx_test.learning.algorithms import test_models


class _CountingContext(context_stack.Context):
  """A synchronous context that records the arguments it runs."""

  def __init__(self):
    self._inner = native.create_local_execution_context()
    self.calls = []

  def invoke(self, comp, arg):
    self.calls.append((comp, arg))
    return self._inner.invoke(comp, arg)


@tff.tf_computation(np.float32, np.float32)
def _add(x, y):
  return x + y


@tff.federated_computation(tff.type_at_server(np.float32),
                           tff.type_at_clients(np.float32))
def _round(state, values):
  shifted = tff.federated_map(_add, (values, tff.federated_broadcast(state)))
  return tff.federated_zip((tff.federated_mean(shifted),
                            tff.federated_max(values),
                            tff.federated_sum(values)))


_VALUES = [1.0, 2.0, 4.0, 8.0, 16.0]


class MergeableCompExecutionContextTest(parameterized.TestCase):

  def test_async_contexts_give_the_results_of_one_context(self):
    contexts = [native.create_async_local_cpp_execution_context()
                for _ in range(2)]
    context = native.create_mergeable_comp_execution_context(contexts)

    with context_stack.with_context(context):
      result = _round(1.0, _VALUES)

    expected = _round(1.0, _VALUES)
    np.testing.assert_allclose(result, expected, rtol=1e-6)
    np.testing.assert_allclose(result, (7.2, 16.0, 31.0), rtol=1e-6)

  def test_runs_inside_a_running_event_loop(self):
    contexts = [native.create_async_local_cpp_execution_context()
                for _ in range(2)]
    context = native.create_mergeable_comp_execution_context(contexts)

    async def run_in_loop():
      with context_stack.with_context(context):
        return _round(1.0, _VALUES)

    result = asyncio.run(run_in_loop())

    np.testing.assert_allclose(result, (7.2, 16.0, 31.0), rtol=1e-6)

  @parameterized.named_parameters(('two', 2, [2, 3]), ('three', 3, [1, 2, 2]),
                                  ('more_than_clients', 9, [1, 1, 1, 1, 1]))
  def test_clients_are_split_into_subrounds(self, num_subrounds, sizes):
    contexts = [_CountingContext(), _CountingContext()]
    context = native.create_mergeable_comp_execution_context(
        contexts, num_subrounds=num_subrounds)

    with context_stack.with_context(context):
      result = _round(0.0, _VALUES)

    up_to_merge_args = [
        arg for c in contexts for comp, arg in c.calls
        if comp.type_signature.parameter == _round.type_signature.parameter]
    self.assertEqual(sorted(len(a['values']) for a in up_to_merge_args),
                     sorted(sizes))
    self.assertTrue(all(a['state'] == 0.0 for a in up_to_merge_args))
    np.testing.assert_allclose(result, (6.2, 16.0, 31.0), rtol=1e-6)

  def test_form_is_run_without_compiler(self):
    form = mergeable_comp_compiler.compile_to_mergeable_comp_form(_round)
    context = mergeable_comp_execution_context.MergeableCompExecutionContext(
        [native.create_local_execution_context()])

    result = context.invoke(form, tff.structure.Struct(
        [('state', 2.0), ('values', _VALUES)]))

    np.testing.assert_allclose(result, (8.2, 16.0, 31.0), rtol=1e-6)

  @parameterized.named_parameters(
      ('weighted', tff.learning.algorithms.build_weighted_fed_avg),
      ('unweighted', tff.learning.algorithms.build_unweighted_fed_avg),
  )
  def test_fed_avg_round_gives_the_results_of_one_context(self, build):
    process = build(test_models.build_softmax_regression(),
                    tff.learning.optimizers.build_sgdm(0.5))
    data = test_models.client_datasets(
        test_models.client_arrays(4, [6, 3, 5, 8]), 4)
    state = process.initialize()
    context = native.create_mergeable_comp_execution_context(
        [native.create_async_local_cpp_execution_context() for _ in range(2)])

    with context_stack.with_context(context):
      merged_state, merged_metrics = process.next(state, data)
    expected_state, expected_metrics = process.next(state, data)

    merged_weights = process.get_model_weights(merged_state).trainable
    expected_weights = process.get_model_weights(expected_state).trainable
    for merged, expected in zip(merged_weights, expected_weights):
      # Partial sums merge in another order: equal up to float rounding.
      np.testing.assert_allclose(merged, expected, rtol=1e-5, atol=1e-6)
    self.assertFalse(np.array_equal(expected_weights[0],
                                    process.get_model_weights(state)
                                    .trainable[0]))
    train = 'client_work', 'train'
    self.assertEqual(merged_metrics[train[0]][train[1]]['num_examples'], 22)
    self.assertAlmostEqual(
        float(merged_metrics[train[0]][train[1]]['loss']),
        float(expected_metrics[train[0]][train[1]]['loss']), places=5)

  def test_computation_without_compiler_raises_type_error(self):
    context = mergeable_comp_execution_context.MergeableCompExecutionContext(
        [native.create_local_execution_context()])

    with self.assertRaises(TypeError):
      context.invoke(_round, tff.structure.Struct(
          [('state', 2.0), ('values', _VALUES)]))

  def test_set_makes_it_the_default_context(self):
    contexts = [native.create_async_local_cpp_execution_context()]
    try:
      native.set_mergeable_comp_execution_context(contexts, num_subrounds=2)

      current = context_stack.get_context()
      result = _round(0.0, [1.0, 3.0])
    finally:
      context_stack.set_default_context(None)

    self.assertIsInstance(
        current, mergeable_comp_execution_context.MergeableCompExecutionContext)
    np.testing.assert_allclose(result, (2.0, 3.0, 4.0))

  @parameterized.named_parameters(
      ('no_contexts', dict(async_contexts=[])),
      ('not_a_context', dict(async_contexts=[object()])),
      ('zero_subrounds', dict(async_contexts=None, num_subrounds=0)),
  )
  def test_raises_type_error_for_bad_arguments(self, kwargs):
    if kwargs.get('async_contexts', 1) is None:
      kwargs['async_contexts'] = [native.create_local_execution_context()]

    with self.assertRaises(TypeError):
      native.create_mergeable_comp_execution_context(**kwargs)

  def test_compile_to_mergeable_comp_form_is_exported(self):
    self.assertIs(native.compile_to_mergeable_comp_form,
                  mergeable_comp_compiler.compile_to_mergeable_comp_form)
    self.assertIs(tff.backends.native.create_mergeable_comp_execution_context,
                  native.create_mergeable_comp_execution_context)


if __name__ == '__main__':
  absltest.main()
