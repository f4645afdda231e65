"""Built-in aggregations as federated_aggregate parts, run on local values."""

import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

import tffx as tff
from tffx.backends.mapreduce import aggregation_parts
from tffx.backends.mapreduce import errors
from tffx.computations import building_blocks
from tffx.computations import computation_impl
from tffx.types import structure


def _run_parts(kind, value_type, values):
  """Accumulates values[:1] and values[1:] apart, merges, and reports."""
  parts = aggregation_parts.parts_for(kind, tff.to_type(value_type))
  accumulate, merge, report = (
      computation_impl.ConcreteComputation(p)
      for p in (parts.accumulate, parts.merge, parts.report))
  zero = computation_impl.ConcreteComputation(
      building_blocks.Lambda(None, None, parts.zero))
  partials = []
  for group in (values[:1], values[1:]):
    accumulator = zero()
    for value in group:
      accumulator = accumulate(accumulator, value)
    partials.append(accumulator)
  return report(merge(*partials))


class AggregationPartsTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('sum', 'federated_sum', np.sum),
      ('mean', 'federated_mean', np.mean),
      ('min', 'federated_min', np.min),
      ('max', 'federated_max', np.max),
  )
  def test_parts_compute_the_aggregation_of_vectors(self, kind, reduce_fn):
    values = [np.array([1.0, -2.0], np.float32),
              np.array([4.0, 3.0], np.float32),
              np.array([-1.5, 0.5], np.float32)]

    found = _run_parts(kind, tff.TensorType(np.float32, [2]), values)

    np.testing.assert_allclose(found, reduce_fn(values, axis=0), rtol=1e-6)

  def test_weighted_mean_casts_the_weight_per_leaf(self):
    value_type = tff.StructType([
        (None, collections.OrderedDict(a=np.float32, b=np.float64)),
        (None, np.int32),
    ])
    values = [(collections.OrderedDict(a=1.0, b=2.0), 1),
              (collections.OrderedDict(a=4.0, b=-1.0), 3)]

    found = _run_parts('federated_weighted_mean', value_type, values)

    self.assertEqual(list(found.keys()), ['a', 'b'])
    np.testing.assert_allclose([found['a'], found['b']], [3.25, -0.25])

  def test_sum_keeps_struct_names_and_containers(self):
    value_type = collections.OrderedDict(x=np.int32, y=(np.int64, np.int64))

    found = _run_parts('federated_sum', value_type, [
        collections.OrderedDict(x=1, y=(2, 3)),
        collections.OrderedDict(x=10, y=(20, 30)),
    ])

    self.assertIsInstance(found, collections.OrderedDict)
    self.assertEqual(structure.flatten(structure.from_container(
        found, recursive=True)), [11, 22, 33])

  def test_unknown_shape_raises_compilation_error(self):
    with self.assertRaisesRegex(errors.MapReduceFormCompilationError,
                                'known shape'):
      aggregation_parts.parts_for('federated_sum',
                                  tff.TensorType(np.float32, [None]))


if __name__ == '__main__':
  absltest.main()
