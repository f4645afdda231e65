"""The child process that runs a worker's computations.

    tffx-worker (serves the port)          computation child (this module)
      request bytes  --- request pipe --->   WorkerService.handle
      response bytes <-- response pipe ---   (executor, allowlist, store)

Started by `computation_process`, never by hand. It imports TensorFlow,
builds the executor, limits its own address space (`--max_memory_mb`,
RLIMIT_AS), writes `READY`, then answers one request at a time until its
request pipe closes. It ends within a second of the worker,
and what TensorFlow prints goes to the worker's stderr, never into the
pipes.

Frames on the pipes are `computation_process`'s. Nothing is pickled:
requests and responses are the worker protocol's protobuf messages.
"""

import argparse
import os
import resource
import sys
import threading
import time

from tffx.proto import remote_pb2
from tffx.remote import computation_process
from tffx.remote import graph_allowlist
from tffx.remote import graph_limits
from tffx.remote import worker_executors
from tffx.remote import worker_service

_PARENT_CHECK_SECONDS = 1.0


def parse_args(argv) -> argparse.Namespace:
  parser = argparse.ArgumentParser(prog='tffx-computation-child')
  parser.add_argument('--request_fd', type=int, required=True)
  parser.add_argument('--response_fd', type=int, required=True)
  parser.add_argument('--executor', default='auto')
  parser.add_argument('--client_devices', default='')
  parser.add_argument('--server_device', default='')
  parser.add_argument('--threads', type=int, default=0)
  parser.add_argument('--extra_allowed_ops', default='')
  parser.add_argument('--max_declared_size', type=int, default=0)
  parser.add_argument('--max_memory_mb', type=int, default=0)
  return parser.parse_args(argv)


def _die_with_parent() -> None:
  """Ends this process soon after the worker is gone, even mid-request.

  (PR_SET_PDEATHSIG would fire when the worker's thread that started the
  child ends, not the worker.)
  """
  parent = os.getppid()

  def watch():
    while True:
      time.sleep(_PARENT_CHECK_SECONDS)
      if os.getppid() != parent:
        os._exit(1)  # pylint: disable=protected-access

  threading.Thread(target=watch, daemon=True,
                   name='tffx-parent-watch').start()


def _limit_memory(megabytes: int) -> None:
  if megabytes > 0:
    limit = megabytes << 20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(argv) -> None:
  args = parse_args(argv)
  _die_with_parent()
  limits = graph_limits.SizeLimits()
  if args.max_declared_size > 0:
    limits = graph_limits.SizeLimits(max_elements=args.max_declared_size)
  allowlist = graph_allowlist.GraphAllowlist(
      [o for o in args.extra_allowed_ops.split(',') if o], limits)
  executor, name = worker_executors.create_worker_executor(
      args.executor, [d for d in args.client_devices.split(',') if d],
      args.server_device or None, args.threads or None)
  service = worker_service.WorkerService(executor, executor_name=name,
                                         allowlist=allowlist)
  _limit_memory(args.max_memory_mb)
  computation_process.write_frame(args.response_fd,
                                    computation_process.READY)
  while True:
    data = computation_process.read_frame(args.request_fd)
    if data is None:
      return
    request = remote_pb2.WorkerRequest.FromString(data)
    response = service.handle(request)
    computation_process.write_frame(args.response_fd, response.SerializeToString())


if __name__ == '__main__':
  main(sys.argv[1:])
