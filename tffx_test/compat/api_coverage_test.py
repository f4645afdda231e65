"""TFF 0.87's documented public names: each is in tffx or listed as a difference.

This folder does not mirror a `tffx/` module: it tests the public API the way
TFF users reach it (`import tffx as tff`), across all areas.

`tff_0_87_api_names.txt` (next to this file) lists TFF 0.87's documented
names. Each must either resolve in tffx (`tff.x.Y` -> `tffx.x.Y`, an attribute
that is not a module) or be listed, with a reason, in the machine-readable
sections "Not yet implemented" / "Not supported" of docs/tff_differences.md.
A listed name that tffx has after all is an error too, so that the document
stays true.
"""

import importlib
import os
import re
import types

from absl import logging
from absl.testing import absltest

import tffx

_HERE = os.path.dirname(os.path.abspath(__file__))
_NAMES_PATH = os.path.join(_HERE, 'tff_0_87_api_names.txt')
_DIFFERENCES_PATH = os.path.join(
    os.path.dirname(os.path.dirname(_HERE)), 'docs', 'tff_differences.md')

# The sections of docs/tff_differences.md whose lines name missing TFF names.
_LISTED_SECTIONS = ('Not yet implemented', 'Not supported')
_LISTED_LINE = re.compile(r'^- `(tff(?:\.\w+)+)`: (.*\S)\s*$')


def read_documented_names(path=_NAMES_PATH):
  """Returns the names in the TFF name list, in file order."""
  with open(path, encoding='utf-8') as f:
    lines = (line.strip() for line in f)
    return [line for line in lines if line and not line.startswith('#')]


def read_listed_differences(path=_DIFFERENCES_PATH):
  """Returns {tff name: reason} from the machine-readable sections.

  Raises:
    ValueError: A line in those sections is not of the form
      "- `tff.name`: reason", or a name is listed twice.
  """
  listed = {}
  section = None
  with open(path, encoding='utf-8') as f:
    for number, line in enumerate(f, start=1):
      if line.startswith('## '):
        section = line[3:].strip()
        continue
      if section not in _LISTED_SECTIONS or not line.strip():
        continue
      match = _LISTED_LINE.match(line)
      if match is None:
        raise ValueError(
            f'{path}:{number}: expected "- `tff.name`: reason" in section '
            f'"{section}", found {line!r}')
      name, reason = match.groups()
      if name in listed:
        raise ValueError(f'{path}:{number}: {name} is listed twice.')
      listed[name] = reason
  return listed


def is_present(name):
  """Returns whether tffx has TFF name `name`.

  `tff.a.b.C` is looked up as attribute `C` of `tffx.a.b`; each namespace
  on the way is an attribute of its parent or an importable sub-package. A
  module found under the final name does not count (tffx has modules named
  like some of TFF's functions, e.g. `tffx.learning.optimizers.sgdm`).
  """
  parts = name.split('.')[1:]
  namespace = tffx
  for part in parts[:-1]:
    if hasattr(namespace, part):
      namespace = getattr(namespace, part)
    else:
      try:
        namespace = importlib.import_module(f'{namespace.__name__}.{part}')
      except ImportError:
        return False
    if not isinstance(namespace, types.ModuleType):
      return False
  return hasattr(namespace, parts[-1]) and not isinstance(
      getattr(namespace, parts[-1]), types.ModuleType)


class ApiCoverageTest(absltest.TestCase):

  def test_name_list_has_no_duplicates(self):
    names = read_documented_names()

    duplicates = sorted({n for n in names if names.count(n) > 1})

    self.assertEmpty(duplicates)
    self.assertGreater(len(names), 250)

  def test_every_documented_name_is_present_or_listed(self):
    listed = read_listed_differences()

    unaccounted = [
        name for name in read_documented_names()
        if not is_present(name) and name not in listed
    ]

    self.assertEmpty(
        unaccounted,
        'TFF 0.87 names that tffx neither has nor lists in '
        'docs/tff_differences.md ("Not yet implemented" / "Not supported", '
        'one "- `tff.name`: reason" line each):\n' + '\n'.join(unaccounted))

  def test_listed_names_are_absent_from_tffx(self):
    listed = read_listed_differences()

    present = sorted(name for name in listed if is_present(name))

    self.assertEmpty(
        present, 'Listed as missing in docs/tff_differences.md but present '
        'in tffx (delete these lines):\n' + '\n'.join(present))

  def test_listed_names_are_documented_tff_names(self):
    documented = set(read_documented_names())

    unknown = sorted(set(read_listed_differences()) - documented)

    self.assertEmpty(unknown)

  def test_coverage_count(self):
    names = read_documented_names()

    present = [name for name in names if is_present(name)]

    logging.info('TFF 0.87 API coverage: %d / %d names present.', len(present),
                 len(names))
    print(f'TFF 0.87 API coverage: {len(present)} / {len(names)} names present')
    self.assertLen(present, len(names) - len(read_listed_differences()))


class HelpersTest(absltest.TestCase):

  def test_is_present_finds_top_level_and_nested_names(self):
    self.assertTrue(is_present('tff.federated_sum'))
    self.assertTrue(is_present('tff.CLIENTS'))
    self.assertTrue(is_present('tff.learning.algorithms.build_weighted_fed_avg'))

  def test_is_present_rejects_modules_and_missing_names(self):
    self.assertFalse(is_present('tff.learning.optimizers.sgdm'))
    self.assertFalse(is_present('tff.no_such_namespace.name'))
    self.assertFalse(is_present('tff.learning.no_such_name'))

  def test_read_listed_differences_rejects_a_malformed_line(self):
    path = self.create_tempfile(
        content='## Not supported\n\n- tff.x without backquotes\n').full_path

    with self.assertRaises(ValueError):
      read_listed_differences(path)

  def test_read_listed_differences_ignores_other_sections(self):
    path = self.create_tempfile(content=(
        '## Someone else\n\n- `tff.a`: not mine\n\n'
        '## Not yet implemented\n\n- `tff.b`: planned\n')).full_path

    self.assertEqual(read_listed_differences(path), {'tff.b': 'planned'})


if __name__ == '__main__':
  absltest.main()
