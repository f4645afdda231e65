"""Tests for tffx/types/python_containers.py."""

import collections

from absl.testing import absltest
from absl.testing import parameterized

from tffx.types import python_containers
from tffx_test.types.type_test_utils import AttrsLike
from tffx_test.types.type_test_utils import Pair
from tffx_test.types.type_test_utils import Point


class TupleSubclass(tuple):
  pass


class ListSubclass(list):
  pass


class RecognizeTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('list', [1], True, False, False, False),
      ('tuple', (1,), True, False, False, False),
      ('dict', {'a': 1}, True, False, False, False),
      ('ordered_dict', collections.OrderedDict(a=1), True, False, False, False),
      ('namedtuple', Point(1, 2), True, True, False, False),
      ('dataclass', Pair(1, 2), True, False, False, True),
      ('attrs', AttrsLike(1, 2), True, False, True, False),
      ('dataclass_class', Pair, False, False, False, False),
      ('attrs_class', AttrsLike, False, False, False, False),
      ('int', 1, False, False, False, False),
      ('str', 'ab', False, False, False, False),
  )
  def test_recognizes(self, value, container, named_tuple, attrs, dataclass):

    self.assertIs(python_containers.is_container(value), container)
    self.assertIs(python_containers.is_named_tuple(value), named_tuple)
    self.assertIs(python_containers.is_attrs(value), attrs)
    self.assertIs(python_containers.is_dataclass(value), dataclass)

  @parameterized.named_parameters(
      ('list', list, True, None, False),
      ('tuple_subclass', TupleSubclass, True, None, False),
      ('dict', dict, True, None, True),
      ('ordered_dict', collections.OrderedDict, True, None, True),
      ('namedtuple', Point, True, ['x', 'y'], True),
      ('dataclass', Pair, True, ['a', 'b'], True),
      ('attrs', AttrsLike, True, ['a', 'b'], True),
  )
  def test_container_class_properties(self, cls, container, fields, named):

    self.assertIs(python_containers.is_container_class(cls), container)
    self.assertEqual(python_containers.field_names(cls), fields)
    self.assertIs(python_containers.needs_names(cls), named)

  @parameterized.named_parameters(
      ('int', int),
      ('str', str),
      ('instance', [1]),
      ('none', None),
  )
  def test_is_container_class_is_false_for_non_containers(self, cls):

    self.assertFalse(python_containers.is_container_class(cls))


# (name, container, its (name, value) pairs)
_CONTAINERS = [
    ('list', [1, 2], [(None, 1), (None, 2)]),
    ('list_subclass', ListSubclass([1]), [(None, 1)]),
    ('tuple', (1, 2), [(None, 1), (None, 2)]),
    ('tuple_subclass', TupleSubclass((1, 2)), [(None, 1), (None, 2)]),
    ('empty_tuple', (), []),
    ('dict', {'b': 1, 'a': 2}, [('b', 1), ('a', 2)]),
    ('ordered_dict', collections.OrderedDict(b=1, a=2), [('b', 1), ('a', 2)]),
    ('namedtuple', Point(1, 2), [('x', 1), ('y', 2)]),
    ('dataclass', Pair(1, 2), [('a', 1), ('b', 2)]),
    ('attrs', AttrsLike(1, 2), [('a', 1), ('b', 2)]),
]


class ElementsAndBuildTest(parameterized.TestCase):

  @parameterized.named_parameters(_CONTAINERS)
  def test_elements(self, container, pairs):

    result = python_containers.elements(container)

    self.assertEqual(result, pairs)

  @parameterized.named_parameters(_CONTAINERS)
  def test_build_inverts_elements(self, container, pairs):

    rebuilt = python_containers.build(type(container), pairs)

    self.assertIs(type(rebuilt), type(container))
    self.assertEqual(rebuilt, container)

  def test_elements_returns_none_for_non_container(self):

    self.assertIsNone(python_containers.elements(3))

  def test_build_list_ignores_names(self):

    rebuilt = python_containers.build(list, [('a', 1), (None, 2)])

    self.assertEqual(rebuilt, [1, 2])

  @parameterized.named_parameters(
      ('dict', dict),
      ('namedtuple', Point),
      ('dataclass', Pair),
  )
  def test_build_raises_for_unnamed_values(self, container_type):

    with self.assertRaisesRegex(ValueError, 'Expected a name for every value'):
      python_containers.build(container_type, [('x', 1), (None, 2)])


if __name__ == '__main__':
  absltest.main()
