"""Computations split into MergeableCompForm, run part by part on subsets."""

import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

import tffx as tff
from tffx.backends.mapreduce import mergeable_comp_compiler
from tffx.types import structure


@tff.tf_computation(np.float32)
def _double(x):
  return x * 2


@tff.tf_computation(np.float32, np.float32)
def _add(x, y):
  return x + y


@tff.federated_computation(tff.type_at_clients(np.float32))
def _doubled_sum(values):
  return tff.federated_sum(tff.federated_map(_double, values))


@tff.federated_computation(tff.type_at_server(np.float32),
                           tff.type_at_clients(np.float32))
def _round(state, values):
  mean = tff.federated_mean(values)
  total = _doubled_sum(values)
  largest = tff.federated_max(tff.federated_map(
      _add, (values, tff.federated_broadcast(state))))
  return tff.federated_map(
      tff.tf_computation(lambda s, m, t, l: s + m + t + l),
      (state, mean, total, largest))


@tff.federated_computation(tff.type_at_clients(np.float32),
                           tff.type_at_clients(np.float32))
def _weighted(values, weights):
  return tff.federated_mean(values, weights)


@tff.federated_computation(tff.type_at_clients(np.int32))
def _custom_aggregate(values):
  return tff.federated_aggregate(
      values, collections.OrderedDict(total=np.int32(0), count=np.int32(0)),
      tff.tf_computation(lambda a, v: collections.OrderedDict(
          total=a['total'] + v, count=a['count'] + 1)),
      tff.tf_computation(lambda a, b: collections.OrderedDict(
          total=a['total'] + b['total'], count=a['count'] + b['count'])),
      tff.tf_computation(lambda a: a['total'] * 100 + a['count']))


def _run_split(form, arg_parts, full_arg):
  """up_to_merge on each part, merged in order, then after_merge."""
  partials = [form.up_to_merge(*part) for part in arg_parts]
  merged = partials[0]
  for partial in partials[1:]:
    merged = form.merge(merged, partial)
  return form.after_merge(full_arg, merged)


class CompileToMergeableCompFormTest(parameterized.TestCase):

  def test_parallel_aggregations_split_over_clients_give_the_result(self):
    form = mergeable_comp_compiler.compile_to_mergeable_comp_form(_round)
    values = [1.0, 2.0, 3.0, 6.0]

    result = _run_split(form, [(0.5, values[:1]), (0.5, values[1:3]),
                               (0.5, values[3:])], structure.Struct(
                                   [('state', 0.5), ('values', values)]))

    self.assertIsInstance(form, mergeable_comp_compiler.MergeableCompForm)
    self.assertEqual(result, _round(0.5, values))
    np.testing.assert_allclose(result, 0.5 + 3.0 + 24.0 + 6.5)

  def test_weighted_mean_merges_sums_not_means(self):
    form = mergeable_comp_compiler.compile_to_mergeable_comp_form(_weighted)
    values, weights = [1.0, 2.0, 10.0], [1.0, 1.0, 2.0]

    result = _run_split(
        form, [(values[:2], weights[:2]), (values[2:], weights[2:])],
        structure.Struct([('values', values), ('weights', weights)]))

    np.testing.assert_allclose(result, 23.0 / 4.0)
    np.testing.assert_allclose(result, _weighted(values, weights))

  def test_user_aggregate_keeps_its_zero_accumulate_merge_and_report(self):
    form = mergeable_comp_compiler.compile_to_mergeable_comp_form(
        _custom_aggregate)

    result = _run_split(form, [([1, 2],), ([3, 4, 5],)], [1, 2, 3, 4, 5])

    self.assertEqual(result, 1505)
    self.assertEqual(str(form.merge.type_signature),
                     '(<<total=int32,count=int32>,<total=int32,count=int32>> '
                     '-> <total=int32,count=int32>)')

  def test_no_argument_computation_takes_only_the_merged_value(self):

    @tff.federated_computation
    def comp():
      return tff.federated_sum(tff.federated_value(np.int32(3), tff.CLIENTS))

    form = mergeable_comp_compiler.compile_to_mergeable_comp_form(comp)

    self.assertIsNone(form.up_to_merge.type_signature.parameter)
    self.assertEqual(str(form.after_merge.type_signature.parameter),
                     'int32@SERVER')
    self.assertEqual(form.after_merge(form.up_to_merge()), comp())

  def test_computation_without_aggregation_runs_in_after_merge(self):

    @tff.federated_computation(tff.type_at_server(np.float32))
    def comp(value):
      return tff.federated_map(_double, value)

    form = mergeable_comp_compiler.compile_to_mergeable_comp_form(comp)

    merged = form.merge(form.up_to_merge(2.0), form.up_to_merge(2.0))
    self.assertEqual(form.after_merge(2.0, merged), 4.0)

  def test_raises_value_error_for_dependent_aggregations(self):

    @tff.federated_computation(tff.type_at_clients(np.float32))
    def comp(values):
      total = tff.federated_sum(values)
      return tff.federated_sum(tff.federated_map(
          _add, (values, tff.federated_broadcast(total))))

    with self.assertRaisesRegex(ValueError, 'depend'):
      mergeable_comp_compiler.compile_to_mergeable_comp_form(comp)

  def test_raises_value_error_for_a_secure_sum(self):

    @tff.federated_computation(tff.type_at_clients(np.int32))
    def comp(values):
      return tff.federated_secure_sum(values, 100)

    with self.assertRaises(ValueError):
      mergeable_comp_compiler.compile_to_mergeable_comp_form(comp)

  def test_raises_type_error_for_a_non_computation(self):
    with self.assertRaises(TypeError):
      mergeable_comp_compiler.compile_to_mergeable_comp_form(lambda x: x)

  def test_form_raises_type_error_for_a_mismatched_merge(self):
    form = mergeable_comp_compiler.compile_to_mergeable_comp_form(
        _doubled_sum)

    with self.assertRaises(TypeError):
      mergeable_comp_compiler.MergeableCompForm(
          up_to_merge=form.up_to_merge, merge=_double,
          after_merge=form.after_merge)
    with self.assertRaises(TypeError):
      mergeable_comp_compiler.MergeableCompForm(
          up_to_merge=form.up_to_merge, merge=_add, after_merge=_double)


if __name__ == '__main__':
  absltest.main()
