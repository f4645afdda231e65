"""Remote execution: gRPC workers that hold shards of the clients.

Workers run `tffx-worker` (`worker_service`); a controller runs
computations on them through `remote_executor.RemoteExecutor`, usually
installed with `tffx.backends.remote.set_remote_execution_context`.
"""
