import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

import tffx
from tffx.analytics import iblt_sketch
from tffx.computations import serialization
from tffx.proto import computation_pb2
from tffx.remote import graph_allowlist

_ELEMENT = collections.OrderedDict(
    key=tffx.TensorType(np.str_, [None]),
    value=tffx.TensorType(np.int64, [None, 1]))
_DATASET_TYPE = tffx.SequenceType(_ELEMENT)


def _client_dataset(words):
  return tf.data.Dataset.from_tensor_slices(collections.OrderedDict(
      key=tf.constant(words, tf.string),
      value=tf.ones([len(words), 1], tf.int64))).batch(4)


def _as_counts(result):
  return {key: int(value[0]) for key, value in zip(result['key'],
                                                   result['value'])}


# Crafted clients: a few heavy words shared by several clients, a long tail
# of words seen once, an empty string, a UTF-8 word and a word with a zero byte.
_CLIENTS = [
    ['apple'] * 5 + ['pear'] * 2 + ['tail%d' % i for i in range(6)],
    ['apple'] * 3 + ['pear', 'plum', '', 'héllo', 'nul\x00'],
    ['plum'] * 4 + ['apple', 'tail%d' % 9, 'héllo'],
    [],
]


def _expected_counts(clients, string_max_bytes=None):
  counts = collections.Counter()
  for words in clients:
    for word in words:
      data = word.encode('utf-8')
      counts[data[:string_max_bytes] if string_max_bytes else data] += 1
  return dict(counts)


class IbltFactoryTest(parameterized.TestCase):

  def test_next_decodes_every_string_with_exact_counts_from_several_clients(
      self):
    process = tffx.analytics.IbltFactory(
        capacity=30, string_max_bytes=10, repetitions=3).create(_DATASET_TYPE)
    datasets = [_client_dataset(words) for words in _CLIENTS]

    output = process.next(process.initialize(), datasets)

    self.assertEqual(_as_counts(output.result), _expected_counts(_CLIENTS))
    self.assertEqual(output.measurements['num_not_decoded'], 0)

  def test_heavy_hitters_above_threshold_have_exact_counts_with_a_long_tail(
      self):
    rng = np.random.default_rng(7)
    heavy = {'w%d' % i: int(c) for i, c in enumerate(rng.integers(5, 40, 8))}
    clients = [[] for _ in range(6)]
    for word, count in heavy.items():
      for _ in range(count):
        clients[int(rng.integers(6))].append(word)
    for i in range(60):
      clients[i % 6].append('rare%d' % i)
    process = tffx.analytics.IbltFactory(
        capacity=100, string_max_bytes=8, repetitions=3,
        seed=3).create(_DATASET_TYPE)

    output = process.next(process.initialize(),
                          [_client_dataset(words) for words in clients])

    counts = _as_counts(output.result)
    found_heavy = {k.decode(): c for k, c in counts.items() if c >= 5}
    self.assertEqual(found_heavy, heavy)
    self.assertEqual(counts, _expected_counts(clients))

  def test_vector_values_are_summed_per_string(self):
    element = collections.OrderedDict(
        key=tffx.TensorType(np.str_, [None]),
        value=tffx.TensorType(np.int64, [None, 2]))
    process = tffx.analytics.IbltFactory(
        capacity=5, string_max_bytes=4, repetitions=4).create(
            tffx.SequenceType(element))
    client = lambda keys, values: tf.data.Dataset.from_tensor_slices(
        collections.OrderedDict(key=keys, value=tf.constant(values, tf.int64))
    ).batch(2)

    output = process.next(process.initialize(), [
        client(['a', 'b'], [[1, 10], [2, 20]]),
        client(['a'], [[3, 30]]),
    ])

    decoded = {k: list(v) for k, v in zip(output.result['key'],
                                          output.result['value'])}
    self.assertEqual(decoded, {b'a': [4, 40], b'b': [2, 20]})

  @parameterized.named_parameters(
      ('utf8', iblt_sketch.CharacterEncoding.UTF8, [b'h', b'ab']),
      ('unknown', iblt_sketch.CharacterEncoding.UNKNOWN, [b'h\xc3', b'ab']),
  )
  def test_long_strings_are_truncated_by_encoding(self, encoding, expected):
    process = tffx.analytics.IbltFactory(
        capacity=5, string_max_bytes=2, repetitions=3,
        encoding=encoding).create(_DATASET_TYPE)

    output = process.next(process.initialize(),
                          [_client_dataset(['héllo', 'abcdef'])])

    self.assertCountEqual(list(output.result['key']), expected)

  def test_too_many_distinct_strings_are_counted_as_not_decoded(self):
    process = tffx.analytics.IbltFactory(
        capacity=1, string_max_bytes=4, repetitions=3).create(_DATASET_TYPE)
    words = ['w%d' % i for i in range(40)]

    output = process.next(process.initialize(), [_client_dataset(words)])

    decoded = sum(_as_counts(output.result).values())
    self.assertGreater(output.measurements['num_not_decoded'], 0)
    self.assertEqual(decoded + output.measurements['num_not_decoded'], 40)

  def test_secure_sum_factories_give_the_same_counts(self):
    secure = tffx.aggregators.SecureSumFactory(2**32 - 1)
    process = tffx.analytics.IbltFactory(
        capacity=30, string_max_bytes=10, repetitions=3,
        sketch_agg_factory=secure,
        value_tensor_agg_factory=tffx.aggregators.SecureSumFactory(
            2**20)).create(_DATASET_TYPE)

    output = process.next(process.initialize(),
                          [_client_dataset(words) for words in _CLIENTS])

    self.assertEqual(_as_counts(output.result), _expected_counts(_CLIENTS))

  @parameterized.named_parameters(
      ('capacity', dict(capacity=0, string_max_bytes=3, repetitions=3)),
      ('string_max_bytes', dict(capacity=3, string_max_bytes=0,
                                repetitions=3)),
      ('repetitions', dict(capacity=3, string_max_bytes=3, repetitions=2)),
  )
  def test_init_raises_value_error_out_of_range(self, kwargs):
    with self.assertRaises(ValueError):
      tffx.analytics.IbltFactory(**kwargs)

  def test_init_raises_factory_type_error_for_a_weighted_factory(self):
    with self.assertRaises(tffx.aggregators.errors.FactoryTypeError):
      tffx.analytics.IbltFactory(
          capacity=3, string_max_bytes=3, repetitions=3,
          sketch_agg_factory=tffx.aggregators.MeanFactory())

  @parameterized.named_parameters(
      ('tensor', tffx.TensorType(np.int64, [3])),
      ('wrong_names', tffx.SequenceType(collections.OrderedDict(
          word=tffx.TensorType(np.str_, []),
          value=tffx.TensorType(np.int64, [1])))),
      ('float_values', tffx.SequenceType(collections.OrderedDict(
          key=tffx.TensorType(np.str_, [None]),
          value=tffx.TensorType(np.float32, [None, 1])))),
      ('unbatched', tffx.SequenceType(collections.OrderedDict(
          key=tffx.TensorType(np.str_, []),
          value=tffx.TensorType(np.int64, [1])))),
  )
  def test_create_raises_unsupported_value_type_error(self, value_type):
    agg_factory = tffx.analytics.IbltFactory(
        capacity=3, string_max_bytes=3, repetitions=3)

    with self.assertRaises(
        tffx.aggregators.errors.UnsupportedValueTypeError):
      agg_factory.create(value_type)

  def test_next_passes_the_remote_worker_op_allowlist(self):
    process = tffx.analytics.IbltFactory(
        capacity=3, string_max_bytes=3, repetitions=3).create(_DATASET_TYPE)
    proto = computation_pb2.Computation.FromString(
        serialization.serialize_computation(process.next))

    graph_allowlist.GraphAllowlist().check_message(proto)  # Does not raise.

  @parameterized.named_parameters(
      ('ascii', ['abcdef', 'ab'], 4, [b'abcd', b'ab']),
      ('two_byte_char_at_cut', ['aé', 'aéb'], 2, [b'a', b'a']),
      ('char_fits', ['aéb'], 3, [b'a\xc3\xa9']),
      ('three_byte_char', ['€€'], 5, ['€'.encode()]),
  )
  def test_utf8_truncate_cuts_before_a_split_character(self, strings,
                                                       max_bytes, expected):
    cut = iblt_sketch.truncate(tf.constant(strings), max_bytes,
                               iblt_sketch.CharacterEncoding.UTF8)

    self.assertEqual(list(cut.numpy()), expected)

  def test_decode_of_an_empty_sketch_is_empty(self):
    sketch, table = iblt_sketch.encode(
        tf.zeros([0], tf.string), tf.zeros([0, 1], tf.int64), capacity=4,
        string_max_bytes=4, repetitions=3, seed=0)

    keys, counts, values, not_decoded = iblt_sketch.decode(
        sketch, table, string_max_bytes=4, repetitions=3, seed=0)

    self.assertEqual(keys.shape[0], 0)
    self.assertEqual(counts.shape[0], 0)
    self.assertEqual(values.shape[0], 0)
    self.assertEqual(not_decoded, 0)


if __name__ == '__main__':
  absltest.main()
