import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.computations import federated_computation
from tffx.learning.metrics import aggregator
from tffx.learning.metrics import errors
from tffx.templates import measured_process
from tffx.types import computation_types as ct
from tffx.types import placements

# A mean (total, count) and a count of examples, per client.
_UNFINALIZED_TYPE = ct.to_type(
    collections.OrderedDict(mean_loss=(np.float32, np.float32),
                            num_examples=np.int64))
_FINALIZERS = collections.OrderedDict(
    mean_loss=lambda total_and_count: total_and_count[0] / total_and_count[1],
    num_examples=lambda count: count)
# Client means 1.0 (over 1 example) and 3.0 (over 3 examples).
_CLIENT_METRICS = [
    collections.OrderedDict(mean_loss=(1.0, 1.0), num_examples=1),
    collections.OrderedDict(mean_loss=(9.0, 3.0), num_examples=3),
]


def _finalize_all(unfinalized):
  total, count = unfinalized['mean_loss']
  return collections.OrderedDict(mean_loss=total / count,
                                 num_examples=unfinalized['num_examples'])


class SumThenFinalizeTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('mapping', _FINALIZERS),
      ('one_function', _finalize_all),
  )
  def test_sums_over_clients_then_finalizes(self, finalizers):
    aggregate = aggregator.sum_then_finalize(finalizers, _UNFINALIZED_TYPE)

    result = aggregate(_CLIENT_METRICS)

    self.assertEqual(
        str(aggregate.type_signature),
        '({<mean_loss=<float32,float32>,num_examples=int64>}@CLIENTS -> '
        '<mean_loss=float32,num_examples=int64>@SERVER)')
    # (1 + 9) / (1 + 3), not the mean of the client means, (1 + 3) / 2.
    self.assertAlmostEqual(float(result['mean_loss']), 2.5)
    self.assertEqual(result['num_examples'], 4)

  def test_without_type_is_polymorphic_in_the_argument(self):
    aggregate = aggregator.sum_then_finalize(_FINALIZERS)

    @federated_computation.federated_computation(
        ct.FederatedType(_UNFINALIZED_TYPE, placements.CLIENTS))
    def run(unfinalized_metrics):
      return aggregate(unfinalized_metrics)

    result = run(_CLIENT_METRICS)

    self.assertEqual(
        str(run.type_signature.result),
        '<mean_loss=float32,num_examples=int64>@SERVER')
    self.assertAlmostEqual(float(result['mean_loss']), 2.5)
    self.assertEqual(result['num_examples'], 4)

  def test_without_type_raises_mismatched_names_error_when_traced(self):
    aggregate = aggregator.sum_then_finalize(
        collections.OrderedDict(mean_loss=_FINALIZERS['mean_loss']))

    with self.assertRaises(errors.MismatchedMetricNamesError):
      federated_computation.federated_computation(
          aggregate, ct.FederatedType(_UNFINALIZED_TYPE, placements.CLIENTS))

  def test_raises_mismatched_metric_names_error(self):
    finalizers = collections.OrderedDict(mean_loss=_FINALIZERS['mean_loss'])

    with self.assertRaisesRegex(errors.MismatchedMetricNamesError,
                                'num_examples'):
      aggregator.sum_then_finalize(finalizers, _UNFINALIZED_TYPE)

  @parameterized.named_parameters(
      ('not_callable', 'mean', errors.MetricFinalizersTypeError),
      ('mapping_of_non_callables',
       collections.OrderedDict(mean_loss=1, num_examples=2),
       errors.MetricFinalizersTypeError),
  )
  def test_raises_for_wrong_finalizers(self, finalizers, error):
    with self.assertRaises(error):
      aggregator.sum_then_finalize(finalizers, _UNFINALIZED_TYPE)

  @parameterized.named_parameters(
      ('tensor', np.float32),
      ('strings', collections.OrderedDict(name=np.str_)),
  )
  def test_raises_unfinalized_metrics_type_error(self, unfinalized_type):
    with self.assertRaises(errors.UnfinalizedMetricsTypeError):
      aggregator.sum_then_finalize(_finalize_all, unfinalized_type)


class SumThenFinalizeFactoryTest(absltest.TestCase):

  def test_keeps_sum_over_rounds(self):
    process = aggregator.SumThenFinalizeFactory(_FINALIZERS).create(
        _UNFINALIZED_TYPE)
    state = process.initialize()

    first = process.next(state, _CLIENT_METRICS)
    second = process.next(first.state, _CLIENT_METRICS[:1])

    self.assertIsInstance(process, measured_process.MeasuredProcess)
    current, total = second.result
    self.assertAlmostEqual(float(current['mean_loss']), 1.0)
    self.assertEqual(current['num_examples'], 1)
    # Rounds together: (1 + 9 + 1) / (1 + 3 + 1).
    self.assertAlmostEqual(float(total['mean_loss']), 11.0 / 5.0, places=6)
    self.assertEqual(total['num_examples'], 5)

  def test_initial_unfinalized_metrics_start_the_sum(self):
    initial = collections.OrderedDict(mean_loss=(10.0, 5.0), num_examples=5)
    process = aggregator.SumThenFinalizeFactory(
        _finalize_all, initial_unfinalized_metrics=initial).create(
            _UNFINALIZED_TYPE)

    output = process.next(process.initialize(), _CLIENT_METRICS)

    self.assertAlmostEqual(float(output.result[1]['mean_loss']), 20.0 / 9.0,
                           places=6)
    self.assertEqual(output.result[1]['num_examples'], 9)

  def test_raises_for_wrong_finalizers(self):
    with self.assertRaises(errors.MetricFinalizersTypeError):
      aggregator.SumThenFinalizeFactory(3)

  def test_raises_for_initial_metrics_of_another_structure(self):
    factory = aggregator.SumThenFinalizeFactory(
        _finalize_all,
        initial_unfinalized_metrics=collections.OrderedDict(mean_loss=1.0))

    with self.assertRaisesRegex(errors.UnfinalizedMetricsTypeError,
                                'initial_unfinalized_metrics'):
      factory.create(_UNFINALIZED_TYPE)


if __name__ == '__main__':
  absltest.main()
