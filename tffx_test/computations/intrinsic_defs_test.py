import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.computations import intrinsic_defs
from tffx.types import computation_types as ct
from tffx.types import errors as type_errors
from tffx.types import placements

_INT = ct.TensorType(np.int32)


def _labels(t):
  if isinstance(t, ct.AbstractType):
    return {t.label}
  return set().union(*[_labels(c) for c in t.children()])


class TableTest(parameterized.TestCase):

  def test_uris_and_names_unique(self):
    defs = list(intrinsic_defs.BY_URI.values())

    uris = [d.uri for d in defs]
    names = [d.name for d in defs]

    self.assertLen(set(uris), len(defs))
    self.assertLen(set(names), len(defs))

  def test_aggregations_are_known_uris(self):

    unknown = intrinsic_defs.AGGREGATIONS - set(intrinsic_defs.BY_URI)

    self.assertEmpty(unknown)

  def test_uri_of_unknown_name_raises(self):

    with self.assertRaises(KeyError) as raised:
      intrinsic_defs.uri('federated_nothing')

    self.assertIn('federated_sum', str(raised.exception))

  @parameterized.named_parameters(
      (uri, uri) for uri in sorted(intrinsic_defs.BY_URI))
  def test_specialize_binds_every_abstract_type(self, uri):
    signature = intrinsic_defs.BY_URI[uri].type_signature
    bindings = {label: _INT for label in _labels(signature)}

    specialized = intrinsic_defs.specialize(uri, bindings)

    self.assertNotEmpty(_labels(signature))
    self.assertEmpty(_labels(specialized))


class SpecializeTest(absltest.TestCase):

  def test_specialize_federated_map(self):
    member = ct.StructWithPythonType([('a', np.float32)],
                                     collections.OrderedDict)

    specialized = intrinsic_defs.specialize('federated_map', {
        'T': member,
        'U': _INT
    })

    self.assertEqual(str(specialized),
                     '(<(<a=float32> -> int32),{<a=float32>}@CLIENTS> -> '
                     '{int32}@CLIENTS)')
    self.assertIs(specialized.parameter[1].member, member)

  def test_specialize_keeps_all_equal_and_placement(self):

    specialized = intrinsic_defs.specialize('federated_broadcast', {'T': _INT})

    self.assertEqual(specialized.result,
                     ct.FederatedType(_INT, placements.CLIENTS, True))

  def test_specialize_missing_binding_raises(self):

    with self.assertRaises(KeyError) as raised:
      intrinsic_defs.specialize('federated_map', {'T': _INT})

    self.assertIn('No binding for abstract type U', str(raised.exception))

  def test_specialize_unknown_uri_raises(self):

    with self.assertRaises(KeyError) as raised:
      intrinsic_defs.specialize('federated_nothing', {})

    self.assertIn('federated_nothing', str(raised.exception))

  def test_specialize_to_invalid_type_raises(self):
    federated = ct.FederatedType(_INT, placements.SERVER)

    with self.assertRaises(type_errors.InvalidTypeError):
      intrinsic_defs.specialize('federated_sum', {'T': federated})


if __name__ == '__main__':
  absltest.main()
