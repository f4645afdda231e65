from absl.testing import absltest

import tffx
from tffx.learning.templates import client_weight_lib
from tffx.learning.templates import loop_builder
from tffx.learning import model_update_aggregator


class LearningPackageTest(absltest.TestCase):

  def test_client_weighting_members(self):

    members = [m.name for m in client_weight_lib.ClientWeighting]

    self.assertEqual(members, ['UNIFORM', 'NUM_EXAMPLES'])

  def test_learning_package_exports_tff_names(self):

    public = {n for n in dir(tffx.learning) if not n.startswith('_')}

    self.assertContainsSubset(
        {'ClientWeighting', 'LoopImplementation', 'algorithms', 'metrics',
         'models', 'optimizers', 'templates', 'robust_aggregator',
         'dp_aggregator', 'secure_aggregator'}, public)
    self.assertIs(tffx.learning.ClientWeighting,
                  client_weight_lib.ClientWeighting)
    self.assertIs(tffx.learning.LoopImplementation,
                  loop_builder.LoopImplementation)
    self.assertIs(tffx.learning.robust_aggregator,
                  model_update_aggregator.robust_aggregator)

  def test_algorithms_are_exported(self):

    public = {n for n in dir(tffx.learning.algorithms) if not n.startswith('_')}

    self.assertContainsSubset(
        {'build_weighted_fed_avg', 'build_unweighted_fed_avg',
         'build_weighted_fed_prox', 'build_unweighted_fed_prox',
         'build_fed_sgd', 'build_fed_eval'}, public)


if __name__ == '__main__':
  absltest.main()
