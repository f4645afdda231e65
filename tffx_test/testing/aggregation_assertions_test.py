"""Tests for tffx.test's aggregation assertions."""

from absl.testing import absltest
import numpy as np

import tffx as tff

_CLIENT_INTS = tff.type_at_clients(np.int32)


@tff.federated_computation(_CLIENT_INTS)
def _secure_sum(x):
  return tff.federated_secure_sum_bitwidth(x, 8)


@tff.federated_computation(_CLIENT_INTS)
def _plain_sum(x):
  return tff.federated_sum(x)


@tff.federated_computation(_CLIENT_INTS)
def _no_aggregation(x):
  return x


@tff.federated_computation(_CLIENT_INTS)
def _nested_secure_sum(x):
  return _secure_sum(x)


class AggregationAssertionsTest(absltest.TestCase):

  def test_secure_sum_is_a_secure_aggregation(self):
    tff.test.assert_contains_secure_aggregation(_secure_sum)
    tff.test.assert_not_contains_unsecure_aggregation(_secure_sum)
    with self.assertRaises(AssertionError):
      tff.test.assert_not_contains_secure_aggregation(_secure_sum)
    with self.assertRaises(AssertionError):
      tff.test.assert_contains_unsecure_aggregation(_secure_sum)

  def test_sum_is_an_unsecure_aggregation(self):
    tff.test.assert_contains_unsecure_aggregation(_plain_sum)
    tff.test.assert_not_contains_secure_aggregation(_plain_sum)
    with self.assertRaises(AssertionError):
      tff.test.assert_contains_secure_aggregation(_plain_sum)
    with self.assertRaises(AssertionError):
      tff.test.assert_not_contains_unsecure_aggregation(_plain_sum)

  def test_computation_without_aggregation(self):
    tff.test.assert_not_contains_secure_aggregation(_no_aggregation)
    tff.test.assert_not_contains_unsecure_aggregation(_no_aggregation)
    with self.assertRaises(AssertionError):
      tff.test.assert_contains_secure_aggregation(_no_aggregation)

  def test_aggregation_in_a_called_computation_is_found(self):
    tff.test.assert_contains_secure_aggregation(_nested_secure_sum)

  def test_non_computation_raises_type_error(self):
    with self.assertRaises(TypeError):
      tff.test.assert_contains_secure_aggregation(lambda x: x)


if __name__ == '__main__':
  absltest.main()
