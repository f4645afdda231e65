"""Checks that every test file under tffx_test/ has a Bazel target, and back.

Every `tffx_test/<area>/<name>_test.py` must be listed in `tffx_test/<area>/BUILD`
as `tffx_py_test(name = "<name>_test")` (see tools/build_defs.bzl), otherwise
`bazel test //tffx_test/...` silently skips it. Conversely a `tffx_py_test`
whose file was deleted or renamed breaks the Bazel build.

This script only reads files; it does not run Bazel. It does not parse
Starlark either: a BUILD file is searched for `tffx_py_test(name = "...")`
calls with a regular expression, which is all the one-line convention needs.

Usage:
  python tools/check_bazel_targets.py [REPO_ROOT]

Exits 0 when everything matches, 1 otherwise (and names each problem).
"""

import os
import re
import sys

TEST_ROOT = "tffx_test"
TEST_SUFFIX = "_test.py"

# `tffx_py_test(` then, possibly after other arguments on the way, `name = "x"`.
# Comment lines are dropped before matching (see `_targets_in_build`).
_TARGET_RE = re.compile(
    r"\btffx_py_test\s*\(\s*(?:[^()]*?,\s*)?name\s*=\s*[\"']([^\"']+)[\"']"
)


def _targets_in_build(build_path):
  """Returns the names of the `tffx_py_test` targets in one BUILD file."""
  with open(build_path, encoding="utf-8") as f:
    lines = [line for line in f if not line.lstrip().startswith("#")]
  return set(_TARGET_RE.findall("".join(lines)))


def _test_files_by_folder(test_root):
  """Returns {folder: {test stem}} for every `*_test.py` under `test_root`."""
  found = {}
  for folder, dirnames, filenames in os.walk(test_root):
    # Skip caches and hidden folders (`__pycache__`, `.pytest_cache`).
    dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
    stems = {f[: -len(".py")] for f in filenames if f.endswith(TEST_SUFFIX)}
    found[folder] = stems
  return found


def find_missing(root):
  """Returns the problems found under `<root>/tffx_test`, sorted.

  Args:
    root: The repository root (the folder holding `tffx_test/`).

  Returns:
    A list of human-readable problems, one per test file without a target,
    folder with tests but no BUILD, or target without a test file. Empty
    when everything matches (including when `tffx_test/` does not exist).
  """
  test_root = os.path.join(root, TEST_ROOT)
  problems = []
  for folder, stems in sorted(_test_files_by_folder(test_root).items()):
    rel_folder = os.path.relpath(folder, root)
    build_path = os.path.join(folder, "BUILD")
    if not os.path.isfile(build_path):
      if stems:
        files = ", ".join(f"{rel_folder}/{s}.py" for s in sorted(stems))
        problems.append(
            f"{rel_folder}/BUILD is missing; it must list {files} "
            f'(e.g. tffx_py_test(name = "{sorted(stems)[0]}")).'
        )
      continue
    targets = _targets_in_build(build_path)
    for stem in sorted(stems - targets):
      problems.append(
          f"{rel_folder}/{stem}.py has no Bazel target: add "
          f'tffx_py_test(name = "{stem}") to {rel_folder}/BUILD.'
      )
    for name in sorted(targets - stems):
      problems.append(
          f'{rel_folder}/BUILD has tffx_py_test(name = "{name}") but '
          f"{rel_folder}/{name}.py does not exist."
      )
  return problems


def main(argv):
  if len(argv) > 2:
    print(f"usage: {argv[0]} [REPO_ROOT]", file=sys.stderr)
    return 2
  if len(argv) == 2:
    root = argv[1]
  elif "BUILD_WORKSPACE_DIRECTORY" in os.environ:  # Under `bazel run`.
    root = os.environ["BUILD_WORKSPACE_DIRECTORY"]
  else:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  problems = find_missing(root)
  for problem in problems:
    print(f"check_bazel_targets: {problem}", file=sys.stderr)
  if problems:
    print(
        f"check_bazel_targets: {len(problems)} problem(s); see tools/build_defs.bzl.",
        file=sys.stderr,
    )
    return 1
  print("check_bazel_targets: every test file has a Bazel target.")
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv))
