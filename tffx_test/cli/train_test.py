"""Tests of the `tffx-train` binary, run as real processes.

Each test starts `python -m tffx.cli.train` (the code behind the console
script and the Bazel binary): bad flags, a run killed with SIGKILL and
resumed, and a run on remote workers. In-process tests of the program are in
train_program_test.py.
"""

import csv
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

from absl.testing import absltest
from absl.testing import parameterized
import h5py
import numpy as np

import tffx
from tffx.program import file_program_state_manager
from tffx_test.cli import hdf5_files
from tffx_test.remote import worker_processes

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(tffx.__file__)))
# A process imports TensorFlow and traces the learning process first; on a
# loaded two-core machine that alone can take half a minute.
_TIMEOUT_SECONDS = 300
# Small and fast settings shared by the runs below.
_SMALL_RUN = ['--dataset=synthetic_iid', '--clients_per_round=3',
              '--batch_size=64', '--rounds_per_checkpoint=2']
# TensorFlow's C++ runtime logs a few lines to stderr when it is imported,
# before any tffx code runs, and TF 2.21 has no setting that silences them:
#   WARNING: All log messages before absl::InitializeLog() is called ...
#   I0000 00:00:17952... 9123 port.cc:153] oneDNN custom operations are on...
#   To enable the following instructions: AVX2 ... rebuild TensorFlow ...
_TENSORFLOW_LOG_LINE = re.compile(
    r'^(WARNING: All log messages before absl::InitializeLog\(\)'
    r'|[IWEF]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] '
    r'|To enable the following instructions: )')


def _train_command(*flags):
  return [sys.executable, '-m', 'tffx.cli.train', *flags]


def _environment():
  env = dict(os.environ)
  env['PYTHONPATH'] = os.pathsep.join(
      p for p in (_REPO_ROOT, env.get('PYTHONPATH')) if p)
  env.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
  return env


def _run_train(*flags) -> subprocess.CompletedProcess:
  return subprocess.run(_train_command(*flags), env=_environment(),
                        capture_output=True, text=True,
                        timeout=_TIMEOUT_SECONDS)


def _own_stderr_lines(stderr: str):
  """The lines of stderr that tffx-train wrote (not TensorFlow's start-up)."""
  return [l for l in stderr.splitlines()
          if l.strip() and not _TENSORFLOW_LOG_LINE.match(l)]


def _final_checkpoint(root_dir: str, round_num: int):
  """{name: array} of the checkpoint of `round_num` in a run's root_dir."""
  path = os.path.join(root_dir, 'checkpoints',
                      f'program_state_{round_num}.npz')
  with np.load(path, allow_pickle=False) as archive:
    return {name: archive[name] for name in archive.files}


def _csv_rows(root_dir: str):
  with open(os.path.join(root_dir, 'metrics.csv'), newline='') as f:
    return list(csv.DictReader(f))


def _read_until_round(process: subprocess.Popen, round_num: int) -> str:
  """Reads the progress lines of `process` until round `round_num` is done.

  A round's line is printed after its checkpoint (if any) is saved. Waits on
  the pipe with `select`, so the test never sleeps, and fails if the process
  exits or the deadline passes first.
  """
  deadline = time.monotonic() + _TIMEOUT_SECONDS
  seen = []
  while True:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
      raise AssertionError(f'No round {round_num} within {_TIMEOUT_SECONDS} s;'
                           f' output so far: {seen}')
    ready, _, _ = select.select([process.stdout], [], [], remaining)
    if not ready:
      continue
    line = process.stdout.readline()
    if not line:
      raise AssertionError(f'tffx-train exited with {process.wait()} before '
                           f'round {round_num}; output: {seen}')
    seen.append(line.rstrip('\n'))
    match = re.match(r'round +(\d+)/', line)
    if match and int(match.group(1)) >= round_num:
      return line


class BadFlagsTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('unknown_algorithm', ['--algorithm=foo'],
       'tffx-train: error: flag --algorithm=foo: value should be one of '
       '<fedavg|fedavg_unweighted|fedprox|fedsgd>'),
      ('not_an_integer', ['--clients_per_round=abc'],
       'tffx-train: error: flag --clients_per_round=abc: invalid literal for '
       "int() with base 10: 'abc'"),
      ('unknown_flag', ['--no_such_flag=1'],
       "tffx-train: error: Unknown command line flag 'no_such_flag'"),
      ('out_of_range', ['--rounds=0'],
       'tffx-train: error: --rounds=0: expected a positive integer'),
      ('remote_without_workers', ['--executor=remote'],
       'tffx-train: error: --executor=remote: expected '
       '--workers=host:port,... (the addresses of running tffx-worker '
       'processes)'),
  )
  def test_bad_flag_prints_one_error_line_and_exits_2(self, flags, line):
    root_dir = self.create_tempdir().full_path

    result = _run_train(*flags, f'--root_dir={root_dir}')

    self.assertEqual(result.returncode, 2, result.stderr)
    self.assertEqual(_own_stderr_lines(result.stderr), [line])
    self.assertNotIn('Traceback', result.stderr)
    self.assertEqual(result.stdout, '')

  def test_missing_dataset_file_prints_one_error_line(self):
    root_dir = self.create_tempdir().full_path
    path = os.path.join(root_dir, 'nope.h5')

    result = _run_train(f'--dataset=hdf5:{path}', f'--root_dir={root_dir}')

    self.assertEqual(result.returncode, 2, result.stderr)
    self.assertEqual(_own_stderr_lines(result.stderr),
                     [f'tffx-train: error: --dataset=hdf5:{path}: file not '
                      f'found'])
    self.assertEqual(os.listdir(root_dir), [])


class BadInputTest(absltest.TestCase):
  """Every bad input is one `tffx-train: error:` line and status 2.

  The runs start at once (each imports TensorFlow first), and their stderr
  is compared whole: TensorFlow's start-up lines must not show either.
  """

  def test_bad_inputs_print_one_error_line_and_exit_2(self):
    tmp = self.create_tempdir().full_path

    def hdf5(name, **kwargs):
      return hdf5_files.write_emnist_like(os.path.join(tmp, name), **kwargs)

    negative = hdf5('negative.h5', labels=[[0, 1, -1, 2], [0, 1], [2, 0, 1]])
    beyond = hdf5('beyond.h5')
    empty = hdf5('empty.h5', examples=(0, 0, 0))
    metrics_dir = os.path.join(tmp, 'metrics_dir_run')
    os.makedirs(os.path.join(metrics_dir, 'metrics.csv'))
    cases = {
        'worker_not_host_port': (
            ['--executor=remote', '--workers=notaport'],
            "tffx-train: error: --workers=notaport: expected host:port for "
            "each worker (a port in 1-65535), found 'notaport'"),
        'duplicate_workers': (
            ['--executor=remote', '--workers=127.0.0.1:1,127.0.0.1:1'],
            'tffx-train: error: --workers=127.0.0.1:1,127.0.0.1:1: expected '
            'each worker once, found 127.0.0.1:1 2 times'),
        'negative_label': (
            [f'--dataset=hdf5:{negative}'],
            f'tffx-train: error: --dataset=hdf5:{negative}: expected labels '
            f'0 or more, found -1'),
        'label_beyond_num_classes': (
            [f'--dataset=hdf5:{beyond}', '--num_classes=2'],
            f'tffx-train: error: --dataset=hdf5:{beyond}: expected labels '
            f'below --num_classes=2, found 2. Tip: pass --num_classes=3, or '
            f'0 to read it from the labels.'),
        'no_examples': (
            [f'--dataset=hdf5:{empty}'],
            f'tffx-train: error: --dataset=hdf5:{empty}: expected examples, '
            f'found 3 clients with none'),
        'metrics_csv_is_a_directory': (
            [f'--root_dir={metrics_dir}'],
            f'tffx-train: error: --root_dir={metrics_dir}: expected '
            f'metrics.csv to be a file, found a directory. Tip: remove it, '
            f'or pass another --root_dir'),
    }
    env = _environment()
    env.pop('TF_CPP_MIN_LOG_LEVEL', None)
    processes = {}
    for name, (flags, _) in cases.items():
      if not any(f.startswith('--root_dir') for f in flags):
        flags = flags + [f'--root_dir={os.path.join(tmp, name)}']
      processes[name] = subprocess.Popen(
          _train_command(*flags, '--clients_per_round=2'), env=env,
          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
      self.addCleanup(processes[name].kill)

    for name, (_, line) in cases.items():
      with self.subTest(name):
        stdout, stderr = processes[name].communicate(timeout=_TIMEOUT_SECONDS)
        self.assertEqual(processes[name].returncode, 2, stderr)
        self.assertEqual(stderr.splitlines(), [line])
        self.assertEqual(stdout, '')

  def test_nonfinite_loss_stops_without_saving_the_round(self):
    tmp = self.create_tempdir().full_path
    path = hdf5_files.write_emnist_like(os.path.join(tmp, 'nan.h5'))
    with h5py.File(path, 'r+') as f:
      f['examples/f0000_00/pixels'][0, 0, 0] = np.nan
    root_dir = os.path.join(tmp, 'run')

    result = _run_train(f'--dataset=hdf5:{path}', '--clients_per_round=3',
                        '--rounds=2', '--rounds_per_checkpoint=1',
                        '--eval_every=0', f'--root_dir={root_dir}')

    self.assertEqual(result.returncode, 2, result.stderr)
    self.assertEqual(
        _own_stderr_lines(result.stderr),
        ['tffx-train: error: round 1: the training loss is nan; stopped '
         'without saving this round, so the last checkpoint holds the last '
         'good state. Tip: check the data for NaN or infinite values, or '
         'lower --client_lr; --allow_nonfinite_loss trains on'])
    self.assertFalse(os.path.exists(os.path.join(
        root_dir, 'checkpoints', 'program_state_1.npz')))

  def test_clients_without_examples_are_skipped_with_one_warning(self):
    tmp = self.create_tempdir().full_path
    path = hdf5_files.write_emnist_like(os.path.join(tmp, 'some_empty.h5'),
                                        examples=(4, 0, 3))

    result = _run_train(f'--dataset=hdf5:{path}', '--clients_per_round=2',
                        '--rounds=1', '--eval_every=0',
                        f'--root_dir={os.path.join(tmp, "run")}')

    self.assertEqual(result.returncode, 0, result.stderr)
    self.assertEqual(
        _own_stderr_lines(result.stderr),
        [f'tffx-train: warning: 1 of 3 clients in {path} have no examples; '
         f'they are skipped'])
    self.assertIn('(2 clients)', result.stdout)


class KillAndResumeTest(absltest.TestCase):

  def test_run_killed_after_a_checkpoint_resumes_to_same_weights(self):
    # The reference executor's rounds take a good fraction of a second, so
    # the run is still in its first rounds when the kill lands.
    rounds = 12
    flags = [*_SMALL_RUN, f'--rounds={rounds}', '--eval_every=0',
             '--executor=reference']
    straight_dir = self.create_tempdir().full_path
    killed_dir = self.create_tempdir().full_path
    # The uninterrupted run and the one to kill run side by side.
    straight = subprocess.Popen(
        _train_command(*flags, f'--root_dir={straight_dir}'),
        env=_environment(), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    self.addCleanup(straight.kill)
    victim = subprocess.Popen(
        _train_command(*flags, f'--root_dir={killed_dir}'),
        env=_environment(), stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True)
    self.addCleanup(victim.kill)
    _read_until_round(victim, 4)
    victim.kill()  # SIGKILL: no handler, no flush, no cleanup.
    victim.wait()
    victim.stdout.close()
    checkpoints = file_program_state_manager.FileProgramStateManager(
        os.path.join(killed_dir, 'checkpoints'))
    killed_at = max(checkpoints.get_versions())

    resumed = _run_train(*flags, f'--root_dir={killed_dir}')

    self.assertEqual(victim.returncode, -9)
    self.assertBetween(killed_at, 4, rounds - 1)
    self.assertEqual(resumed.returncode, 0, resumed.stderr)
    self.assertIn(f'(resuming from round {killed_at})', resumed.stdout)
    self.assertEqual(straight.wait(timeout=_TIMEOUT_SECONDS), 0)
    expected = _final_checkpoint(straight_dir, rounds)
    actual = _final_checkpoint(killed_dir, rounds)
    self.assertEqual(sorted(actual), sorted(expected))
    for name in expected:
      # Bitwise: same seed, same flags, same weights and optimizer states.
      np.testing.assert_array_equal(actual[name], expected[name], err_msg=name)
    straight_rows, resumed_rows = _csv_rows(straight_dir), _csv_rows(killed_dir)
    self.assertEqual([int(r['key']) for r in resumed_rows],
                     list(range(1, rounds + 1)))
    for a, b in zip(straight_rows, resumed_rows):
      del a['round_seconds'], b['round_seconds']
      self.assertEqual(a, b)


class RemoteExecutorTest(absltest.TestCase):

  def test_training_on_two_workers_gives_native_weights_bit_for_bit(self):
    workers = worker_processes.start_workers(2)
    self.addCleanup(worker_processes.stop_workers, workers)
    flags = [*_SMALL_RUN, '--rounds=2', '--eval_every=1']
    remote_dir = self.create_tempdir().full_path
    local_dir = self.create_tempdir().full_path
    local = subprocess.Popen(
        _train_command(*flags, f'--root_dir={local_dir}', '--executor=native',
                       '--novectorize_clients'),
        env=_environment(), stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    self.addCleanup(local.kill)

    result = _run_train(*flags, f'--root_dir={remote_dir}',
                        '--executor=remote',
                        f'--workers={workers[0].target},{workers[1].target}')

    self.assertEqual(result.returncode, 0, result.stderr)
    self.assertIn('remote executor', result.stdout)
    self.assertEqual(local.wait(timeout=_TIMEOUT_SECONDS), 0)
    expected = _final_checkpoint(local_dir, 2)
    actual = _final_checkpoint(remote_dir, 2)
    self.assertEqual(sorted(actual), sorted(expected))
    for name in expected:
      # Sums are exact, so how workers split the clients does not show.
      self.assertEqual(actual[name].dtype, expected[name].dtype)
      self.assertEqual(actual[name].tobytes(), expected[name].tobytes(), name)
    remote_eval = [r['eval/accuracy'] for r in _csv_rows(remote_dir)]
    local_eval = [r['eval/accuracy'] for r in _csv_rows(local_dir)]
    self.assertEqual(remote_eval, local_eval)

  def test_worker_requiring_a_token_trains_with_it_and_refuses_others(self):
    token_file = self.create_tempfile('token', content='s3cret\n').full_path
    wrong_file = self.create_tempfile('wrong', content='guess\n').full_path
    workers = worker_processes.start_workers(
        1, flags=[f'--auth_token_file={token_file}'], auth_token='s3cret')
    self.addCleanup(worker_processes.stop_workers, workers)
    run = [*_SMALL_RUN, '--rounds=1', '--executor=remote',
           f'--workers={workers[0].target}']

    refused = _run_train(*run, f'--auth_token_file={wrong_file}',
                         f'--root_dir={self.create_tempdir().full_path}')
    accepted = _run_train(*run, f'--auth_token_file={token_file}',
                          f'--root_dir={self.create_tempdir().full_path}')

    self.assertEqual(refused.returncode, 1, refused.stderr)
    lines = _own_stderr_lines(refused.stderr)
    self.assertLen(lines, 1)
    self.assertStartsWith(
        lines[0], f'tffx-train: error: --workers={workers[0].target}: ')
    self.assertIn('UNAUTHENTICATED', lines[0])
    self.assertEqual(accepted.returncode, 0, accepted.stderr)
    self.assertIn('remote executor', accepted.stdout)

  def test_unreachable_worker_prints_one_error_line_and_exits_1(self):
    target = f'127.0.0.1:{worker_processes.free_port()}'
    root_dir = self.create_tempdir().full_path

    result = _run_train(*_SMALL_RUN, '--rounds=1', '--executor=remote',
                        f'--workers={target}', f'--root_dir={root_dir}')

    self.assertEqual(result.returncode, 1, result.stderr)
    lines = _own_stderr_lines(result.stderr)
    self.assertLen(lines, 1)
    self.assertStartsWith(lines[0], f'tffx-train: error: --workers={target}: ')
    self.assertNotIn('Traceback', result.stderr)


class RemoteFailuresTest(absltest.TestCase):
  """tffx-train on remote workers, disturbed, against one native run."""

  _ROUNDS = 6
  _FLAGS = [*_SMALL_RUN, f'--rounds={_ROUNDS}', '--eval_every=0']

  @classmethod
  def setUpClass(cls):
    super().setUpClass()
    cls._native_dir = tempfile.mkdtemp()
    native = subprocess.run(
        _train_command(*cls._FLAGS, f'--root_dir={cls._native_dir}',
                       '--executor=native', '--novectorize_clients'),
        env=_environment(), capture_output=True, text=True,
        timeout=_TIMEOUT_SECONDS)
    if native.returncode:
      raise AssertionError(f'The native run failed: {native.stderr}')

  @classmethod
  def tearDownClass(cls):
    shutil.rmtree(cls._native_dir, ignore_errors=True)
    super().tearDownClass()

  def _start_remote_run(self, workers, root_dir) -> subprocess.Popen:
    targets = ','.join(w.target for w in workers)
    process = subprocess.Popen(
        _train_command(*self._FLAGS, f'--root_dir={root_dir}',
                       '--executor=remote', f'--workers={targets}'),
        env=_environment(), stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True)
    self.addCleanup(process.stdout.close)
    self.addCleanup(process.kill)
    return process

  def _assert_native_weights(self, root_dir):
    expected = _final_checkpoint(self._native_dir, self._ROUNDS)
    actual = _final_checkpoint(root_dir, self._ROUNDS)
    self.assertEqual(sorted(actual), sorted(expected))
    for name in expected:
      self.assertEqual(actual[name].dtype, expected[name].dtype)
      self.assertEqual(actual[name].tobytes(), expected[name].tobytes(), name)

  def test_remote_run_killed_and_resumed_gives_native_weights(self):
    workers = worker_processes.start_workers(2)
    self.addCleanup(worker_processes.stop_workers, workers)
    root_dir = self.create_tempdir().full_path
    victim = self._start_remote_run(workers, root_dir)
    _read_until_round(victim, 2)
    victim.kill()  # SIGKILL: the workers stay, with the old session.
    victim.wait()
    checkpoints = file_program_state_manager.FileProgramStateManager(
        os.path.join(root_dir, 'checkpoints'))
    killed_at = max(checkpoints.get_versions())

    resumed = _run_train(*self._FLAGS, f'--root_dir={root_dir}',
                         '--executor=remote',
                         f'--workers={workers[0].target},{workers[1].target}')

    self.assertEqual(victim.returncode, -9)
    self.assertBetween(killed_at, 2, self._ROUNDS - 1)
    self.assertEqual(resumed.returncode, 0, resumed.stderr)
    self.assertIn(f'(resuming from round {killed_at})', resumed.stdout)
    self._assert_native_weights(root_dir)

  def test_remote_run_with_a_worker_killed_mid_run_gives_native_weights(self):
    workers = worker_processes.start_workers(2)
    self.addCleanup(worker_processes.stop_workers, workers)
    root_dir = self.create_tempdir().full_path
    run = self._start_remote_run(workers, root_dir)
    _read_until_round(run, 2)

    workers[0].kill()  # SIGKILL; returns once the worker is gone.
    # The run had rounds left to do without it (no final checkpoint yet).
    final_saved = os.path.exists(os.path.join(
        root_dir, 'checkpoints', f'program_state_{self._ROUNDS}.npz'))
    output, _ = run.communicate(timeout=_TIMEOUT_SECONDS)

    self.assertEqual(run.returncode, 0, output)
    self.assertFalse(final_saved)
    self.assertEqual(workers[0].process.returncode, -9)
    self.assertRegex(output, rf'round +{self._ROUNDS}/{self._ROUNDS}')
    self._assert_native_weights(root_dir)


if __name__ == '__main__':
  absltest.main()
