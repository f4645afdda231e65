import threading

from absl.testing import absltest
import numpy as np

from tffx.executors import client_batches
from tffx.executors import client_scheduler
from tffx.executors import federated_value
from tffx.executors import lazy_client_values
from tffx.types import computation_types as ct

F32 = ct.TensorType(np.float32)
AT_CLIENTS = ct.type_at_clients(F32)
ClientBatch = client_batches.ClientBatch


class _Counted:
  """A node computation `fn` of its inputs' members that counts its calls."""

  def __init__(self, fn):
    self._fn = fn
    self._lock = threading.Lock()
    self.clients = []

  def __call__(self, batches, start, stop):
    with self._lock:
      self.clients.extend(range(start, stop))
    columns = [b.members() for b in batches]
    return ClientBatch.of_members(
        F32, [np.float32(self._fn(*row)) for row in zip(*columns)])


def _known(values):
  return federated_value.FederatedValue(AT_CLIENTS,
                                        [np.float32(v) for v in values])


def _collect(batches_by_chunk):
  return lambda start, batches: batches_by_chunk.append(
      [[float(m) for m in b.members()] for b in batches])


class LazyClientValuesTest(absltest.TestCase):

  def setUp(self):
    super().setUp()
    self.scheduler = client_scheduler.ClientScheduler(2, clients_per_chunk=2)
    self.addCleanup(self.scheduler.close)

  def test_stream_computes_shared_node_once_per_client(self):
    # x -> a -> (b, c) -> stream: `a` feeds two nodes of the same stream.
    x = _known([1, 2, 3, 4, 5])
    a_fn, b_fn, c_fn = (_Counted(lambda v: v + 1), _Counted(lambda v: v * 2),
                        _Counted(lambda v: -v))
    a = lazy_client_values.LazyClientValue(AT_CLIENTS, 5, [x], a_fn)
    a.uses = 2
    b = lazy_client_values.LazyClientValue(AT_CLIENTS, 5, [a], b_fn)
    c = lazy_client_values.LazyClientValue(AT_CLIENTS, 5, [a], c_fn)
    chunks = []

    lazy_client_values.stream(self.scheduler, [b, c], _collect(chunks))

    self.assertEqual(chunks, [[[4, 6], [-2, -3]], [[8, 10], [-4, -5]],
                              [[12], [-6]]])
    self.assertCountEqual(a_fn.clients, range(5))
    self.assertFalse(a.is_computed)  # Both its uses were in the stream.

  def test_node_used_by_a_later_stream_keeps_its_members(self):
    x = _known([1, 2, 3])
    a_fn = _Counted(lambda v: v * 10)
    a = lazy_client_values.LazyClientValue(AT_CLIENTS, 3, [x], a_fn)
    a.uses = 2
    first, second = [], []

    lazy_client_values.stream(self.scheduler, [a], _collect(first))
    lazy_client_values.stream(self.scheduler, [a], _collect(second))

    self.assertEqual(first, [[[10, 20]], [[30]]])
    self.assertEqual(second, [[[10, 20, 30]]])
    self.assertCountEqual(a_fn.clients, range(3))

  def test_stream_reduces_chunks_on_pool_and_folds_in_order(self):
    x = _known(range(7))
    a = lazy_client_values.LazyClientValue(AT_CLIENTS, 7, [x],
                                           _Counted(lambda v: v))
    folded = []

    lazy_client_values.stream(
        self.scheduler, [a], lambda start, total: folded.append((start, total)),
        reduce_chunk=lambda batches, start, stop: sum(batches[0].members()))

    self.assertEqual(folded, [(0, 1), (2, 5), (4, 9), (6, 6)])

  def test_materialize_computes_nodes_in_one_stream(self):
    x = _known([1, 2, 3])
    a_fn = _Counted(lambda v: v + 1)
    a = lazy_client_values.LazyClientValue(AT_CLIENTS, 3, [x], a_fn)
    b = lazy_client_values.LazyClientValue(AT_CLIENTS, 3, [a],
                                           _Counted(lambda v: v * 2))

    a_value, b_value, x_value = lazy_client_values.materialize(
        self.scheduler, [a, b, x])

    self.assertEqual(list(a_value.members), [2, 3, 4])
    self.assertEqual(list(b_value.members), [4, 6, 8])
    self.assertIs(x_value, x)
    self.assertCountEqual(a_fn.clients, range(3))
    self.assertTrue(b.is_computed)

  def test_materialize_zero_clients_gives_no_members(self):
    a = lazy_client_values.LazyClientValue(AT_CLIENTS, 0, [_known([])],
                                           _Counted(lambda v: v))

    (value,) = lazy_client_values.materialize(self.scheduler, [a])

    self.assertEqual(value.members, ())
    self.assertEqual(value.type_signature, AT_CLIENTS)


if __name__ == '__main__':
  absltest.main()
