"""Pins the public names of `tffx` and checks that internals stay internal."""

import types

from absl.testing import absltest
import numpy as np

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
    'aggregators', 'analytics', 'backends', 'learning', 'program', 'simulation',
    'templates',
})

# Area packages become attributes of `tffx` when they are imported; they are
# namespaces, and their modules are reached through them, not through `tffx`.
_AREA_PACKAGES = frozenset({
    'cli', 'computations', 'executors', 'proto', 'remote', 'testing',
})

# The modules of tffx.testing, attributes of `tffx.test` once imported.
_AREA_MODULES_OF_TEST = frozenset({
    'aggregation_assertions', 'contexts', 'type_assertions',
})

_INTERNAL_MODULES = (
    'building_blocks', 'computation_impl', 'computation_wrapper',
    'context_stack', 'intrinsic_defs', 'value_impl', 'reference_executor',
    'execution_context', 'tensorflow_runner', 'value_conversions',
    'computation_types', 'type_serialization', 'placements',
)


# TFF 0.87's names in `tff.types`, `tff.test` and `tff.structure` (from TFF's
# API docs), plus tffx's `at_clients`/`at_server`-style extras TFF also has.
_TYPES_NAMES = frozenset({
    'AbstractType', 'ArrayShape', 'FederatedType', 'FunctionType',
    'PlacementType', 'SequenceType', 'StructType', 'StructWithPythonType',
    'TensorType', 'Type', 'TypeNotAssignableError', 'TypeRelation',
    'TypesNotEquivalentError', 'TypesNotIdenticalError',
    'UnexpectedTypeError', 'at_clients', 'at_server', 'contains',
    'contains_only', 'count', 'deserialize_type', 'infer_type',
    'is_average_compatible', 'is_min_max_compatible', 'is_shape_fully_defined',
    'is_single_integer_or_matches_structure', 'is_structure_of_floats',
    'is_structure_of_integers', 'is_structure_of_tensors',
    'is_sum_compatible', 'is_tensorflow_compatible_type',
    'num_elements_in_shape', 'serialize_type', 'structure_from_tensor_type_tree',
    'tensorflow_to_type', 'to_type',
    'type_from_tensors', 'type_mismatch_error_message',
    'type_to_py_container', 'type_to_tf_tensor_specs',
})
_TEST_NAMES = frozenset({
    'assert_contains_secure_aggregation',
    'assert_contains_unsecure_aggregation',
    'assert_not_contains_secure_aggregation',
    'assert_not_contains_unsecure_aggregation',
    'assert_not_type_assignable_from', 'assert_type_assignable_from',
    'assert_types_equivalent', 'assert_types_identical',
    'create_runtime_error_context', 'set_no_default_context', 'with_context',
    'with_contexts',
})
_STRUCTURE_NAMES = frozenset({
    'Struct', 'flatten', 'from_container', 'has_field', 'is_same_structure',
    'iter_elements', 'map_structure', 'name_list', 'name_list_with_nones',
    'name_to_index_map', 'pack_sequence_as', 'to_elements', 'to_odict',
    'to_odict_or_tuple', 'update_struct',
})

# TFF 0.87's names in `tff.backends.mapreduce` that tffx has (the rest are
# listed in docs/tff_differences.md).
_MAPREDUCE_NAMES = frozenset({
    'BroadcastForm', 'DistributeAggregateForm', 'MapReduceForm',
    'MapReduceFormCompilationError',
    'check_computation_compatible_with_map_reduce_form',
    'consolidate_and_extract_local_processing',
    'get_broadcast_form_for_computation', 'get_computation_for_broadcast_form',
    'get_computation_for_distribute_aggregate_form',
    'get_computation_for_map_reduce_form',
    'get_distribute_aggregate_form_for_computation',
    'get_map_reduce_form_for_computation',
    'get_state_initialization_computation',
})


# TFF 0.87's names in `tff.learning.models` (all of them).
_LEARNING_MODELS_NAMES = frozenset({
    'BatchOutput', 'FunctionalModel', 'ModelWeights',
    'ReconstructionDatasetSplitFn', 'ReconstructionModel', 'VariableModel',
    'from_keras_model', 'functional_model_from_keras', 'load',
    'load_functional_model', 'model_from_functional', 'save',
    'save_functional_model', 'weights_type_from_model',
})

# TFF 0.87's names in `tff.learning.templates`, plus tffx's
# `build_identity_finalizer`.
_LEARNING_TEMPLATES_NAMES = frozenset({
    'ClientResult', 'ClientWorkProcess', 'DistributionProcess',
    'FinalizerProcess', 'LearningAlgorithmState', 'LearningProcess',
    'LearningProcessOutput', 'build_apply_optimizer_finalizer',
    'build_broadcast_process', 'build_functional_model_delta_client_work',
    'build_identity_finalizer', 'build_model_delta_client_work',
    'compose_learning_process', 'reject_non_finite_update',
})


# TFF 0.87's classes and functions in `tff.analytics`.
_ANALYTICS_NAMES = frozenset({
    'HierarchicalHistogramDecoder', 'IbltFactory',
    'build_hierarchical_histogram_process',
})

# TFF 0.87's names in `tff.learning.metrics` (all of them are in tffx).
_LEARNING_METRICS_NAMES = frozenset({
    'FinalizeThenSampleFactory', 'FunctionalMetricFinalizersType',
    'MetricFinalizersType', 'MetricsAggregatorType', 'NumBatchesCounter',
    'NumExamplesCounter', 'SecureSumFactory', 'SumThenFinalizeFactory',
    'create_default_secure_sum_quantization_ranges',
    'create_functional_metric_fns', 'create_keras_metric_finalizer',
    'finalize_then_sample', 'secure_sum_then_finalize', 'sum_then_finalize',
})


# TFF 0.87's classes in `tff.simulation.baselines`, and the task modules
# tffx has of its modules (emnist, shakespeare).
_BASELINES_NAMES = frozenset({
    'BaselineTask', 'BaselineTaskDatasets', 'ClientSpec',
})
_BASELINES_TASK_MODULES = frozenset({'emnist', 'shakespeare'})


class PublicApiTest(absltest.TestCase):

  def test_learning_metrics_namespace_exports_exactly_tffs_names(self):
    namespace = tffx.learning.metrics
    public = {
        name for name in dir(namespace) if not name.startswith('_') and
        not isinstance(getattr(namespace, name), types.ModuleType)
    }

    self.assertEqual(public, _LEARNING_METRICS_NAMES)

  def test_reservoir_sampling_factory_is_exported(self):

    self.assertIs(tffx.aggregators.UnweightedReservoirSamplingFactory,
                  tffx.aggregators.sampling.UnweightedReservoirSamplingFactory)

  def test_tff_namespaces_have_tffs_names(self):
    for namespace, names in ((tffx.types, _TYPES_NAMES),
                             (tffx.test, _TEST_NAMES),
                             (tffx.structure, _STRUCTURE_NAMES)):
      for name in sorted(names):
        with self.subTest(namespace=namespace.__name__, name=name):
          self.assertTrue(hasattr(namespace, name))

  def test_analytics_namespace_exports_tffs_names_and_its_modules(self):
    public = {name for name in dir(tffx.analytics) if not name.startswith('_')}
    modules = {name for name in public
               if isinstance(getattr(tffx.analytics, name), types.ModuleType)}

    self.assertEqual(public - modules, _ANALYTICS_NAMES)

  def test_baselines_namespace_exports_tffs_classes_and_task_modules(self):
    namespace = tffx.simulation.baselines
    public = {name for name in dir(namespace) if not name.startswith('_')}
    modules = {name for name in public
               if isinstance(getattr(namespace, name), types.ModuleType)}

    self.assertEqual(public - modules, _BASELINES_NAMES)
    self.assertContainsSubset(_BASELINES_TASK_MODULES, modules)

  def test_test_namespace_exports_exactly_tffs_names(self):
    public = {name for name in dir(tffx.test) if not name.startswith('_')}

    self.assertEqual(public - _AREA_MODULES_OF_TEST, _TEST_NAMES)

  def test_mapreduce_namespace_exports_exactly_its_names(self):
    namespace = tffx.backends.mapreduce
    public = {
        name for name in dir(namespace) if not name.startswith('_') and
        not isinstance(getattr(namespace, name), types.ModuleType)
    }

    self.assertEqual(public, _MAPREDUCE_NAMES)

  def test_learning_namespaces_export_exactly_their_names(self):
    for namespace, names in (
        (tffx.learning.models, _LEARNING_MODELS_NAMES),
        (tffx.learning.templates, _LEARNING_TEMPLATES_NAMES)):
      public = {
          name for name in dir(namespace) if not name.startswith('_') and
          not isinstance(getattr(namespace, name), types.ModuleType)
      }

      self.assertEqual(public, names, namespace.__name__)

  def test_to_value_and_typed_object(self):

    @tffx.federated_computation
    def comp():
      value = tffx.to_value(1, np.int64)
      self.assertIsInstance(value, tffx.TypedObject)
      self.assertEqual(str(value.type_signature), 'int64')
      with self.assertRaises(tffx.types.TypeNotAssignableError):
        tffx.to_value(1.5, np.int32)
      return value

    self.assertIsInstance(comp, tffx.TypedObject)
    self.assertEqual(comp(), 1)

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

  def test_tensorflow_namespace_exports_exactly_tffs_names(self):
    public = {
        name for name in dir(tffx.tensorflow) if not name.startswith('_') and
        not isinstance(getattr(tffx.tensorflow, name), types.ModuleType)
    }

    self.assertEqual(public, {'computation', 'replace_intrinsics_with_bodies',
                              'transform_args', 'transform_result'})

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
