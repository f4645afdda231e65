"""Pins the public names of `tffx` and checks that internals stay internal."""

import types

from absl.testing import absltest

import tffx

# Names that `tffx/__init__.py` re-exports, with TFF's meaning.
_EXPORTED = frozenset({
    # Types and placements.
    'AbstractType', 'CLIENTS', 'FederatedType', 'FunctionType',
    'PlacementType', 'SERVER', 'SequenceType', 'StructType',
    'StructWithPythonType', 'TensorType', 'Type', 'TypedObject', 'infer_type',
    'structure', 'to_type', 'type_at_clients', 'type_at_server', 'types',
    # Computations.
    'Computation', 'Value', 'deserialize_computation', 'federated_computation',
    'serialize_computation', 'tensorflow', 'tf_computation', 'to_value',
    # Test helpers.
    'test',
    # Intrinsics.
    'federated_aggregate', 'federated_broadcast', 'federated_eval',
    'federated_map', 'federated_max', 'federated_mean', 'federated_min',
    'federated_secure_select', 'federated_secure_sum',
    'federated_secure_sum_bitwidth', 'federated_select', 'federated_sum',
    'federated_value', 'federated_zip', 'sequence_map', 'sequence_reduce',
    'sequence_sum',
    # Higher layers.
    'aggregators', 'backends', 'learning', 'program', 'simulation',
    'templates',
})

# Area packages become attributes of `tffx` when they are imported; they are
# namespaces, and their modules are reached through them, not through `tffx`.
_AREA_PACKAGES = frozenset({
    'cli', 'computations', 'executors', 'proto', 'remote', 'testing',
})

_INTERNAL_MODULES = (
    'building_blocks', 'computation_impl', 'computation_wrapper',
    'context_stack', 'intrinsic_defs', 'value_impl', 'reference_executor',
    'execution_context', 'tensorflow_runner', 'value_conversions',
    'computation_types', 'type_serialization', 'placements',
)


class PublicApiTest(absltest.TestCase):

  def test_public_names_are_exactly_the_pinned_set(self):
    public = {name for name in dir(tffx) if not name.startswith('_')}

    unexpected = public - _EXPORTED - _AREA_PACKAGES
    missing = _EXPORTED - public

    self.assertEmpty(unexpected, f'Unexpected public names: {unexpected}')
    self.assertEmpty(missing, f'Missing public names: {missing}')

  def test_internal_modules_are_not_exported(self):
    for name in _INTERNAL_MODULES:
      with self.subTest(name=name):
        self.assertFalse(hasattr(tffx, name), f'tffx.{name} is exported.')

  def test_area_attributes_are_packages_only(self):
    for name in _AREA_PACKAGES & set(dir(tffx)):
      with self.subTest(name=name):
        self.assertIsInstance(getattr(tffx, name), types.ModuleType)

  def test_exported_names_come_from_their_defining_modules(self):
    self.assertIs(tffx.TensorType, tffx.types.computation_types.TensorType)
    self.assertIs(tffx.CLIENTS, tffx.types.placements.CLIENTS)
    self.assertIs(tffx.federated_map,
                  tffx.computations.intrinsics.federated_map)
    self.assertIs(tffx.tensorflow.computation, tffx.tf_computation)

  def test_default_context_is_the_thread_pool_executor(self):

    context = tffx.computations.context_stack.get_context()

    self.assertIsInstance(context.executor,
                          tffx.executors.thread_pool_executor.ThreadPoolExecutor)

  def test_default_context_runs_a_computation(self):

    @tffx.federated_computation(tffx.type_at_clients(tffx.TensorType('int32')))
    def total(values):
      return tffx.federated_sum(values)

    self.assertEqual(total([1, 2, 3]), 6)


if __name__ == '__main__':
  absltest.main()
