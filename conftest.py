"""pytest set-up shared by all of tffx_test/.

Tests are written with absl.testing.absltest so that they also run under Bazel
(where each file runs as a script through `absltest.main()`, which parses the
absl flags). pytest never calls `absltest.main()`, so absl flags such as
--test_tmpdir (used by `self.create_tempdir()`) would be unparsed; mark them
parsed with their defaults instead.
"""

from absl import flags


def pytest_configure(config):
  del config  # Unused.
  if not flags.FLAGS.is_parsed():
    flags.FLAGS.mark_as_parsed()
