"""Which command lines get TensorFlow's start-up lines hidden, and which lines."""

from absl.testing import absltest
from absl.testing import parameterized

from tffx import _console_startup as console_startup


class ConsoleStartupTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('console_script', ['/venv/bin/tffx-train', '--rounds=2'],
       ['/venv/bin/python', '/venv/bin/tffx-train', '--rounds=2'], True),
      ('module', ['-m'], ['python', '-m', 'tffx.cli.worker', '--port=0'],
       True),
      ('verbosity', ['/venv/bin/tffx-worker', '--verbosity=0'],
       ['python', '/venv/bin/tffx-worker', '--verbosity=0'], False),
      ('other_program', ['train.py'], ['python', 'train.py'], False),
      ('other_module', ['-m'], ['python', '-m', 'pytest'], False),
  )
  def test_quiet_tensorflow_startup(self, argv, orig_argv, quiet):
    environ = {}

    result = console_startup.quiet_tensorflow_startup(argv, orig_argv,
                                                      environ)

    self.assertEqual(result, quiet)
    self.assertEqual(environ, {'TF_CPP_MIN_LOG_LEVEL': '3'} if quiet else {})

  def test_quiet_keeps_a_level_that_is_set(self):
    environ = {'TF_CPP_MIN_LOG_LEVEL': '0'}

    console_startup.quiet_tensorflow_startup(['tffx-train'], ['tffx-train'],
                                             environ)

    self.assertEqual(environ, {'TF_CPP_MIN_LOG_LEVEL': '0'})

  @parameterized.named_parameters(
      ('absl_preamble', 'WARNING: All log messages before '
       'absl::InitializeLog() is called are written to STDERR', True),
      ('onednn', 'I0000 00:00:1796530691.551296   15852 port.cc:153] oneDNN '
       'custom operations are on.', True),
      ('cpu_instructions', 'To enable the following instructions: AVX2 FMA, '
       'in other operations, rebuild TensorFlow.', True),
      ('cuinit', 'E0000 00:00:1796530441.404933     741 cuda_platform.cc:52] '
       'failed call to cuInit: INTERNAL: CUDA error', True),
      ('old_format', '2025-09-17 14:44:05.157831: I external/local_xla/xla/'
       'tsl/cuda/cudart_stub.cc:32] Could not find cuda drivers', True),
      ('other_tensorflow_error', 'E0000 00:00:1.1 741 kernel.cc:52] out of '
       'memory', False),
      ('tffx_error', 'tffx-train: error: --rounds=0: expected a positive '
       'integer', False),
      ('traceback', 'Traceback (most recent call last):', False),
  )
  def test_is_noise(self, line, noise):
    self.assertEqual(console_startup.is_noise(line + '\n'), noise)


if __name__ == '__main__':
  absltest.main()
