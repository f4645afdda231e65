from absl.testing import absltest
from absl.testing import parameterized
import tensorflow as tf

from tffx.simulation.baselines import client_spec


def _values(dataset):
  return [int(x) for x in dataset]


class ClientSpecTest(parameterized.TestCase):

  def test_fields_default_to_none(self):

    spec = client_spec.ClientSpec(num_epochs=2, batch_size=10)

    self.assertEqual((spec.num_epochs, spec.batch_size), (2, 10))
    self.assertIsNone(spec.max_elements)
    self.assertIsNone(spec.shuffle_buffer_size)

  def test_is_frozen(self):
    spec = client_spec.ClientSpec(1, 1)

    with self.assertRaises(AttributeError):
      spec.batch_size = 3  # pytype: disable=not-writable

  @parameterized.named_parameters(
      ('num_epochs', dict(num_epochs=0, batch_size=1)),
      ('batch_size', dict(num_epochs=1, batch_size=-2)),
      ('max_elements', dict(num_epochs=1, batch_size=1, max_elements=0)),
      ('shuffle_buffer_size',
       dict(num_epochs=1, batch_size=1, shuffle_buffer_size=0)),
  )
  def test_raises_value_error_when_not_positive(self, kwargs):
    with self.assertRaisesRegex(ValueError, 'positive integer'):
      client_spec.ClientSpec(**kwargs)

  @parameterized.named_parameters(
      ('float_epochs', dict(num_epochs=1.0, batch_size=1)),
      ('none_batch_size', dict(num_epochs=1, batch_size=None)),
      ('bool_max_elements', dict(num_epochs=1, batch_size=1,
                                 max_elements=True)),
  )
  def test_raises_type_error_when_not_integer(self, kwargs):
    with self.assertRaises(TypeError):
      client_spec.ClientSpec(**kwargs)

  def test_shuffle_repeat_take_takes_after_repeating(self):
    spec = client_spec.ClientSpec(num_epochs=3, batch_size=1, max_elements=5,
                                  shuffle_buffer_size=1)

    dataset = client_spec.shuffle_repeat_take(
        tf.data.Dataset.range(3), spec, default_shuffle_buffer_size=100)

    self.assertEqual(_values(dataset), [0, 1, 2, 0, 1])

  def test_shuffle_repeat_take_shuffles_with_default_buffer(self):
    spec = client_spec.ClientSpec(num_epochs=1, batch_size=1)
    tf.random.set_seed(3)

    orders = {
        tuple(_values(client_spec.shuffle_repeat_take(
            tf.data.Dataset.range(20), spec, default_shuffle_buffer_size=20)))
        for _ in range(5)
    }

    self.assertGreater(len(orders), 1)
    self.assertEqual(sorted(next(iter(orders))), list(range(20)))


if __name__ == '__main__':
  absltest.main()
