"""Float sums and means are exact and the same on every local strategy.

The expectations are computed with Python fractions and rounded once; the
remote strategy runs the same checks in remote/remote_executor_test.
"""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.executors import federated_value
from tffx.executors import reference_executor
from tffx.executors import thread_pool_executor
from tffx.types import computation_types as ct
from tffx.types import structure
from tffx_test.executors import test_utils

F32 = ct.TensorType(np.float32)

# (name, executor factory): the sequential strategy, and thread pools with
# one thread, client-sized chunks, uneven chunks and chunks of their choice.
_STRATEGIES = (
    ('reference', reference_executor.ReferenceExecutor),
    ('one_thread', lambda: thread_pool_executor.ThreadPoolExecutor(1)),
    ('chunks_of_1', lambda: thread_pool_executor.ThreadPoolExecutor(
        2, clients_per_chunk=1)),
    ('chunks_of_7', lambda: thread_pool_executor.ThreadPoolExecutor(
        2, clients_per_chunk=7)),
    ('chosen_chunks', lambda: thread_pool_executor.ThreadPoolExecutor(2)),
)


def _run(test, make_executor, uri, member_type, members, weights=None):
  executor = make_executor()
  test.addCleanup(executor.close)
  clients = ct.type_at_clients(member_type)
  value = federated_value.FederatedValue(clients, members)
  if weights is None:
    block = test_utils.intrinsic_lambda(uri, clients,
                                        ct.type_at_server(member_type))
    arg = value
  else:
    weight_clients = ct.type_at_clients(F32)
    parameter = ct.StructType([(None, clients), (None, weight_clients)])
    block = test_utils.intrinsic_lambda(uri, parameter,
                                        ct.type_at_server(member_type))
    arg = structure.Struct([
        (None, value),
        (None, federated_value.FederatedValue(weight_clients, weights))])
  (result,) = executor.run(block, arg, len(members)).members
  return result


class ExactnessTest(parameterized.TestCase):

  @parameterized.named_parameters(*_STRATEGIES)
  def test_mean_of_one_to_ten_thousand_is_exact(self, make_executor):
    members = list(np.arange(1, 10_001, dtype=np.float32))

    result = _run(self, make_executor, 'federated_mean', F32, members)

    self.assertEqual(result, np.float32(5000.5))
    self.assertEqual(result.dtype, np.float32)

  @parameterized.named_parameters(_STRATEGIES[0], _STRATEGIES[1],
                                  _STRATEGIES[4])
  def test_mean_of_one_to_a_million_is_exact(self, make_executor):
    members = list(np.arange(1, 1_000_001, dtype=np.float32))

    result = _run(self, make_executor, 'federated_mean', F32, members)

    self.assertEqual(result, np.float32(500000.5))

  @parameterized.named_parameters(*_STRATEGIES)
  def test_sum_of_spread_vectors_is_exact_sum_rounded_once(
      self, make_executor):
    vectors = test_utils.spread_vectors(num_clients=1000, size=8)
    member_type = ct.TensorType(np.float32, [8])

    result = _run(self, make_executor, 'federated_sum', member_type, vectors)

    self.assertEqual(result.tobytes(),
                     test_utils.exact_float32_sum(vectors).tobytes())

  @parameterized.named_parameters(*_STRATEGIES[1:])
  def test_weighted_mean_is_bit_identical_to_reference(self, make_executor):
    vectors = test_utils.spread_vectors(num_clients=300, size=4, seed=1)
    weights = list(np.random.default_rng(2).uniform(0, 100, 300).astype(
        np.float32))
    member_type = ct.TensorType(np.float32, [4])

    result = _run(self, make_executor, 'federated_weighted_mean',
                  member_type, vectors, weights)

    expected = _run(self, reference_executor.ReferenceExecutor,
                    'federated_weighted_mean', member_type, vectors, weights)
    self.assertEqual(result.tobytes(), expected.tobytes())


if __name__ == '__main__':
  absltest.main()
