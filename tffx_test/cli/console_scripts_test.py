"""Tests that console scripts show their binary's flags in `--help`."""

import sys
from unittest import mock

from absl import flags
from absl.testing import absltest

from tffx.cli import console_scripts


class DeclareScriptFlagsTest(absltest.TestCase):

  def test_script_help_lists_the_module_flags(self):
    flag_values = flags.FlagValues()
    flags.DEFINE_integer('rounds', 3, 'Number of rounds.',
                         flag_values=flag_values, module_name='fake.binary')

    with mock.patch.object(sys, 'argv', ['/venv/bin/fake-binary']):
      before = flag_values.main_module_help()
      console_scripts.declare_script_flags('fake.binary', flag_values)
      after = flag_values.main_module_help()

    self.assertNotIn('--rounds', before)
    self.assertIn('--rounds', after)
    self.assertIn('Number of rounds.', after)

  def test_declaring_twice_lists_each_flag_once(self):
    flag_values = flags.FlagValues()
    flags.DEFINE_string('host', 'localhost', 'Address to bind.',
                        flag_values=flag_values, module_name='fake.worker')

    with mock.patch.object(sys, 'argv', ['/venv/bin/fake-worker']):
      console_scripts.declare_script_flags('fake.worker', flag_values)
      console_scripts.declare_script_flags('fake.worker', flag_values)
      help_text = flag_values.main_module_help()

    self.assertEqual(help_text.count('--host'), 1)


if __name__ == '__main__':
  absltest.main()
