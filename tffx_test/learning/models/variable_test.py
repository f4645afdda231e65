import collections

from absl.testing import absltest
import tensorflow as tf

from tffx.learning.models import variable


class _Counter(variable.VariableModel):
  """The smallest complete VariableModel: counts the examples it sees."""

  def __init__(self):
    self._w = tf.Variable([1.0, 2.0])
    self._count = tf.Variable(0, dtype=tf.int64, trainable=False)

  @property
  def trainable_variables(self):
    return [self._w]

  @property
  def non_trainable_variables(self):
    return []

  @property
  def local_variables(self):
    return [self._count]

  @property
  def input_spec(self):
    return tf.TensorSpec([None, 2], tf.float32)

  def predict_on_batch(self, x, training=True):
    return tf.linalg.matvec(x, self._w)

  def forward_pass(self, batch_input, training=True):
    predictions = self.predict_on_batch(batch_input, training)
    num_examples = tf.shape(batch_input, out_type=tf.int64)[0]
    self._count.assign_add(num_examples)
    return variable.BatchOutput(loss=tf.reduce_mean(predictions),
                                predictions=predictions,
                                num_examples=num_examples)

  def report_local_unfinalized_metrics(self):
    return collections.OrderedDict(num_examples=self._count)

  def metric_finalizers(self):
    return collections.OrderedDict(num_examples=tf.identity)

  def reset_metrics(self):
    self._count.assign(0)


class VariableModelTest(absltest.TestCase):

  def test_is_abstract_in_every_tff_member(self):

    with self.assertRaises(TypeError):
      variable.VariableModel()  # pytype: disable=not-instantiable
    self.assertEqual(
        sorted(variable.VariableModel.__abstractmethods__),
        sorted([
            'trainable_variables', 'non_trainable_variables',
            'local_variables', 'input_spec', 'forward_pass',
            'predict_on_batch', 'report_local_unfinalized_metrics',
            'metric_finalizers', 'reset_metrics'
        ]))

  def test_subclass_forward_pass_reports_and_resets_metrics(self):
    model = _Counter()

    output = model.forward_pass(tf.ones([3, 2]))
    reported = int(model.report_local_unfinalized_metrics()['num_examples'])
    model.reset_metrics()

    self.assertAlmostEqual(float(output.loss), 3.0)
    self.assertEqual(int(output.num_examples), 3)
    self.assertEqual(reported, 3)
    self.assertEqual(int(model.local_variables[0]), 0)

  def test_batch_output_fields_default_to_none(self):

    output = variable.BatchOutput(predictions=1.0)

    self.assertEqual(output._fields, ('loss', 'predictions', 'num_examples'))
    self.assertIsNone(output.loss)
    self.assertIsNone(output.num_examples)

  def test_check_variable_model_raises_type_error(self):

    with self.assertRaisesRegex(TypeError, 'model_fn to return'):
      variable.check_variable_model('model', 'model_fn')


if __name__ == '__main__':
  absltest.main()
