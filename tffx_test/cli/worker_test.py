"""`tffx-worker` as a real process: flags, serving, stopping."""

import re
import signal
import socket
import subprocess

from absl.testing import absltest

from tffx.remote import transport
from tffx_test.remote import worker_processes

_EXIT_TIMEOUT_SECONDS = 120


class WorkerBinaryTest(absltest.TestCase):

  def test_worker_prints_its_address_serves_and_stops_on_sigterm(self):
    token_file = self.create_tempfile(content='s3cret').full_path
    process = subprocess.Popen(
        worker_processes.worker_command(0, [f'--auth_token_file={token_file}',
                                            '--executor=reference']),
        env=worker_processes.worker_environment(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    self.addCleanup(process.kill)

    line = process.stdout.readline()  # Printed once calls are accepted.
    match = re.match(r'tffx-worker serving on (127\.0\.0\.1:\d+) '
                     r'\(executor=reference, tls=off, auth=on\)', line)
    self.assertIsNotNone(match, f'First line of stdout: {line!r}')
    connection = transport.WorkerConnection(match.group(1),
                                            auth_token='s3cret')
    self.addCleanup(connection.close)
    health = connection.health(timeout=30)
    process.send_signal(signal.SIGTERM)
    returncode = process.wait(timeout=_EXIT_TIMEOUT_SECONDS)

    self.assertEqual(health.executor, 'reference')
    self.assertEqual(returncode, 0)

  def test_bad_configurations_exit_with_a_message(self):
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen()
    self.addCleanup(listener.close)
    busy_port = listener.getsockname()[1]
    cert = self.create_tempfile(content='not a certificate').full_path
    cases = {
        'ca_without_cert': ([f'--tls_ca={cert}'], 'needs --tls_cert'),
        'denied_extra_op': (['--extra_allowed_ops=PyFunc'],
                            'cannot be allowed'),
        'unknown_device': (['--client_devices=/device:TPU:9'],
                           "'/device:TPU:9'"),
        'missing_token_file': (['--auth_token_file=/nonexistent/token'],
                               'nonexistent'),
        'port_in_use': ([f'--port={busy_port}'], f'{busy_port}.*in use'),
    }
    # All at once: each process imports TensorFlow before it fails.
    processes = {
        name: subprocess.Popen(
            worker_processes.worker_command(0, flags),
            env=worker_processes.worker_environment(),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for name, (flags, _) in cases.items()
    }
    for process in processes.values():
      self.addCleanup(process.kill)

    for name, (_, message) in cases.items():
      with self.subTest(name):
        _, stderr = processes[name].communicate(
            timeout=_EXIT_TIMEOUT_SECONDS)
        self.assertNotEqual(processes[name].returncode, 0)
        self.assertRegex(stderr, message)

  def test_bad_flags_print_one_line_and_exit_2(self):
    cases = {
        'unknown_flag': (['--no_such_flag=1'],
                         "tffx-worker: error: Unknown command line flag "
                         "'no_such_flag'"),
        'not_a_port': (['--port=notaport'],
                       "tffx-worker: error: flag --port=notaport: invalid "
                       "literal for int() with base 10: 'notaport'"),
        'denied_extra_op': (['--extra_allowed_ops=PyFunc'],
                            "tffx-worker: error: Ops ['PyFunc'] cannot be "
                            "allowed: it runs Python code on the worker."),
    }
    env = worker_processes.worker_environment()
    env.pop('TF_CPP_MIN_LOG_LEVEL', None)  # Start-up noise must not show.
    processes = {
        name: subprocess.Popen(
            [*worker_processes.worker_command(0, flags)], env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, (flags, _) in cases.items()
    }
    for process in processes.values():
      self.addCleanup(process.kill)

    for name, (_, line) in cases.items():
      with self.subTest(name):
        stdout, stderr = processes[name].communicate(
            timeout=_EXIT_TIMEOUT_SECONDS)
        self.assertEqual(processes[name].returncode, 2)
        self.assertEqual(stderr.splitlines(), [line])
        self.assertEqual(stdout, '')


if __name__ == '__main__':
  absltest.main()
