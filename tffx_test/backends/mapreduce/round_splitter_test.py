"""Splitting a traced round into server, client and aggregation stages."""

from absl.testing import absltest
import numpy as np

import tffx as tff
from tffx.backends.mapreduce import errors
from tffx.backends.mapreduce import round_splitter
from tffx.computations import building_blocks


@tff.tf_computation(np.float32, np.float32)
def _add(a, b):
  return a + b


_ROUND_SPECS = (tff.FederatedType(np.float32, tff.SERVER),
                tff.FederatedType(np.float32, tff.CLIENTS))


class SplitRoundTest(absltest.TestCase):

  def test_stages_hold_what_each_side_computes(self):

    @tff.federated_computation(*_ROUND_SPECS)
    def round_comp(state, values):
      prepared = tff.federated_map(_add, (state, state))
      shifted = tff.federated_map(
          _add, (values, tff.federated_broadcast(prepared)))
      total = tff.federated_sum(shifted)
      return tff.federated_map(_add, (state, total)), total

    split = round_splitter.split_round(round_comp.to_building_block())

    self.assertLen(split.server_before, 2)  # the zip and the map
    self.assertLen(split.broadcasts, 1)
    self.assertLen(split.clients, 2)
    self.assertEqual([a.kind for a in split.aggregations], ['federated_sum'])
    self.assertLen(split.server_after, 2)
    self.assertEqual(split.output.name, split.aggregations[0].result.name)

  def test_called_federated_computations_are_inlined(self):

    @tff.federated_computation(tff.FederatedType(np.float32, tff.CLIENTS))
    def mean_of(values):
      return tff.federated_mean(values)

    @tff.federated_computation(*_ROUND_SPECS)
    def round_comp(state, values):
      return state, mean_of(values)

    split = round_splitter.split_round(round_comp.to_building_block())

    self.assertEqual([a.kind for a in split.aggregations], ['federated_mean'])
    self.assertEqual(split.new_state.name, round_splitter.STATE)

  def test_parameter_type_not_of_a_round_raises_type_error(self):

    @tff.federated_computation(tff.FederatedType(np.float32, tff.SERVER),
                               tff.FederatedType(np.float32, tff.SERVER))
    def both_at_server(a, b):
      return a, b

    with self.assertRaisesRegex(TypeError, 'server state and client data'):
      round_splitter.split_round(both_at_server.to_building_block())

  def test_state_type_not_assignable_raises_type_error(self):

    @tff.federated_computation(*_ROUND_SPECS)
    def new_state_of_other_type(state, values):
      return tff.federated_value(1, tff.SERVER), state

    with self.assertRaisesRegex(TypeError, 'updated state type int32'):
      round_splitter.split_round(new_state_of_other_type.to_building_block())

  def test_client_value_at_server_after_aggregation_is_refused(self):

    @tff.federated_computation(*_ROUND_SPECS)
    def second_aggregation(state, values):
      total = tff.federated_sum(values)
      return state, tff.federated_sum(
          tff.federated_map(_add, (values, tff.federated_broadcast(total))))

    with self.assertRaises(errors.MapReduceFormCompilationError):
      round_splitter.split_round(second_aggregation.to_building_block())


class PruneTest(absltest.TestCase):

  def test_unused_bindings_are_dropped(self):
    x = building_blocks.Reference('x', np.int32)
    bindings = [('a', building_blocks.Literal(np.int32(1))),
                ('b', building_blocks.Literal(np.int32(2))),
                ('x', building_blocks.Reference('a', np.int32))]

    pruned = round_splitter.prune(bindings, x)

    self.assertEqual([name for name, _ in pruned.locals], ['a', 'x'])

  def test_nothing_used_gives_the_result_itself(self):
    result = building_blocks.Literal(np.int32(3))

    pruned = round_splitter.prune(
        [('a', building_blocks.Literal(np.int32(1)))], result)

    self.assertIs(pruned, result)


if __name__ == '__main__':
  absltest.main()
