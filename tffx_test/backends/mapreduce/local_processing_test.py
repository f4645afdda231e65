"""Local processing at one placement, extracted as an unplaced computation."""

import collections

from absl.testing import absltest
import numpy as np

import tffx as tff
from tffx.backends.mapreduce import local_processing
from tffx.computations import building_blocks
from tffx.computations import computation_impl


@tff.tf_computation(np.int32)
def _double(x):
  return x * 2


@tff.tf_computation(np.int32, np.int32)
def _add(x, y):
  return x + y


def _extract(comp):
  block = comp.to_building_block() if hasattr(comp,
                                              'to_building_block') else comp
  return computation_impl.ConcreteComputation(
      local_processing.consolidate_and_extract_local_processing(block, None))


def _has_federated_type(block):
  pending = [block]
  while pending:
    node = pending.pop()
    if 'CLIENTS' in str(node.type_signature) or 'SERVER' in str(
        node.type_signature):
      return True
    if isinstance(node, building_blocks.Intrinsic):
      return True
    pending.extend(node.children())
  return False


class ConsolidateAndExtractLocalProcessingTest(absltest.TestCase):

  def test_client_processing_computes_each_members_result(self):

    @tff.federated_computation(tff.type_at_clients(np.int32))
    def comp(values):
      doubled = tff.federated_map(_double, values)
      return tff.federated_zip(collections.OrderedDict(
          doubled=doubled,
          total=tff.federated_map(_add, (doubled, values)),
          seven=tff.federated_value(np.int32(7), tff.CLIENTS)))

    local = _extract(comp)

    self.assertEqual(str(local.type_signature),
                     '(int32 -> <doubled=int32,total=int32,seven=int32>)')
    self.assertFalse(_has_federated_type(local.to_building_block()))
    per_client = comp([1, 5])
    for i, value in enumerate([1, 5]):
      result = local(value)
      self.assertEqual(result['doubled'], per_client[i]['doubled'])
      self.assertEqual(result['total'], per_client[i]['total'])
      self.assertEqual(result['seven'], 7)
    self.assertEqual(local(5)['total'], 15)

  def test_server_processing_with_apply_and_zip(self):

    @tff.federated_computation(tff.type_at_server((np.int32, np.int32)))
    def comp(pair):
      first = tff.federated_map(_double, pair[0])
      return tff.federated_zip((first, tff.federated_map(_add, pair)))

    local = _extract(comp)

    self.assertEqual(str(local.type_signature),
                     '(<int32,int32> -> <int32,int32>)')
    self.assertEqual(tuple(local((3, 4))), tuple(comp((3, 4))))
    self.assertEqual(tuple(local((3, 4))), (6, 7))

  def test_value_without_parameter_becomes_a_no_argument_function(self):

    @tff.federated_computation
    def comp():
      return tff.federated_map(
          _double, tff.federated_value(np.int32(21), tff.SERVER))

    block = comp.to_building_block().result

    local = _extract(block)

    self.assertEqual(str(local.type_signature), '( -> int32)')
    self.assertEqual(local(), 42)

  def test_raises_value_error_for_a_broadcast(self):

    @tff.federated_computation(tff.type_at_server(np.int32))
    def comp(value):
      return tff.federated_map(_double, tff.federated_broadcast(value))

    with self.assertRaises(ValueError):
      local_processing.consolidate_and_extract_local_processing(
          comp.to_building_block(), None)

  def test_raises_value_error_for_an_aggregation_to_the_result_placement(self):

    @tff.federated_computation(tff.type_at_clients(np.int32))
    def comp(values):
      return tff.federated_sum(values)

    with self.assertRaises(ValueError):
      local_processing.consolidate_and_extract_local_processing(
          comp.to_building_block(), None)

  def test_raises_value_error_for_a_struct_of_federated_values(self):

    @tff.federated_computation(tff.type_at_clients(np.int32))
    def comp(values):
      return tff.federated_map(_double, values), values

    with self.assertRaises(ValueError):
      local_processing.consolidate_and_extract_local_processing(
          comp.to_building_block(), None)

  def test_raises_type_error_for_a_computation(self):
    with self.assertRaises(TypeError):
      local_processing.consolidate_and_extract_local_processing(_double, None)

  def test_exported_as_tff_name(self):
    self.assertIs(tff.backends.mapreduce.consolidate_and_extract_local_processing,
                  local_processing.consolidate_and_extract_local_processing)


if __name__ == '__main__':
  absltest.main()
