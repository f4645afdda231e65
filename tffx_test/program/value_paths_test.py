import collections
import dataclasses
from typing import NamedTuple

from absl.testing import absltest
from absl.testing import parameterized

from tffx.program import value_paths
from tffx.types import structure


class _Weights(NamedTuple):
  trainable: list
  non_trainable: list


@dataclasses.dataclass
class _Optimizer:
  step: int
  momentum: float


class FlattenWithPathsTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('leaf', 3.0, [('', 3.0)]),
      ('nested_ordered_dicts',
       collections.OrderedDict(client_work=collections.OrderedDict(
           train=collections.OrderedDict(loss=0.5, accuracy=0.9))),
       [('client_work/train/loss', 0.5), ('client_work/train/accuracy', 0.9)]),
      ('dict_keeps_insertion_order', {'b': 1, 'a': 2}, [('b', 1), ('a', 2)]),
      ('list_and_tuple_by_index', [10, (20, 30)],
       [('0', 10), ('1/0', 20), ('1/1', 30)]),
      ('namedtuple_by_field', _Weights([1], []), [('trainable/0', 1)]),
      ('dataclass_by_field', _Optimizer(3, 0.9),
       [('step', 3), ('momentum', 0.9)]),
      ('struct_by_name_or_index', structure.Struct([('a', 1), (None, 2)]),
       [('a', 1), ('1', 2)]),
      ('int_dict_keys', {1: 'x'}, [('1', 'x')]),
      ('empty_containers', {'a': (), 'b': {}}, []),
  )
  def test_flatten_with_paths(self, value, expected):

    self.assertEqual(value_paths.flatten_with_paths(value), expected)

  @parameterized.named_parameters(
      ('equal_str_and_int_keys', {1: 'x', '1': 'y'}, r"\['1'\]"),
      ('separator_in_name', {'a/b': 1, 'a': {'b': 2}}, r"\['a/b'\]"),
  )
  def test_flatten_with_paths_raises_value_error_repeated_path(
      self, value, message):

    with self.assertRaisesRegex(ValueError, message):
      value_paths.flatten_with_paths(value)


class PackByPathsTest(absltest.TestCase):

  def test_pack_by_paths_rebuilds_containers_of_structure(self):
    template = collections.OrderedDict(
        weights=_Weights([0, 0], []),
        optimizer=_Optimizer(0, 0.0),
        extra=structure.Struct([('s', 0), (None, 0)]),
        pair=(0, 0))
    leaves = {
        'weights/trainable/0': 'w0', 'weights/trainable/1': 'w1',
        'optimizer/step': 7, 'optimizer/momentum': 0.5, 'extra/s': 's',
        'extra/1': 'u', 'pair/0': 1, 'pair/1': 2,
    }

    packed = value_paths.pack_by_paths(template, leaves)

    self.assertEqual(
        packed,
        collections.OrderedDict(
            weights=_Weights(['w0', 'w1'], []),
            optimizer=_Optimizer(7, 0.5),
            extra=structure.Struct([('s', 's'), (None, 'u')]),
            pair=(1, 2)))
    self.assertIsInstance(packed, collections.OrderedDict)
    self.assertIsInstance(packed['weights'], _Weights)

  def test_map_with_paths_passes_paths(self):

    mapped = value_paths.map_with_paths(lambda p, v: f'{p}={v}',
                                        {'a': [1, 2], 'b': 3})

    self.assertEqual(mapped, {'a': ['a/0=1', 'a/1=2'], 'b': 'b=3'})

  def test_pack_by_paths_raises_key_error_missing_leaf(self):

    with self.assertRaises(KeyError):
      value_paths.pack_by_paths({'a': 0, 'b': 0}, {'a': 1})


if __name__ == '__main__':
  absltest.main()
