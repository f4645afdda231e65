from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.learning.algorithms import errors
from tffx.learning.algorithms import fed_avg
from tffx.learning.algorithms import fed_prox
from tffx.learning.optimizers import sgdm
from tffx_test.learning.algorithms import test_models


def _run(process, arrays, rounds=2):
  state = process.initialize()
  for _ in range(rounds):
    state, metrics = process.next(state, test_models.client_datasets(arrays, 4))
  weights = process.get_model_weights(state)
  return [np.asarray(w) for w in weights.trainable], metrics


class FedProxTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('weighted', fed_prox.build_weighted_fed_prox,
       fed_avg.build_weighted_fed_avg),
      ('unweighted', fed_prox.build_unweighted_fed_prox,
       fed_avg.build_unweighted_fed_avg),
  )
  def test_zero_proximal_strength_equals_fed_avg(self, prox_builder,
                                                 avg_builder):
    arrays = test_models.client_arrays(3, [9, 5, 7])
    prox = prox_builder(test_models.build_softmax_regression(), 0.0,
                        sgdm.build_sgdm(0.2))
    avg = avg_builder(test_models.build_softmax_regression(),
                      sgdm.build_sgdm(0.2))

    prox_weights, prox_metrics = _run(prox, arrays)
    avg_weights, avg_metrics = _run(avg, arrays)

    for p, a in zip(prox_weights, avg_weights):
      np.testing.assert_allclose(p, a, rtol=1e-6, atol=1e-7)
    self.assertAlmostEqual(float(prox_metrics['client_work']['train']['loss']),
                           float(avg_metrics['client_work']['train']['loss']),
                           places=6)

  def test_positive_proximal_strength_keeps_clients_closer(self):
    # One client: its delta is the whole change of the global model.
    arrays = test_models.client_arrays(1, 40)
    distances = []

    for mu in (0.0, 1.0, 10.0):
      process = fed_prox.build_weighted_fed_prox(
          test_models.build_softmax_regression(), mu, sgdm.build_sgdm(0.05))
      weights, _ = _run(process, arrays, rounds=1)
      distances.append(float(np.linalg.norm(weights[0])))

    self.assertGreater(distances[0], distances[1])
    self.assertGreater(distances[1], distances[2])
    self.assertGreater(distances[2], 0.0)

  @parameterized.named_parameters(
      ('negative', -0.1),
      ('not_a_number', 'strong'),
      ('bool', True),
  )
  def test_raises_proximal_strength_error(self, proximal_strength):
    with self.assertRaisesRegex(errors.ProximalStrengthError,
                                'non-negative number'):
      fed_prox.build_weighted_fed_prox(test_models.build_softmax_regression(),
                                       proximal_strength, sgdm.build_sgdm(0.1))


if __name__ == '__main__':
  absltest.main()
