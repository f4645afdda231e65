import collections

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.computations import federated_computation
from tffx.aggregators import sampling as aggregator_sampling
from tffx.learning.metrics import errors
from tffx.learning.metrics import sampling
from tffx.templates import aggregation_process
from tffx.types import computation_types as ct
from tffx.types import placements

_UNFINALIZED_TYPE = ct.to_type(
    collections.OrderedDict(mean_loss=(np.float32, np.float32),
                            num_examples=np.int64))
_FINALIZERS = collections.OrderedDict(
    mean_loss=lambda total_and_count: total_and_count[0] / total_and_count[1],
    num_examples=lambda count: count)


def _client_metrics(count):
  # Client i has mean loss i over i + 1 examples.
  return [
      collections.OrderedDict(mean_loss=(float(i * (i + 1)), float(i + 1)),
                              num_examples=i + 1) for i in range(count)
  ]


def _assert_whole_clients(test, samples, clients):
  """Each sampled row is one client's finalized metrics."""
  test.assertLen(set(samples['num_examples'].tolist()),
                 len(samples['num_examples']))
  for loss, examples in zip(samples['mean_loss'], samples['num_examples']):
    test.assertIn(examples, range(1, clients + 1))
    test.assertAlmostEqual(loss, examples - 1)


class FinalizeThenSampleTest(parameterized.TestCase):

  def test_type_has_a_sample_dimension(self):

    computation = sampling.finalize_then_sample(_FINALIZERS, _UNFINALIZED_TYPE,
                                                sample_size=2)

    self.assertEqual(
        str(computation.type_signature),
        '({<mean_loss=<float32,float32>,num_examples=int64>}@CLIENTS -> '
        '<mean_loss=float32[?],num_examples=int64[?]>@SERVER)')

  def test_without_type_is_polymorphic_in_the_argument(self):
    computation = sampling.finalize_then_sample(_FINALIZERS, sample_size=3)

    @federated_computation.federated_computation(
        ct.FederatedType(_UNFINALIZED_TYPE, placements.CLIENTS))
    def run(unfinalized_metrics):
      return computation(unfinalized_metrics)

    samples = run(_client_metrics(5))

    self.assertLen(samples['num_examples'], 3)
    _assert_whole_clients(self, samples, 5)

  @parameterized.named_parameters(('fewer', 2, 2), ('more', 6, 3))
  def test_samples_up_to_sample_size_finalized_clients(self, clients,
                                                       expected):
    computation = sampling.finalize_then_sample(_FINALIZERS, _UNFINALIZED_TYPE,
                                                sample_size=3)

    samples = computation(_client_metrics(clients))

    self.assertLen(samples['num_examples'], expected)
    _assert_whole_clients(self, samples, clients)

  def test_one_function_finalizer(self):

    def finalize_all(unfinalized):
      total, count = unfinalized['mean_loss']
      return collections.OrderedDict(mean_loss=total / count,
                                     num_examples=unfinalized['num_examples'])

    computation = sampling.finalize_then_sample(finalize_all,
                                                _UNFINALIZED_TYPE)

    samples = computation(_client_metrics(4))

    self.assertLen(samples['num_examples'], 4)
    _assert_whole_clients(self, samples, 4)

  @parameterized.named_parameters(('zero', 0, ValueError),
                                  ('float', 1.5, TypeError))
  def test_raises_for_bad_sample_size(self, sample_size, error):

    with self.assertRaises(error):
      sampling.finalize_then_sample(_FINALIZERS, _UNFINALIZED_TYPE,
                                    sample_size)

  def test_raises_for_mismatched_finalizer_names(self):

    with self.assertRaises(errors.MismatchedMetricNamesError):
      sampling.finalize_then_sample(
          collections.OrderedDict(mean_loss=lambda x: x), _UNFINALIZED_TYPE)


class FinalizeThenSampleFactoryTest(absltest.TestCase):

  def test_process_signature(self):

    process = sampling.FinalizeThenSampleFactory(2).create(
        _FINALIZERS, _UNFINALIZED_TYPE)

    self.assertIsInstance(process, aggregator_sampling.SampleAggregationProcess)
    self.assertNotIsInstance(process, aggregation_process.AggregationProcess)
    self.assertEqual(
        str(process.next.type_signature.result.measurements),
        '<mean_loss=int64,num_examples=int64>@SERVER')

  def test_total_rounds_samples_stay_within_sample_size(self):
    process = sampling.FinalizeThenSampleFactory(3).create(
        _FINALIZERS, _UNFINALIZED_TYPE)
    state = process.initialize()

    sizes = []
    for clients in (2, 2, 5):
      output = process.next(state, _client_metrics(clients))
      state = output.state
      current, total = output.result
      sizes.append((len(current['num_examples']),
                    len(total['num_examples'])))
      _assert_whole_clients(self, current, clients)

    self.assertEqual(sizes, [(2, 2), (2, 3), (3, 3)])
    self.assertLen(state['random_values'], 3)

  def test_measurements_count_non_finite_finalized_metrics(self):
    process = sampling.FinalizeThenSampleFactory(1).create(
        _FINALIZERS, _UNFINALIZED_TYPE)
    values = _client_metrics(2) + [
        collections.OrderedDict(mean_loss=(1.0, 0.0), num_examples=0)
    ]

    output = process.next(process.initialize(), values)

    self.assertEqual(dict(output.measurements),
                     {'mean_loss': 1, 'num_examples': 0})


if __name__ == '__main__':
  absltest.main()
