"""Tests for typed_object: computations and traced values are typed objects."""

from absl.testing import absltest
import numpy as np

import tffx as tff
from tffx.types import typed_object


class TypedObjectTest(absltest.TestCase):

  def test_computation_is_a_typed_object(self):

    @tff.tf_computation(np.int32)
    def add_one(x):
      return x + 1

    self.assertIsInstance(add_one, typed_object.TypedObject)
    self.assertEqual(str(add_one.type_signature), '(int32 -> int32)')

  def test_traced_value_is_a_typed_object(self):
    seen = []

    @tff.federated_computation(tff.type_at_server(np.int32))
    def identity(x):
      seen.append(isinstance(x, typed_object.TypedObject))
      return x

    self.assertEqual(seen, [True])
    self.assertEqual(identity(3), 3)

  def test_base_type_signature_is_abstract(self):
    with self.assertRaises(NotImplementedError):
      _ = typed_object.TypedObject().type_signature


if __name__ == '__main__':
  absltest.main()
