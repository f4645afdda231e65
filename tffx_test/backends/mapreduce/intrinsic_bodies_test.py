"""Built-in aggregations replaced by federated_aggregate bodies, then run."""

import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

import tffx as tff
from tffx.backends.mapreduce import intrinsic_bodies
from tffx.computations import building_blocks
from tffx.computations import computation_impl


def _intrinsic_uris(block):
  found = set()

  def visit(b):
    if isinstance(b, building_blocks.Intrinsic):
      found.add(b.uri)
    for child in b.children():
      visit(child)

  visit(block)
  return found


def _replaced(comp):
  transformed, modified = intrinsic_bodies.replace_intrinsics_with_bodies(
      comp.to_building_block())
  return computation_impl.ConcreteComputation(transformed), modified


_FLOATS = tff.type_at_clients(np.float32)
_VALUES = [1.5, -2.0, 4.0, 0.25]


class ReplaceIntrinsicsWithBodiesTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('sum', tff.federated_sum, 'federated_sum'),
      ('mean', tff.federated_mean, 'federated_mean'),
      ('min', tff.federated_min, 'federated_min'),
      ('max', tff.federated_max, 'federated_max'),
  )
  def test_replaced_aggregation_computes_the_same(self, intrinsic, uri):

    @tff.federated_computation(_FLOATS)
    def comp(values):
      return intrinsic(values)

    transformed, modified = _replaced(comp)

    self.assertTrue(modified)
    self.assertIn(uri, _intrinsic_uris(comp.to_building_block()))
    self.assertNotIn(uri, _intrinsic_uris(transformed.to_building_block()))
    self.assertIn('federated_aggregate',
                  _intrinsic_uris(transformed.to_building_block()))
    self.assertEqual(transformed.type_signature, comp.type_signature)
    np.testing.assert_allclose(transformed(_VALUES), comp(_VALUES), rtol=1e-6)

  def test_weighted_mean_of_a_struct_computes_the_same(self):
    value_type = tff.type_at_clients(
        collections.OrderedDict(a=np.float32, b=(np.float64, np.float32)))

    @tff.federated_computation(value_type, _FLOATS)
    def comp(values, weights):
      return tff.federated_mean(values, weights)

    values = [collections.OrderedDict(a=1.0, b=(2.0, -1.0)),
              collections.OrderedDict(a=3.0, b=(0.5, 4.0))]
    weights = [1.0, 3.0]
    transformed, modified = _replaced(comp)

    actual = transformed(values, weights)
    self.assertTrue(modified)
    self.assertIn('federated_weighted_mean',
                  _intrinsic_uris(comp.to_building_block()))
    self.assertNotIn('federated_weighted_mean',
                     _intrinsic_uris(transformed.to_building_block()))
    self.assertEqual(list(actual), ['a', 'b'])
    np.testing.assert_allclose(actual['a'], 2.5)
    np.testing.assert_allclose(actual['b'][0], 0.875)
    np.testing.assert_allclose(actual['b'][1], 2.75)

  def test_nested_aggregations_in_a_round_compute_the_same(self):

    @tff.tf_computation(np.float32, np.float32)
    def scale(x, y):
      return x * y

    @tff.federated_computation(tff.type_at_server(np.float32), _FLOATS)
    def comp(factor, values):
      scaled = tff.federated_map(
          scale, (values, tff.federated_broadcast(factor)))
      return tff.federated_sum(scaled), tff.federated_mean(
          tff.federated_map(scale, (values, tff.federated_broadcast(
              tff.federated_max(values)))))

    transformed, _ = _replaced(comp)

    expected = comp(2.0, _VALUES)
    actual = transformed(2.0, _VALUES)
    np.testing.assert_allclose(actual[0], expected[0], rtol=1e-6)
    np.testing.assert_allclose(actual[1], expected[1], rtol=1e-6)
    np.testing.assert_allclose(actual[0], 2.0 * sum(_VALUES), rtol=1e-6)

  def test_computation_without_those_intrinsics_is_not_modified(self):

    @tff.federated_computation(_FLOATS)
    def comp(values):
      return tff.federated_aggregate(
          values, np.float32(0.0), tff.tf_computation(lambda a, b: a + b),
          tff.tf_computation(lambda a, b: a + b),
          tff.tf_computation(lambda a: a))

    transformed, modified = intrinsic_bodies.replace_intrinsics_with_bodies(
        comp.to_building_block())

    self.assertFalse(modified)
    self.assertEqual(str(transformed), str(comp.to_building_block()))

  def test_exported_as_tff_tensorflow_name(self):
    self.assertIs(tff.tensorflow.replace_intrinsics_with_bodies,
                  intrinsic_bodies.replace_intrinsics_with_bodies)

  def test_raises_type_error_for_a_computation(self):
    comp = tff.federated_computation(lambda x: tff.federated_sum(x), _FLOATS)

    with self.assertRaises(TypeError):
      intrinsic_bodies.replace_intrinsics_with_bodies(comp)


if __name__ == '__main__':
  absltest.main()
