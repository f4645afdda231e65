"""Flattening a traced computation's body into one scope of locals."""

from absl.testing import absltest
import numpy as np

import tffx as tff
from tffx.backends.mapreduce import flat_blocks
from tffx.computations import building_blocks
from tffx.computations import computation_impl


@tff.tf_computation(np.float32)
def _double(x):
  return x * 2


@tff.federated_computation(tff.type_at_clients(np.float32))
def _inner(values):
  arg = tff.federated_map(_double, values)
  return tff.federated_sum(arg)


@tff.federated_computation(tff.type_at_server(np.float32),
                           tff.type_at_clients(np.float32))
def _outer(scale, values):
  total = _inner(values)
  again = _inner(tff.federated_map(_double, values))
  return tff.federated_map(tff.tf_computation(lambda a, b, c: a * (b + c)),
                           (scale, total, again))


@tff.federated_computation(tff.type_at_clients(np.float32))
def _sum_and_max(values):
  return tff.federated_sum(values), tff.federated_max(values)


@tff.federated_computation(tff.type_at_clients(np.float32))
def _first_of_pair(values):
  return _sum_and_max(values)[0]


def _rebuilt(comp):
  block = comp.to_building_block()
  locals_, result = flat_blocks.flatten_lambda(block)
  return locals_, computation_impl.ConcreteComputation(
      building_blocks.Lambda(block.parameter_name, block.parameter_type,
                             building_blocks.Block(locals_, result)))


class FlattenLambdaTest(absltest.TestCase):

  def test_flattened_body_computes_the_same(self):
    _, flat = _rebuilt(_outer)

    self.assertEqual(flat.type_signature, _outer.type_signature)
    self.assertEqual(flat(0.5, [1.0, 2.0]), _outer(0.5, [1.0, 2.0]))
    self.assertEqual(flat(0.5, [1.0, 2.0]), 0.5 * (6.0 + 12.0))

  def test_no_blocks_or_called_lambdas_remain_and_names_are_fresh(self):
    locals_, _ = _rebuilt(_outer)

    names = [n for n, _ in locals_]
    self.assertLen(set(names), len(names))
    self.assertTrue(all(n.startswith(flat_blocks.PREFIX) for n in names))
    for _, value in locals_:
      pending = [value]
      while pending:
        node = pending.pop()
        self.assertNotIsInstance(node, building_blocks.Block)
        if isinstance(node, building_blocks.Call):
          self.assertNotIsInstance(node.function, building_blocks.Lambda)
        pending.extend(node.children())

  def test_every_intrinsic_call_is_a_local_of_its_own(self):
    locals_, result = flat_blocks.flatten_lambda(_outer.to_building_block())

    called = [v for _, v in locals_ if isinstance(v, building_blocks.Call) and
              isinstance(v.function, building_blocks.Intrinsic)]
    # 3 federated_maps, 2 federated_sums, the zip and the final apply.
    self.assertLen(called, 7)
    self.assertIsInstance(result, building_blocks.Reference)
    for value in called:
      for child in value.argument.children():
        self.assertNotIsInstance(child, building_blocks.Call)

  def test_selection_from_a_struct_refers_to_the_selected_element_only(self):
    locals_, result = flat_blocks.flatten_lambda(
        _first_of_pair.to_building_block())

    values = dict(locals_)
    self.assertIsInstance(result, building_blocks.Reference)
    self.assertEqual(values[result.name].function.uri, 'federated_sum')
    _, flat = _rebuilt(_first_of_pair)
    self.assertEqual(flat([1.0, 5.0]), 6.0)


if __name__ == '__main__':
  absltest.main()
