"""Command-line binaries: `tffx-train` (`tffx.cli.train`) and `tffx-worker`
(`tffx.cli.worker`).

Each binary is its own module with its own flags; this package imports none
of them, so their flags never meet in one process. `tffx-train`'s program
is in `train_program` (with `train_config`, `train_data`, `train_models`,
`progress`), which define no flags and can be used from Python.
"""
