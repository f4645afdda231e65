"""Tests for tools/check_bazel_targets.py on small fake repository trees."""

import contextlib
import io
import os

from absl.testing import absltest

import check_bazel_targets

_LOAD = 'load("//tools:build_defs.bzl", "tffx_py_test")\n\n'


class CheckBazelTargetsTest(absltest.TestCase):

  def _make_tree(self, files):
    """Creates `files` ({relative path: content}) and returns the root."""
    root = self.create_tempdir()
    for path, content in files.items():
      root.create_file(path, content=content)
    return root.full_path

  def test_find_missing_returns_empty_when_every_test_has_target(self):
    root = self._make_tree({
        "tffx_test/__init__.py": "",
        "tffx_test/types/__init__.py": "",
        "tffx_test/types/placements_test.py": "",
        "tffx_test/types/computation_types_test.py": "",
        "tffx_test/types/BUILD": (
            _LOAD
            + 'tffx_py_test(name = "placements_test")\n'
            + "tffx_py_test(\n"
            + '    size = "large",\n'
            + '    name = "computation_types_test",\n'
            + ")\n"
        ),
        "tffx_test/types/helpers.py": "",
    })

    problems = check_bazel_targets.find_missing(root)

    self.assertEqual(problems, [])

  def test_find_missing_returns_empty_when_no_test_folder(self):
    root = self._make_tree({"README.md": ""})

    problems = check_bazel_targets.find_missing(root)

    self.assertEqual(problems, [])

  def test_find_missing_reports_test_file_without_target(self):
    root = self._make_tree({
        "tffx_test/types/placements_test.py": "",
        "tffx_test/types/errors_test.py": "",
        "tffx_test/types/BUILD": (
            _LOAD
            + 'tffx_py_test(name = "placements_test")\n'
            + '# tffx_py_test(name = "errors_test")\n'
        ),
    })

    problems = check_bazel_targets.find_missing(root)

    self.assertLen(problems, 1)
    self.assertIn("tffx_test/types/errors_test.py has no Bazel target", problems[0])

  def test_find_missing_reports_folder_without_build(self):
    root = self._make_tree({
        "tffx_test/executors/BUILD": "",
        "tffx_test/executors/reference/x_test.py": "",
        "tffx_test/executors/reference/y_test.py": "",
    })

    problems = check_bazel_targets.find_missing(root)

    self.assertLen(problems, 1)
    self.assertIn("tffx_test/executors/reference/BUILD is missing", problems[0])
    self.assertIn("tffx_test/executors/reference/x_test.py", problems[0])
    self.assertIn("tffx_test/executors/reference/y_test.py", problems[0])

  def test_find_missing_reports_target_without_test_file(self):
    root = self._make_tree({
        "tffx_test/types/placements_test.py": "",
        "tffx_test/types/BUILD": (
            _LOAD
            + 'tffx_py_test(name = "placements_test")\n'
            + 'tffx_py_test(name = "renamed_test")\n'
        ),
    })

    problems = check_bazel_targets.find_missing(root)

    self.assertLen(problems, 1)
    self.assertIn('tffx_py_test(name = "renamed_test")', problems[0])
    self.assertIn("tffx_test/types/renamed_test.py does not exist", problems[0])

  def test_main_returns_1_and_names_file_when_target_missing(self):
    root = self._make_tree({
        "tffx_test/types/placements_test.py": "",
        "tffx_test/types/BUILD": _LOAD,
    })
    stderr = io.StringIO()

    with contextlib.redirect_stderr(stderr):
      exit_code = check_bazel_targets.main(["check_bazel_targets.py", root])

    self.assertEqual(exit_code, 1)
    self.assertIn(
        os.path.join("tffx_test", "types") + "/placements_test.py", stderr.getvalue()
    )

  def test_main_returns_0_when_targets_match(self):
    root = self._make_tree({
        "tffx_test/types/placements_test.py": "",
        "tffx_test/types/BUILD": _LOAD + 'tffx_py_test(name = "placements_test")\n',
    })

    with contextlib.redirect_stdout(io.StringIO()):
      exit_code = check_bazel_targets.main(["check_bazel_targets.py", root])

    self.assertEqual(exit_code, 0)


if __name__ == "__main__":
  absltest.main()
