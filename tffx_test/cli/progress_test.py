import io

from absl.testing import absltest
from absl.testing import parameterized

from tffx.cli import progress


class FormatTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('fraction', 0.614, '0.61s'),
      ('below_ten', 9.994, '9.99s'),
      ('seconds', 42.4, '42s'),
      ('minutes', 185, '3m05s'),
      ('hours', 3720, '1h02m'),
  )
  def test_format_duration(self, seconds, expected):

    text = progress.format_duration(seconds)

    self.assertEqual(text, expected)

  def test_format_metrics_shows_loss_and_accuracy_only(self):

    text = progress.format_metrics(
        {'accuracy': 0.8964, 'loss': 0.4412, 'num_examples': 30})

    self.assertEqual(text, 'loss 0.441  accuracy 0.896')


class EstimateRemainingTest(parameterized.TestCase):

  @parameterized.named_parameters(
      ('no_rounds_yet', [], 10, None),
      ('first_round_only', [4.0], 10, 40.0),
      ('skips_first_round', [9.0, 1.0, 3.0], 5, 10.0),
      ('last_five_rounds', [9.0, 8.0, 8.0, 1.0, 1.0, 1.0, 1.0, 1.0], 2, 2.0),
      ('nothing_left', [2.0, 2.0], 0, 0.0),
  )
  def test_estimate_remaining(self, seconds, remaining, expected):

    estimate = progress.estimate_remaining(seconds, remaining)

    self.assertEqual(estimate, expected)


class ProgressTest(absltest.TestCase):

  def test_round_done_prints_time_metrics_and_eta(self):
    out = io.StringIO()
    printer = progress.Progress(total_rounds=20, out=out)

    printer.round_done(1, 2.5, {'loss': 0.5, 'accuracy': 0.25})
    printer.round_done(2, 0.5, {'loss': 0.25, 'accuracy': 0.5})

    self.assertEqual(out.getvalue().splitlines(), [
        'round  1/20   2.50s  loss 0.500  accuracy 0.250  ETA 48s',
        'round  2/20   0.50s  loss 0.250  accuracy 0.500  ETA 9.00s',
    ])
    self.assertEqual(printer.round_seconds, [2.5, 0.5])

  def test_round_done_omits_eta_after_last_round(self):
    out = io.StringIO()
    printer = progress.Progress(total_rounds=3, out=out)

    printer.round_done(3, 1.0, {'loss': 1.0})

    self.assertEqual(out.getvalue(), 'round 3/3   1.00s  loss 1.000\n')

  def test_eval_done_names_split_and_clients(self):
    out = io.StringIO()
    printer = progress.Progress(total_rounds=20, out=out)

    printer.eval_done(10, {'loss': 1.0123, 'accuracy': 0.78}, 'test', 30)

    self.assertEqual(
        out.getvalue(),
        'eval  10/20          loss 1.012  accuracy 0.780  (test split, 30 '
        'clients)\n')


if __name__ == '__main__':
  absltest.main()
