"""Tests for tffx/types/placements.py."""

import copy
import pickle

from absl.testing import absltest
from absl.testing import parameterized

from tffx.types import placements


class PlacementsTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('clients', placements.CLIENTS, 'CLIENTS', 'clients', False),
      ('server', placements.SERVER, 'SERVER', 'server', True),
  )
  def test_literal_properties(self, placement, name, uri, all_equal):

    self.assertEqual(placement.name, name)
    self.assertEqual(placement.uri, uri)
    self.assertIs(placement.default_all_equal, all_equal)
    self.assertEqual(str(placement), name)
    self.assertEqual(repr(placement), f'PlacementLiteral({uri!r})')
    self.assertNotEmpty(placement.description)

  @parameterized.named_parameters(
      ('clients', 'clients', placements.CLIENTS),
      ('server', 'server', placements.SERVER),
  )
  def test_uri_to_placement_returns_singleton(self, uri, expected):

    placement = placements.uri_to_placement(uri)

    self.assertIs(placement, expected)

  def test_uri_to_placement_raises_for_unknown_uri(self):

    with self.assertRaisesRegex(ValueError, "Unknown placement uri 'tpu'"):
      placements.uri_to_placement('tpu')

  @parameterized.named_parameters(
      ('clients', placements.CLIENTS),
      ('server', placements.SERVER),
  )
  def test_pickle_and_copy_keep_singleton(self, placement):

    unpickled = pickle.loads(pickle.dumps(placement))
    copied = copy.deepcopy(placement)

    self.assertIs(unpickled, placement)
    self.assertIs(copied, placement)

  def test_literals_are_distinct_and_hashable(self):

    table = {placements.CLIENTS: 1, placements.SERVER: 2}

    self.assertNotEqual(placements.CLIENTS, placements.SERVER)
    self.assertEqual(table[placements.uri_to_placement('server')], 2)

  def test_setattr_and_delattr_raise(self):

    with self.assertRaisesRegex(AttributeError, 'immutable'):
      placements.CLIENTS._uri = 'server'  # pylint: disable=protected-access
    with self.assertRaisesRegex(AttributeError, 'immutable'):
      del placements.SERVER._name  # pylint: disable=protected-access
    self.assertEqual(placements.CLIENTS.uri, 'clients')


if __name__ == '__main__':
  absltest.main()
