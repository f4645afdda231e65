"""Tests for tffx.test's contexts: with_context, with_contexts, no default."""

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

import tffx as tff
from tffx.computations import context_stack


@tff.tf_computation(np.int32)
def _add_one(x):
  return x + 1


class _RecordingContext(context_stack.Context):
  """Runs nothing; records which computations were invoked."""

  def __init__(self):
    self.calls = []

  def invoke(self, comp, arg):
    self.calls.append(arg)
    return 'recorded'


_CONTEXTS = []


def _new_recording_context():
  context = _RecordingContext()
  _CONTEXTS.append(context)
  return context


class ContextsTest(parameterized.TestCase):

  @tff.test.with_context(_new_recording_context)
  def test_with_context_runs_the_test_in_the_context(self):

    result = _add_one(1)

    self.assertEqual(result, 'recorded')
    self.assertIs(context_stack.get_context(), _CONTEXTS[-1])

  @tff.test.with_contexts(
      ('recording', _new_recording_context),
      {'testcase_name': 'reference',
       'context_fn': tff.backends.reference.create_reference_execution_context},
  )
  def test_with_contexts_runs_once_per_context(self):

    result = _add_one(1)

    self.assertIn(result, ('recorded', 2))

  def test_with_contexts_names_the_tests_after_the_contexts(self):
    names = set(dir(type(self)))

    self.assertIn('test_with_contexts_runs_once_per_context_recording', names)
    self.assertIn('test_with_contexts_runs_once_per_context_reference', names)

  def test_runtime_error_context_refuses_calls(self):
    context = tff.test.create_runtime_error_context()

    with context_stack.with_context(context):
      with self.assertRaises(RuntimeError):
        _add_one(1)

  def test_set_no_default_context_makes_calls_fail(self):
    self.addCleanup(context_stack.set_default_context, None)

    tff.test.set_no_default_context()

    with self.assertRaises(RuntimeError):
      _add_one(1)


if __name__ == '__main__':
  absltest.main()
