"""Tests for tffx/types/type_conversions.py."""

import collections

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np
import tensorflow as tf

from tffx.types import computation_types
from tffx.types import errors
from tffx.types import placements
from tffx.types import structure
from tffx.types import type_conversions
from tffx_test.types.type_test_utils import AttrsLike
from tffx_test.types.type_test_utils import Pair
from tffx_test.types.type_test_utils import Point

StructType = computation_types.StructType
StructWithPythonType = computation_types.StructWithPythonType
TensorType = computation_types.TensorType
I32 = TensorType(np.int32)
F32 = TensorType(np.float32)


class _Typed:
  """Stands for a computation or traced value: it carries its type."""

  type_signature = computation_types.FunctionType(None, np.int32)


class InferTypeTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('int', 1, I32),
      ('negative_int', -2**31, I32),
      ('int_beyond_int32', 2**31, TensorType(np.int64)),
      ('negative_int_beyond_int32', -2**31 - 1, TensorType(np.int64)),
      ('float', 1.5, F32),
      ('bool', True, TensorType(np.bool_)),
      ('str', 'abc', TensorType(np.str_)),
      ('bytes', b'abc', TensorType(np.str_)),
      ('numpy_scalar', np.float64(2.0), TensorType(np.float64)),
      ('numpy_bool', np.bool_(False), TensorType(np.bool_)),
      ('numpy_array', np.zeros([2, 3], np.int16),
       TensorType(np.int16, [2, 3])),
      ('numpy_string_array', np.array([b'a', b'bc']), TensorType(np.str_, [2])),
      ('numpy_zero_dim_array', np.array(3, np.uint8), TensorType(np.uint8)),
      ('tensor', tf.constant([[1.0], [2.0]]), TensorType(np.float32, [2, 1])),
      ('string_tensor', tf.constant('a'), TensorType(np.str_)),
      ('list', [1, 2.0], StructWithPythonType([I32, F32], list)),
      ('empty_list', [], StructWithPythonType([], list)),
      ('tuple', (True,), StructWithPythonType([TensorType(np.bool_)], tuple)),
      ('dict', {'a': 1, 'b': np.zeros([2], np.float32)},
       StructWithPythonType([('a', I32), ('b', TensorType(np.float32, [2]))],
                            dict)),
      ('ordered_dict', collections.OrderedDict(b=1, a=2.0),
       StructWithPythonType([('b', I32), ('a', F32)],
                            collections.OrderedDict)),
      ('namedtuple', Point(1, 2.0),
       StructWithPythonType([('x', I32), ('y', F32)], Point)),
      ('dataclass', Pair(1, [2]),
       StructWithPythonType(
           [('a', I32), ('b', StructWithPythonType([I32], list))], Pair)),
      ('attrs', AttrsLike(1, 2.0),
       StructWithPythonType([('a', I32), ('b', F32)], AttrsLike)),
      ('struct', structure.Struct([('a', 1), (None, 2.0)]),
       StructType([('a', I32), F32])),
      ('dataset', tf.data.Dataset.range(3),
       computation_types.SequenceType(TensorType(np.int64))),
      ('dataset_of_dicts',
       tf.data.Dataset.from_tensor_slices({'x': np.zeros([4, 2], np.float32)}),
       computation_types.SequenceType(
           StructWithPythonType([('x', TensorType(np.float32, [2]))], dict))),
      ('batched_dataset', tf.data.Dataset.range(4).batch(2),
       computation_types.SequenceType(TensorType(np.int64, [None]))),
      ('value_with_type_signature', _Typed(),
       computation_types.FunctionType(None, np.int32)),
  )
  def test_infer_type(self, value, expected):

    inferred = type_conversions.infer_type(value)

    self.assertIs(inferred, expected)

  def test_infer_type_of_variable(self):
    variable = tf.Variable(np.zeros([3], np.float64))

    inferred = type_conversions.infer_type(variable)

    self.assertIs(inferred, TensorType(np.float64, [3]))

  def test_infer_type_of_keras_variables(self):
    # TFF's tutorials type a model's weights with `weights_type_from_model`;
    # under Keras 3 the variables are Keras variables, not `tf.Variable`s.
    model = keras.Sequential(
        [keras.layers.Input(shape=(4,)), keras.layers.Dense(2)])

    inferred = type_conversions.infer_type(model.trainable_variables)

    self.assertEqual(str(inferred), '<float32[4,2],float32[2]>')

  def test_infer_type_of_an_object_converting_to_a_tensor(self):

    class Celsius:

      def __tf_tensor__(self, dtype=None, name=None):
        return tf.constant([21.5, 19.0], dtype=dtype or tf.float64, name=name)

    inferred = type_conversions.infer_type(Celsius())

    self.assertIs(inferred, TensorType(np.float64, [2]))

  @parameterized.named_parameters(
      ('none', None, errors.UnsupportedTypeSpecError, 'found None'),
      ('object', object(), errors.UnsupportedTypeSpecError,
       'Expected a tensor-like value'),
      ('int_beyond_int64', 2**64, errors.UnsupportedTypeSpecError,
       'within the range of int64'),
      ('type', I32, errors.UnsupportedTypeSpecError, 'use to_type'),
      ('placement', placements.CLIENTS, errors.UnsupportedTypeSpecError,
       "found PlacementLiteral\\('clients'\\)"),
      ('nested_unsupported', {'a': [1, object()]},
       errors.UnsupportedTypeSpecError, 'Expected a tensor-like value'),
      ('int_dict_key', {1: 2}, errors.InvalidTypeError, 'non-empty strings'),
      ('dataset_of_datasets', tf.data.Dataset.range(4).window(2),
       errors.InvalidTypeError, 'element of a sequence type'),
  )
  def test_infer_type_raises(self, value, error, message):

    with self.assertRaisesRegex(error, message):
      type_conversions.infer_type(value)


class ToTfSpecTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('scalar', I32, tf.TensorSpec([], tf.int32)),
      ('shape', TensorType(np.float32, [2, None]),
       tf.TensorSpec([2, None], tf.float32)),
      ('unknown_rank', TensorType(np.float32, None),
       tf.TensorSpec(None, tf.float32)),
      ('string', TensorType(np.str_, [1]), tf.TensorSpec([1], tf.string)),
      ('named_struct', StructType([('a', I32), ('b', F32)]),
       {'a': tf.TensorSpec([], tf.int32), 'b': tf.TensorSpec([], tf.float32)}),
      ('unnamed_struct', StructType([I32, F32]),
       (tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.float32))),
      ('mixed_struct', StructType([('a', I32), F32]),
       (tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.float32))),
      ('list_struct', StructWithPythonType([I32], list),
       [tf.TensorSpec([], tf.int32)]),
      ('ordered_dict_struct',
       StructWithPythonType([('b', I32), ('a', F32)], collections.OrderedDict),
       collections.OrderedDict(b=tf.TensorSpec([], tf.int32),
                               a=tf.TensorSpec([], tf.float32))),
      ('namedtuple_struct', StructWithPythonType([('x', I32), ('y', F32)],
                                                 Point),
       Point(tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.float32))),
      ('sequence', computation_types.SequenceType([('a', I32)]),
       tf.data.DatasetSpec({'a': tf.TensorSpec([], tf.int32)})),
  )
  def test_to_tf_spec(self, type_spec, expected):

    spec = type_conversions.to_tf_spec(type_spec)

    self.assertEqual(spec, expected)
    self.assertIs(type(spec), type(expected))

  @parameterized.named_parameters(
      ('tensor', TensorType(np.float32, [None, 3])),
      ('dict', StructWithPythonType([('a', I32), ('b', (np.float32, [2]))],
                                    dict)),
      ('namedtuple', StructWithPythonType([('x', I32), ('y', F32)], Point)),
      ('sequence', computation_types.SequenceType(
          StructWithPythonType([I32, F32], tuple))),
  )
  def test_to_tf_spec_round_trips_through_to_type(self, type_spec):

    spec = type_conversions.to_tf_spec(type_spec)
    converted = computation_types.to_type(spec)

    self.assertIs(converted, type_spec)

  @parameterized.named_parameters(
      ('federated', computation_types.type_at_server(I32)),
      ('function', computation_types.FunctionType(None, I32)),
      ('abstract', computation_types.AbstractType('T')),
      ('placement', computation_types.PlacementType()),
      ('struct_of_federated',
       StructType([computation_types.type_at_server(I32)])),
  )
  def test_to_tf_spec_raises_for_types_without_spec(self, type_spec):

    with self.assertRaisesRegex(TypeError, 'has no TensorFlow spec'):
      type_conversions.to_tf_spec(type_spec)


class TffConversionFunctionsTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('dtype', tf.int32, computation_types.TensorType(np.int32)),
      ('dtype_and_shape', (tf.int32, tf.TensorShape([2, 3])),
       computation_types.TensorType(np.int32, [2, 3])),
      ('tensor_spec', tf.TensorSpec([2, 3], tf.int32),
       computation_types.TensorType(np.int32, [2, 3])),
      ('dataset_spec', tf.data.DatasetSpec(tf.TensorSpec([2], tf.int32)),
       computation_types.SequenceType(computation_types.TensorType(
           np.int32, [2]))),
      ('nested', [tf.TensorSpec([2], tf.int32), np.float32],
       computation_types.StructWithPythonType([
           computation_types.TensorType(np.int32, [2]),
           computation_types.TensorType(np.float32)
       ], list)),
  )
  def test_tensorflow_to_type(self, obj, expected):
    self.assertIs(type_conversions.tensorflow_to_type(obj), expected)

  def test_type_to_tf_tensor_specs(self):
    type_spec = computation_types.StructWithPythonType(
        [('a', np.int32), ('b', (np.float32, [2]))], collections.OrderedDict)

    specs = type_conversions.type_to_tf_tensor_specs(type_spec)

    self.assertEqual(specs, collections.OrderedDict(
        a=tf.TensorSpec([], tf.int32), b=tf.TensorSpec([2], tf.float32)))

  def test_type_from_tensors(self):
    tensors = {'a': tf.constant([1, 2]), 'b': tf.constant(1.0)}

    type_spec = type_conversions.type_from_tensors(tensors)

    self.assertEqual(str(type_spec), '<a=int32[2],b=float32>')

  def test_type_to_py_container_of_federated_struct(self):
    type_spec = computation_types.FederatedType(
        computation_types.StructWithPythonType([('a', np.int32)], dict),
        placements.CLIENTS)
    value = [structure.Struct([('a', 1)]), structure.Struct([('a', 2)])]

    converted = type_conversions.type_to_py_container(value, type_spec)

    self.assertEqual(converted, [{'a': 1}, {'a': 2}])

  def test_type_to_py_container_of_all_equal_value(self):
    type_spec = computation_types.FederatedType(
        computation_types.StructWithPythonType([np.int32], tuple),
        placements.SERVER)

    converted = type_conversions.type_to_py_container(
        structure.Struct.unnamed(1), type_spec)

    self.assertEqual(converted, (1,))


class StructureFromTensorTypeTreeTest(absltest.TestCase):

  def test_leaves_are_mapped_and_containers_kept(self):
    type_spec = computation_types.to_type(
        collections.OrderedDict(a=np.int32, b=[np.float32, (np.bool_, [2])]))

    result = type_conversions.structure_from_tensor_type_tree(
        lambda t: str(t), type_spec)

    self.assertEqual(result, collections.OrderedDict(
        a='int32', b=['float32', 'bool[2]']))

  def test_a_single_tensor_is_mapped(self):
    result = type_conversions.structure_from_tensor_type_tree(
        lambda t: t.dtype, computation_types.TensorType(np.int64))

    self.assertEqual(result, np.int64)

  def test_non_tensor_leaf_raises_value_error(self):
    type_spec = computation_types.StructType(
        [computation_types.SequenceType(np.int32)])

    with self.assertRaises(ValueError):
      type_conversions.structure_from_tensor_type_tree(lambda t: t, type_spec)


if __name__ == '__main__':
  absltest.main()
