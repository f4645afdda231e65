import collections
import json

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.learning.models import model_weights
from tffx.learning.models import structure_codec


class StructureCodecTest(absltest.TestCase):

  def test_round_trip_through_json_keeps_containers_and_order(self):
    structure = collections.OrderedDict(
        z=[np.float32(1.0), (np.int64(2), None)],
        a={'b': np.float32(3.0), 'a': np.float32(4.0)},
        w=model_weights.ModelWeights((np.float32(5.0),), ()))

    description = json.loads(json.dumps(structure_codec.encode(structure)))
    flat = structure_codec.flatten(structure)
    packed = structure_codec.pack(
        description, flat, {'ModelWeights': model_weights.ModelWeights})

    self.assertEqual(flat, [1.0, 2, 4.0, 3.0, 5.0])
    self.assertIsInstance(packed, collections.OrderedDict)
    self.assertEqual(list(packed), ['z', 'a', 'w'])
    self.assertIsInstance(packed['z'], list)
    self.assertEqual(packed['z'][1], (2, None))
    self.assertEqual(packed['a'], {'a': 4.0, 'b': 3.0})
    self.assertIsInstance(packed['w'], model_weights.ModelWeights)
    self.assertEqual(packed['w'].trainable, (5.0,))

  def test_dicts_flatten_in_sorted_key_order_whatever_the_insertion(self):
    first = {'y': 1, 'x': 2}
    second = {'x': 2, 'y': 1}

    self.assertEqual(structure_codec.flatten(first),
                     structure_codec.flatten(second))
    self.assertEqual(structure_codec.encode(first),
                     structure_codec.encode(second))

  def test_unknown_namedtuple_is_rebuilt_with_its_name_and_fields(self):
    point = collections.namedtuple('Point', ['x', 'y'])(1, 2)

    packed = structure_codec.pack(structure_codec.encode(point), [3, 4])

    self.assertEqual(type(packed).__name__, 'Point')
    self.assertEqual((packed.x, packed.y), (3, 4))

  def test_specs_are_kept_in_the_description(self):
    spec = (tf.TensorSpec([None, 2], tf.float32, name='x'),
            {'y': tf.TensorSpec(None, tf.int64)})

    packed = structure_codec.pack(
        json.loads(json.dumps(structure_codec.encode(spec))), [])

    self.assertEqual(packed, spec)
    self.assertEqual(structure_codec.specs(packed), [spec[0], spec[1]['y']])
    self.assertEqual(structure_codec.flatten(spec), [])

  def test_pack_raises_value_error_for_wrong_number_of_leaves(self):
    description = structure_codec.encode((1, 2))

    with self.assertRaises(ValueError):
      structure_codec.pack(description, [1])
    with self.assertRaises(ValueError):
      structure_codec.pack(description, [1, 2, 3])


if __name__ == '__main__':
  absltest.main()
