"""Constant sizes beyond the limits are refused before a graph runs."""

from absl.testing import absltest
from absl.testing import parameterized
import tensorflow as tf

from tffx.remote import errors
from tffx.remote import graph_allowlist
from tffx.remote import graph_limits

_HUGE = 2**40


def _graph_def(build):
  graph = tf.Graph()
  with graph.as_default():
    build()
  return graph.as_graph_def()


def _reduce(dataset):
  return dataset.reduce(tf.constant(0, tf.int64), lambda a, b: a + b)


_BUILDERS = {
    'zeros': lambda n: tf.zeros([n]),
    'ones_2d': lambda n: tf.ones([n // 2**20, 2**20]),
    'tensor_array': lambda n: tf.raw_ops.TensorArrayV3(
        size=min(n, 2**31 - 1), dtype=tf.float32),
    'shuffle': lambda n: _reduce(tf.data.Dataset.range(3).shuffle(n)),
    'interleave': lambda n: _reduce(tf.data.Dataset.range(3).interleave(
        tf.data.Dataset.range, cycle_length=n // 1024)),
    'padded_batch': lambda n: tf.data.Dataset.range(3).map(
        lambda x: tf.fill([x], x)).padded_batch(2, padded_shapes=[n]),
    'zeros_in_dataset_function': lambda n: _reduce(
        tf.data.Dataset.range(3).map(
            lambda x: x + tf.cast(tf.reduce_sum(tf.zeros([n])), tf.int64))),
}


class GraphLimitsTest(parameterized.TestCase):

  @parameterized.named_parameters((name, name) for name in _BUILDERS)
  def test_constant_size_beyond_limit_is_refused(self, name):
    graph_def = _graph_def(lambda: _BUILDERS[name](_HUGE))

    with self.assertRaisesRegex(errors.GraphTooLargeError,
                                r"refuses TensorFlow computation 'g'.*"
                                r'beyond the worker\'s max_'):
      graph_allowlist.GraphAllowlist().check_graph_def(graph_def, 'g')

  @parameterized.named_parameters((name, name) for name in _BUILDERS)
  def test_small_constant_size_is_allowed(self, name):
    graph_def = _graph_def(lambda: _BUILDERS[name](2**20 * 4))

    graph_allowlist.GraphAllowlist().check_graph_def(graph_def, 'g')

  def test_size_known_only_when_running_is_left_to_the_process_limits(self):

    def build():
      n = tf.compat.v1.placeholder(tf.int64, [1])
      tf.zeros(n)

    graph_allowlist.GraphAllowlist().check_graph_def(_graph_def(build), 'g')

  def test_limit_is_configurable(self):
    graph_def = _graph_def(lambda: tf.zeros([1000]))
    allowlist = graph_allowlist.GraphAllowlist(
        limits=graph_limits.SizeLimits(max_elements=999))

    with self.assertRaisesRegex(errors.GraphTooLargeError,
                                r'size 1000\).*max_elements of 999'):
      allowlist.check_graph_def(graph_def, 'g')


if __name__ == '__main__':
  absltest.main()
