import dataclasses

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from tffx.aggregators import differential_privacy
from tffx.cli import errors
from tffx.cli import train_config
from tffx.cli import train_models
from tffx.learning.templates import learning_process

TrainConfig = train_config.TrainConfig


def _model():
  return train_models.build_model('softmax', 3, 2)


def _client_batches():
  x = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
               np.float32)
  return [[(x, np.array([0, 1, 1], np.int32))], [(x[:1], np.array([1],
                                                                  np.int32))]]


class CheckConfigTest(parameterized.TestCase):

  def test_check_config_accepts_defaults(self):

    train_config.check_config(TrainConfig())

  def test_check_config_accepts_ray_executor(self):

    train_config.check_config(TrainConfig(executor='ray', ray_address='auto',
                                          ray_workers=2))

  @parameterized.named_parameters(
      ('algorithm', dict(algorithm='fedfoo'),
       '--algorithm=fedfoo: expected one of fedavg, fedavg_unweighted, '
       'fedprox, fedsgd'),
      ('model', dict(model='cnn'), '--model=cnn: expected one of softmax, mlp'),
      ('optimizer', dict(server_optimizer='lamb'),
       '--server_optimizer=lamb: expected one of sgd, sgdm, adam, adagrad, '
       'rmsprop, yogi'),
      ('rounds', dict(rounds=0), '--rounds=0: expected a positive integer'),
      ('batch_size', dict(batch_size=-3),
       '--batch_size=-3: expected a positive integer'),
      ('eval_every', dict(eval_every=-1),
       '--eval_every=-1: expected an integer >= 0'),
      ('client_lr', dict(client_lr=-0.1),
       '--client_lr=-0.1: expected a number >= 0'),
      ('client_lr_nan', dict(client_lr=float('nan')),
       '--client_lr=nan: expected a number >= 0'),
      ('dp_clip', dict(dp_clip=0.0), '--dp_clip=0.0: expected a number > 0'),
      ('hidden_units', dict(model='mlp', hidden_units=(4, 0)),
       '--hidden_units=4,0: expected a comma-separated list of positive '
       'layer widths'),
      ('remote_without_workers', dict(executor='remote'),
       '--executor=remote: expected --workers=host:port,...'),
      ('workers_without_remote', dict(workers=('localhost:1',)),
       '--workers=localhost:1: expected only with --executor=remote, found '
       '--executor=native'),
      ('worker_without_port', dict(executor='remote', workers=('notaport',)),
       "--workers=notaport: expected host:port for each worker (a port in "
       "1-65535), found 'notaport'"),
      ('worker_port_out_of_range',
       dict(executor='remote', workers=('a:1', 'b:70000')),
       "--workers=a:1,b:70000: expected host:port for each worker (a port "
       "in 1-65535), found 'b:70000'"),
      ('duplicate_workers',
       dict(executor='remote', workers=('a:1', 'b:2', 'a:1')),
       '--workers=a:1,b:2,a:1: expected each worker once, found a:1 2 times'),
      ('token_without_remote', dict(auth_token_file=__file__),
       f'--auth_token_file={__file__}: expected only with --executor=remote, '
       f'found --executor=native'),
      ('missing_token_file',
       dict(executor='remote', workers=('a:1',),
            auth_token_file='/nonexistent/token'),
       '--auth_token_file=/nonexistent/token: expected an existing file'),
      ('cert_without_key',
       dict(executor='remote', workers=('a:1',), tls_ca=__file__,
            tls_cert=__file__),
       '--tls_cert and --tls_key: expected both'),
      ('cert_without_ca',
       dict(executor='remote', workers=('a:1',), tls_cert=__file__,
            tls_key=__file__),
       f'--tls_cert={__file__}: expected --tls_ca too'),
      ('ray_address_without_ray', dict(ray_address='auto'),
       '--ray_address=auto: expected only with --executor=ray, found '
       '--executor=native'),
      ('ray_workers_without_ray', dict(executor='remote', workers=('a:1',),
                                       ray_workers=2),
       '--ray_workers=2: expected only with --executor=ray, found '
       '--executor=remote'),
      ('negative_ray_workers', dict(executor='ray', ray_workers=-1),
       '--ray_workers=-1: expected an integer >= 0'),
      ('dp_with_fedsgd', dict(algorithm='fedsgd', aggregator='dp'),
       '--aggregator=dp: expected --algorithm=fedavg, fedavg_unweighted or '
       'fedprox'),
      ('dataset', dict(dataset='emnist'),
       '--dataset=emnist: expected one of synthetic_0_0, synthetic_0.5_0.5, '
       'synthetic_1_1, synthetic_iid or hdf5:<path>'),
  )
  def test_check_config_raises_naming_the_flag(self, changes, message):
    config = dataclasses.replace(TrainConfig(), **changes)

    with self.assertRaises(errors.TrainConfigError) as raised:
      train_config.check_config(config)

    self.assertStartsWith(str(raised.exception), message)


class RunSettingsTest(parameterized.TestCase):

  def test_run_settings_ignore_rounds_executor_and_outputs(self):
    config = TrainConfig()
    other = dataclasses.replace(config, rounds=99, executor='remote',
                                workers=('a:1',), eval_every=0,
                                rounds_per_checkpoint=7, root_dir='/x',
                                overwrite=True)

    self.assertEqual(train_config.run_settings(config),
                     train_config.run_settings(other))

  @parameterized.named_parameters(
      ('fedprox_mu', dict(algorithm='fedprox'), 'proximal_strength'),
      ('dp_noise', dict(aggregator='dp'), 'dp_noise_multiplier'),
      ('mlp_widths', dict(model='mlp'), 'hidden_units'),
      ('hdf5_label', dict(dataset='hdf5:/data.h5'), 'hdf5_label'),
  )
  def test_run_settings_include_flags_only_where_they_matter(
      self, changes, name):

    settings = train_config.run_settings(
        dataclasses.replace(TrainConfig(), **changes))

    self.assertIn(name, settings)
    self.assertNotIn(name, train_config.run_settings(TrainConfig()))

  def test_run_settings_differ_for_seed_and_learning_rate(self):
    base = train_config.run_settings(TrainConfig())

    self.assertNotEqual(
        base, train_config.run_settings(TrainConfig(seed=1)))
    self.assertNotEqual(
        base, train_config.run_settings(TrainConfig(client_lr=0.5)))


class BuildAggregatorTest(parameterized.TestCase):

  def test_build_aggregator_is_default_for_mean(self):

    self.assertIsNone(train_config.build_aggregator(TrainConfig()))

  def test_build_aggregator_dp_is_gaussian_with_flags(self):

    aggregator = train_config.build_aggregator(
        TrainConfig(aggregator='dp', dp_noise_multiplier=0.5))

    self.assertIsInstance(aggregator,
                          differential_privacy.DifferentiallyPrivateFactory)
    self.assertEqual(aggregator.noise_multiplier, 0.5)

  @parameterized.named_parameters(
      ('fedavg', 'fedavg', 'mean', True),
      ('fedavg_unweighted', 'fedavg_unweighted', 'mean', False),
      ('dp_makes_fedavg_unweighted', 'fedavg', 'dp', False),
      ('fedprox', 'fedprox', 'robust', True),
  )
  def test_is_weighted(self, algorithm, aggregator, expected):

    weighted = train_config.is_weighted(
        TrainConfig(algorithm=algorithm, aggregator=aggregator))

    self.assertEqual(weighted, expected)


class BuildLearningProcessTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('fedavg_adam_server', dict(server_optimizer='adam', server_lr=0.01)),
      ('fedavg_unweighted_sgdm', dict(algorithm='fedavg_unweighted',
                                      client_optimizer='sgdm')),
      ('fedprox_robust', dict(algorithm='fedprox', aggregator='robust')),
      ('fedsgd_yogi', dict(algorithm='fedsgd', server_optimizer='yogi')),
      ('fedavg_dp', dict(aggregator='dp', clients_per_round=2)),
  )
  def test_build_learning_process_trains_one_round(self, changes):
    config = dataclasses.replace(TrainConfig(), **changes)
    process = train_config.build_learning_process(config, _model())
    state = process.initialize()
    before = process.get_model_weights(state).trainable[0]

    state, metrics = process.next(state, _client_batches())

    self.assertIsInstance(process, learning_process.LearningProcess)
    after = process.get_model_weights(state).trainable[0]
    self.assertFalse(np.array_equal(before, after))
    self.assertEqual(metrics['client_work']['train']['num_examples'], 4)

  def test_fedavg_with_server_rate_one_takes_client_sgd_step(self):
    config = TrainConfig(client_lr=0.5, server_lr=1.0)
    process = train_config.build_learning_process(config, _model())
    (x, labels), = _client_batches()[0]

    state, _ = process.next(process.initialize(), _client_batches()[:1])

    # One SGD step from zero weights: uniform softmax, gradient of the mean
    # cross-entropy is x^T (p - onehot) / n.
    error = np.full([3, 2], 0.5) - np.eye(2)[labels]
    expected_kernel = -0.5 * x.T @ error / 3
    expected_bias = -0.5 * error.mean(axis=0)
    kernel, bias = process.get_model_weights(state).trainable
    np.testing.assert_allclose(kernel, expected_kernel, rtol=1e-5)
    np.testing.assert_allclose(bias, expected_bias, rtol=1e-5)

  def test_build_learning_process_raises_for_bad_config(self):

    with self.assertRaisesRegex(errors.TrainConfigError, '--rounds=0'):
      train_config.build_learning_process(TrainConfig(rounds=0), _model())


if __name__ == '__main__':
  absltest.main()
