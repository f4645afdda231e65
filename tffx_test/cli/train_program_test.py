import csv
import dataclasses
import glob
import io
import json
import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from tffx.cli import errors
from tffx.cli import train_config
from tffx.cli import train_program
from tffx_test.cli import hdf5_files

TrainConfig = train_config.TrainConfig
# Small and fast: a few rounds of few clients on the IID synthetic data.
_SMALL = TrainConfig(dataset='synthetic_iid', rounds=3, clients_per_round=3,
                     batch_size=64, rounds_per_checkpoint=2, eval_every=2,
                     eval_clients=5)


def _csv_rows(path):
  with open(path, newline='') as f:
    return list(csv.DictReader(f))


def _tensorboard_scalars(directory):
  """{(tag, step): [values]} of every event file in `directory`."""
  scalars = {}
  for path in glob.glob(os.path.join(directory, 'events.out.tfevents.*')):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        number = tf.make_ndarray(value.tensor) if value.HasField(
            'tensor') else value.simple_value
        scalars.setdefault((value.tag, event.step), []).append(float(number))
  return scalars


class DefaultRootDirTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('synthetic', TrainConfig(), 'synthetic_1_1_softmax_fedavg_seed0'),
      ('hdf5_file_name', TrainConfig(dataset='hdf5:/data/emnist_train.h5',
                                     model='mlp', algorithm='fedprox',
                                     seed=4), 'emnist_train_mlp_fedprox_seed4'),
  )
  def test_default_root_dir_names_the_run(self, config, name):

    root_dir = train_program.default_root_dir(config)

    self.assertEqual(root_dir,
                     os.path.join(tempfile.gettempdir(), 'tffx_train', name))


class PrepareRootDirTest(absltest.TestCase):

  def test_prepare_root_dir_records_settings(self):
    root_dir = self.create_tempdir().full_path

    train_program.prepare_root_dir(_SMALL, root_dir)

    with open(os.path.join(root_dir, 'config.json')) as f:
      self.assertEqual(json.load(f), train_config.run_settings(_SMALL))

  def test_prepare_root_dir_accepts_same_settings_again(self):
    root_dir = self.create_tempdir().full_path
    train_program.prepare_root_dir(_SMALL, root_dir)

    train_program.prepare_root_dir(dataclasses.replace(_SMALL, rounds=50),
                                   root_dir)

    with open(os.path.join(root_dir, 'config.json')) as f:
      self.assertEqual(json.load(f), train_config.run_settings(_SMALL))

  def test_prepare_root_dir_refuses_other_settings_with_checkpoints(self):
    directory = self.create_tempdir()
    root_dir = directory.full_path
    train_program.prepare_root_dir(_SMALL, root_dir)
    directory.create_file('checkpoints/program_state_3.npz')

    with self.assertRaises(errors.TrainConfigError) as raised:
      train_program.prepare_root_dir(
          dataclasses.replace(_SMALL, client_lr=0.5), root_dir)

    self.assertEqual(
        str(raised.exception),
        f'--root_dir={root_dir}: holds a run with other settings '
        f'(--client_lr: 0.1 there, 0.5 here). Tip: pass another --root_dir, '
        f'or --overwrite to delete its checkpoints and metrics and start over')

  def test_prepare_root_dir_replaces_settings_without_checkpoints(self):
    root_dir = self.create_tempdir().full_path
    train_program.prepare_root_dir(_SMALL, root_dir)
    other = dataclasses.replace(_SMALL, client_lr=0.5)

    train_program.prepare_root_dir(other, root_dir)

    with open(os.path.join(root_dir, 'config.json')) as f:
      self.assertEqual(json.load(f), train_config.run_settings(other))

  def test_prepare_root_dir_refuses_checkpoints_without_settings(self):
    root_dir = self.create_tempdir()
    root_dir.create_file('checkpoints/program_state_3.npz')

    with self.assertRaisesRegex(errors.TrainConfigError,
                                'holds checkpoints but no config.json'):
      train_program.prepare_root_dir(_SMALL, root_dir.full_path)

  def test_prepare_root_dir_raises_config_error_if_not_writable(self):
    not_a_directory = self.create_tempfile('file').full_path

    with self.assertRaisesRegex(
        errors.TrainConfigError,
        f'--root_dir={not_a_directory}/run: cannot use it '
        r'\(Expected root_dir .*/run/checkpoints. to be a directory for '
        r'program state, found a file at that path \(or above it\)\.\)'):
      train_program.prepare_root_dir(_SMALL, f'{not_a_directory}/run')

  def test_prepare_root_dir_overwrite_removes_only_run_outputs(self):
    root_dir = self.create_tempdir()
    train_program.prepare_root_dir(_SMALL, root_dir.full_path)
    root_dir.create_file('checkpoints/program_state_3.npz')
    root_dir.create_file('metrics.csv')
    notes = root_dir.create_file('notes.txt', content='mine')

    train_program.prepare_root_dir(
        dataclasses.replace(_SMALL, client_lr=0.5, overwrite=True),
        root_dir.full_path)

    self.assertEqual(sorted(os.listdir(root_dir.full_path)),
                     ['config.json', 'notes.txt'])
    self.assertEqual(notes.read_text(), 'mine')


class RunTrainingTest(parameterized.TestCase):

  def test_run_training_writes_metrics_checkpoints_and_events(self):
    config = dataclasses.replace(_SMALL,
                                 root_dir=self.create_tempdir().full_path)
    out = io.StringIO()

    with self.assertLogs(level='INFO') as logs:
      result = train_program.run_training(config, out)

    self.assertEqual((result.start_round, result.final_round), (0, 3))
    rows = _csv_rows(result.metrics_csv)
    self.assertEqual([int(r['key']) for r in rows], [0, 1, 2, 3])
    self.assertEqual([r['eval/accuracy'] != '' for r in rows],
                     [True, False, True, True])
    self.assertEqual(
        sorted(os.listdir(result.checkpoint_dir)),
        ['program_state_2.npz', 'program_state_3.npz'])
    scalars = _tensorboard_scalars(result.tensorboard_dir)
    for row in rows[1:]:
      self.assertAlmostEqual(
          scalars[('client_work/train/loss', int(row['key']))][0],
          float(row['client_work/train/loss']), places=5)
    self.assertAlmostEqual(scalars[('eval/accuracy', 3)][0],
                           result.eval_metrics['accuracy'], places=6)
    lines = out.getvalue().splitlines()
    self.assertIn(f'root_dir: {config.root_dir} (new run)', lines)
    self.assertLen([r for r in logs.output if 'Released key' in r], 4)
    self.assertLen([l for l in lines if l.startswith('round ')], 3)
    self.assertLen([l for l in lines if l.startswith('eval ')], 3)

  def test_run_training_resumes_without_duplicate_rows_and_same_weights(self):
    straight = train_program.run_training(
        dataclasses.replace(_SMALL, rounds=4,
                            root_dir=self.create_tempdir().full_path),
        io.StringIO())
    resumed_dir = self.create_tempdir().full_path
    train_program.run_training(
        dataclasses.replace(_SMALL, rounds=2, root_dir=resumed_dir),
        io.StringIO())
    out = io.StringIO()

    resumed = train_program.run_training(
        dataclasses.replace(_SMALL, rounds=4, root_dir=resumed_dir), out)

    self.assertEqual(resumed.start_round, 2)
    self.assertIn(f'root_dir: {resumed_dir} (resuming from round 2)',
                  out.getvalue().splitlines())
    keys = [int(r['key']) for r in _csv_rows(resumed.metrics_csv)]
    self.assertEqual(keys, [0, 1, 2, 3, 4])
    for a, b in zip(straight.model_weights.trainable,
                    resumed.model_weights.trainable):
      np.testing.assert_array_equal(a, b)

  def test_run_training_rewrites_rows_of_run_killed_before_checkpoint(self):
    config = dataclasses.replace(_SMALL, rounds=1, eval_every=1,
                                 root_dir=self.create_tempdir().full_path)
    first = train_program.run_training(config, io.StringIO())
    # As if killed after releasing round 1 but before saving it.
    for name in os.listdir(first.checkpoint_dir):
      os.remove(os.path.join(first.checkpoint_dir, name))

    again = train_program.run_training(config, io.StringIO())

    self.assertEqual(again.start_round, 0)
    self.assertEqual([r['key'] for r in _csv_rows(again.metrics_csv)],
                     ['0', '1'])

  def test_run_training_at_final_round_only_evaluates(self):
    config = dataclasses.replace(_SMALL, rounds=1, eval_every=1,
                                 root_dir=self.create_tempdir().full_path)
    first = train_program.run_training(config, io.StringIO())
    out = io.StringIO()

    again = train_program.run_training(config, out)

    self.assertEqual((again.start_round, again.final_round), (1, 1))
    self.assertIsNone(again.train_metrics)
    self.assertEqual(again.eval_metrics, first.eval_metrics)
    self.assertIn('nothing to train: the run is at round 1, --rounds=1',
                  out.getvalue())
    self.assertLen(_csv_rows(again.metrics_csv), 2)

  @parameterized.named_parameters(
      ('fedavg_mean', 'fedavg', 'mean'),
      ('fedprox_dp', 'fedprox', 'dp'),
  )
  def test_native_executor_gives_reference_weights(self, algorithm,
                                                   aggregator):
    config = dataclasses.replace(_SMALL, rounds=2, eval_every=0,
                                 algorithm=algorithm, aggregator=aggregator)
    results = [
        train_program.run_training(
            dataclasses.replace(config, executor=executor,
                                root_dir=self.create_tempdir().full_path),
            io.StringIO()) for executor in ('reference', 'native')
    ]

    # The native backend runs clients vectorized (several in one TensorFlow
    # call), which agrees with the reference to float rounding.
    for a, b in zip(results[0].model_weights.trainable,
                    results[1].model_weights.trainable):
      np.testing.assert_allclose(b, a, rtol=1e-5,
                                 atol=1e-6 * np.max(np.abs(a)))

  def test_run_training_on_hdf5_file(self):
    path = hdf5_files.write_emnist_like(
        os.path.join(self.create_tempdir().full_path, 'emnist.h5'))
    config = TrainConfig(dataset=f'hdf5:{path}', model='mlp',
                         hidden_units=(8,), rounds=1, clients_per_round=2,
                         batch_size=2, eval_every=1,
                         root_dir=self.create_tempdir().full_path)

    result = train_program.run_training(config, io.StringIO())

    self.assertEqual(result.final_round, 1)
    self.assertEqual([w.shape for w in result.model_weights.trainable],
                     [(784, 8), (8,), (8, 3), (3,)])
    rows = _csv_rows(result.metrics_csv)
    self.assertEqual([r['key'] for r in rows], ['0', '1'])
    # 2 of the 3 clients (4, 2 and 3 examples) trained.
    self.assertIn(int(rows[1]['client_work/train/num_examples']), (5, 6, 7))
    self.assertEqual(int(rows[1]['eval/num_examples']), 9)

  def test_run_training_refuses_more_clients_than_dataset_has(self):
    config = dataclasses.replace(_SMALL, clients_per_round=31,
                                 root_dir=self.create_tempdir().full_path)

    with self.assertRaisesRegex(
        errors.TrainConfigError,
        '--clients_per_round=31: expected at most 30, the number of clients'):
      train_program.run_training(config, io.StringIO())


if __name__ == '__main__':
  absltest.main()
