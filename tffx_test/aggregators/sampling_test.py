import collections

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from tffx.aggregators import sampling
from tffx.backends import reference
from tffx.computations import federated_computation
from tffx.types import computation_types as ct

_MEMBER = collections.OrderedDict(a=np.int32, b=ct.TensorType(np.float32, [2]))


def _client_values(count):
  return [
      collections.OrderedDict(a=i, b=np.array([i, -i], np.float32))
      for i in range(count)
  ]


def _sampler(max_num_samples):
  return federated_computation.federated_computation(
      lambda v: sampling.federated_sample(v, max_num_samples),
      ct.type_at_clients(_MEMBER))


class FederatedSampleTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.enter_context(reference.create_reference_execution_context())

  def test_type_adds_a_sample_dimension_at_server(self):

    sampler = _sampler(3)

    self.assertEqual(str(sampler.type_signature.result),
                     '<a=int32[?],b=float32[?,2]>@SERVER')

  def test_samples_distinct_whole_client_values(self):

    sample = _sampler(3)(_client_values(6))

    self.assertLen(sample['a'], 3)
    self.assertLen(set(sample['a'].tolist()), 3)
    for a, b in zip(sample['a'], sample['b']):
      np.testing.assert_array_equal(b, [a, -a])

  def test_fewer_clients_than_samples_keeps_all(self):

    sample = _sampler(5)(_client_values(2))

    self.assertCountEqual(sample['a'].tolist(), [0, 1])

  def test_keep_largest_selects_the_largest_keys(self):
    keys = tf.constant([5, 1, 9, 3], tf.int64)
    rows = tf.constant([[50], [10], [90], [30]])

    kept_keys, [kept_rows] = sampling._keep_largest(keys, [rows], 2)  # pylint: disable=protected-access

    self.assertCountEqual(kept_keys.numpy().tolist(), [9, 5])
    self.assertCountEqual(kept_rows.numpy().ravel().tolist(), [90, 50])

  def test_raises_for_non_positive_max_num_samples(self):

    with self.assertRaises(ValueError):
      _sampler(0)


if __name__ == '__main__':
  absltest.main()
