import threading

from absl.testing import absltest
from absl.testing import parameterized

from tffx.executors import client_scheduler


def _scheduler(test, threads=2, **kwargs):
  scheduler = client_scheduler.ClientScheduler(threads, **kwargs)
  test.addCleanup(scheduler.close)
  return scheduler


class ClientSchedulerTest(parameterized.TestCase):

  def test_run_folds_every_chunk_in_client_order(self):
    scheduler = _scheduler(self, clients_per_chunk=3)
    folded = []

    scheduler.run(10, lambda start, stop: (start, stop),
                  lambda start, result: folded.append((start, result)))

    self.assertEqual(folded, [(0, (0, 3)), (3, (3, 6)), (6, (6, 9)),
                              (9, (9, 10))])

  def test_run_spreads_chunks_round_robin_over_client_devices(self):
    scheduler = _scheduler(self, client_devices=['a', 'b', 'c'],
                           server_device='s', clients_per_chunk=1)
    devices = []

    scheduler.run(5, lambda start, stop: scheduler.current_device(),
                  lambda start, device: devices.append(device))

    self.assertEqual(devices, ['a', 'b', 'c', 'a', 'b'])
    self.assertEqual(scheduler.current_device(), 's')

  def test_run_on_given_device_ignores_client_devices(self):
    scheduler = _scheduler(self, client_devices=['a', 'b'],
                           clients_per_chunk=1)
    devices = []

    scheduler.run(3, lambda start, stop: scheduler.current_device(),
                  lambda start, device: devices.append(device), device='s')

    self.assertEqual(devices, ['s'] * 3)

  def test_run_keeps_at_most_one_chunk_per_thread_unfolded(self):
    threads = 2
    scheduler = _scheduler(self, threads=threads, clients_per_chunk=1)
    lock = threading.Lock()
    started, folded, most_unfolded = [0], [0], [0]

    def work(start, stop):
      with lock:
        started[0] += 1
      return start

    def fold(start, result):
      with lock:
        most_unfolded[0] = max(most_unfolded[0], started[0] - folded[0])
        folded[0] += 1

    scheduler.run(200, work, fold)

    self.assertEqual(folded[0], 200)
    self.assertLessEqual(most_unfolded[0], threads + 1)

  def test_run_raises_error_of_first_failing_chunk_and_stays_usable(self):
    scheduler = _scheduler(self, clients_per_chunk=2)

    def work(start, stop):
      if start in (4, 8):
        raise ValueError(f'chunk {start}')
      return start

    with self.assertRaisesRegex(ValueError, 'chunk 4'):
      scheduler.run(10, work, lambda start, result: None)
    folded = []
    scheduler.run(4, work, lambda start, result: folded.append(result))

    self.assertEqual(folded, [0, 2])

  def test_run_inside_a_chunk_runs_inline(self):
    scheduler = _scheduler(self, threads=1, clients_per_chunk=1)
    inner = []

    def work(start, stop):
      scheduler.run(2, lambda a, b: a, lambda a, r: inner.append(r))
      return start

    scheduler.run(3, work, lambda start, result: None)

    self.assertEqual(inner, [0, 1] * 3)

  def test_run_with_zero_clients_does_nothing(self):
    scheduler = _scheduler(self)
    calls = []

    scheduler.run(0, lambda *a: calls.append(a), lambda *a: calls.append(a))

    self.assertEmpty(calls)

  @parameterized.named_parameters(
      ('four_per_thread', 10, 4, 8, 2),
      ('capped_by_count', 10000, 4, 40, 250),
      ('capped_by_bytes', 10000, 4 << 20, 5000, 2),
      ('unknown_size', 1000, None, 63, 16),
      ('fewer_clients_than_chunks', 3, 4, 3, 1),
  )
  def test_chunk_bounds_balance_and_cap_chunks(self, num_clients,
                                               bytes_per_client, count,
                                               largest):
    scheduler = _scheduler(self, threads=2)

    bounds = scheduler.chunk_bounds(num_clients, bytes_per_client)

    sizes = [b - a for a, b in zip(bounds, bounds[1:])]
    self.assertEqual((bounds[0], bounds[-1]), (0, num_clients))
    self.assertLen(sizes, count)
    self.assertEqual(max(sizes), largest)
    self.assertLessEqual(max(sizes) - min(sizes), 1)

  @parameterized.parameters((100, 4 << 20, [0, 50, 100]),
                            (5, None, [0, 2, 5]), (1, 4, [0, 1]),
                            (0, 4, [0]))
  def test_chunk_bounds_one_per_thread_ignore_caps(self, num_clients,
                                                   bytes_per_client,
                                                   expected):
    scheduler = _scheduler(self, threads=2)

    bounds = scheduler.chunk_bounds(num_clients, bytes_per_client,
                                    one_chunk_per_thread=True)

    self.assertEqual(bounds, expected)

  @parameterized.parameters((10, 400_000, [0, 10]), (41, 400_000, [0, 41]),
                            (42, 400_000, [0, 21, 42]), (5, 4, [0, 5]))
  def test_chunk_bounds_one_per_thread_give_threads_8_mib_or_more(
      self, num_clients, bytes_per_client, expected):
    scheduler = _scheduler(self, threads=2)

    bounds = scheduler.chunk_bounds(num_clients, bytes_per_client,
                                    one_chunk_per_thread=True)

    self.assertEqual(bounds, expected)

  @parameterized.named_parameters(
      # (devices, clients, bytes per client, clients per call, chunks)
      ('one_call_without_devices', (), 1000, 4, 1 << 16, 1),
      ('one_call_per_device', ('/cpu:0', '/cpu:1'), 1000, 4, 1 << 16, 2),
      ('calls_capped_by_clients', ('/cpu:0',), 1000, 4, 300, 4),
      ('calls_capped_by_size', (), 100, 1 << 20, 1 << 16, 13),
  )
  def test_chunk_bounds_per_call_one_chunk_per_device_within_caps(
      self, devices, num_clients, bytes_per_client, clients_per_call,
      chunks):
    scheduler = _scheduler(self, client_devices=devices)

    bounds = scheduler.chunk_bounds(num_clients, bytes_per_client,
                                    clients_per_call=clients_per_call)

    self.assertLen(bounds, chunks + 1)
    self.assertEqual((bounds[0], bounds[-1]), (0, num_clients))
    sizes = [b - a for a, b in zip(bounds, bounds[1:])]
    self.assertLessEqual(max(sizes) - min(sizes), 1)

  def test_chunk_bounds_of_no_clients_is_no_chunk(self):
    scheduler = _scheduler(self)

    self.assertEqual(scheduler.chunk_bounds(0, 4), [0])

  def test_fixed_chunk_size_wins(self):
    scheduler = _scheduler(self, clients_per_chunk=4)

    self.assertEqual(scheduler.chunk_bounds(10, 4), [0, 4, 8, 10])


if __name__ == '__main__':
  absltest.main()
