"""Build macros for tffx.

Every test file `tffx_test/<area>/<name>.py` gets one line in the BUILD of its
folder:

    load("//tools:build_defs.bzl", "tffx_py_test")

    tffx_py_test(name = "computation_types_test")

tools/check_bazel_targets.py fails CI when a test file has no such line.
"""

# Environment of every test process. TensorFlow logs a lot at start-up;
# level 2 keeps warnings and errors only.
_TEST_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYTHONDONTWRITEBYTECODE": "1",
}

def _path_to_workspace_root(package):
    """Returns the relative path from `package` to the workspace root."""
    if not package:
        return "."
    return "/".join([".."] * len(package.split("/")))

def tffx_py_test(
        name,
        srcs = None,
        deps = None,
        size = "medium",
        shard_count = None,
        **kwargs):
    """A Python test that runs with the project's interpreter.

    Python packages from PyPI (tensorflow, absl-py, numpy, ...) are not Bazel
    targets: they come from the venv whose interpreter tools/test.sh passes
    to Bazel. The test runs its file as a script, so it must end with
    `if __name__ == "__main__": absltest.main()` (or similar).

    Args:
      name: Target name; by convention the file name without `.py`.
      srcs: Source files; defaults to `[name + ".py"]`.
      deps: Bazel dependencies; defaults to `["//tffx"]` (the whole package).
      size: Bazel test size (sets the timeout).
      shard_count: Number of shards, for slow tests (absltest supports sharding).
      **kwargs: Passed to `py_test` (`data`, `tags`, `args`, `env`, `main`...).
    """
    if srcs == None:
        srcs = [name + ".py"]
    if deps == None:
        deps = ["//tffx"]
    env = dict(_TEST_ENV)
    env.update(kwargs.pop("env", {}))
    native.py_test(
        name = name,
        srcs = srcs,
        main = kwargs.pop("main", srcs[0]),
        deps = deps,
        size = size,
        shard_count = shard_count,
        python_version = "PY3",
        srcs_version = "PY3",
        # The workspace root on sys.path makes `import tffx` and
        # `import tffx_test` work from runfiles. Without generated
        # `__init__.py` files, the runfiles directory named after the
        # workspace ("tffx") cannot shadow the real `tffx` package.
        imports = kwargs.pop("imports", [_path_to_workspace_root(native.package_name())]),
        legacy_create_init = False,
        env = env,
        **kwargs
    )
