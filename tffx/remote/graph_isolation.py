"""Rewrites graphs so nothing one request creates is visible to another.

A worker's computation process runs the graphs of many sessions, and
TensorFlow shares some state between the graphs of a process:

    VarHandleOp(shared_name='x')      every graph naming 'x' (or '') gets the
                                      same variable, in the process-wide
                                      resource manager
    HashTableV2, MutableHashTableV2   the same, for lookup tables
    Empty(init=False)                 returns memory as the allocator left
                                      it: another request's tensors

So before a worker runs a request, every graph in it is rewritten:

    VarHandleOp                       shared_name = anonymous: a new variable
                                      per execution, freed with its handle
    HashTableV2 / MutableHashTableV2  AnonymousHashTable /
                                      AnonymousMutableHashTable
    Empty                             init = True (zeros)

A tffx graph creates, initializes and reads its variables within one run
(computations are functions of their arguments), so the rewrite does not
change its results. Two `VarHandleOp` nodes of one graph with the same
shared name become two variables; graphs traced by tffx make one node per
variable.

    isolate_message(request)   # rewrites every graph in a proto, in place

This module rewrites; it does not decide which ops are allowed
(`graph_allowlist`).
"""

import hashlib
import threading
from typing import Dict, Optional

import tensorflow as tf
from tensorflow.python.eager import context as tf_context

from tffx.proto import computation_pb2
from tffx.proto import remote_pb2
from tffx.remote import graph_allowlist

ANONYMOUS_NAME = tf_context.anonymous_name()
_ANONYMOUS_TABLES = {'HashTableV2': 'AnonymousHashTable',
                     'MutableHashTableV2': 'AnonymousMutableHashTable'}
_SHARING_ATTRS = ('container', 'shared_name', 'use_node_name_sharing')
_MAX_REMEMBERED_GRAPHS = 4096

_lock = threading.Lock()
# Digest of a graph -> its rewritten bytes, or None when it needs none.
_rewritten: Dict[bytes, Optional[bytes]] = {}


def isolate_message(message) -> None:
  """Rewrites, in place, every graph held anywhere in `message`.

  Covers the `computation_pb2.TensorFlow` graphs and the client datasets
  sent as graphs (`remote_pb2.DatasetGraphs`).
  """
  for proto in graph_allowlist.nested_messages(
      message, (computation_pb2.TensorFlow.DESCRIPTOR,
                remote_pb2.DatasetGraphs.DESCRIPTOR)):
    if proto.DESCRIPTOR is computation_pb2.TensorFlow.DESCRIPTOR:
      rewritten = isolate_graph_bytes(proto.graph_def)
      if rewritten is not None:
        proto.graph_def = rewritten
    else:
      for i, graph_def in enumerate(proto.graph_def):
        rewritten = isolate_graph_bytes(graph_def)
        if rewritten is not None:
          proto.graph_def[i] = rewritten


def isolate_graph_bytes(data: bytes) -> Optional[bytes]:
  """The rewritten bytes of a serialized GraphDef, or None if unchanged."""
  digest = hashlib.sha256(data).digest()
  with _lock:
    if digest in _rewritten:
      return _rewritten[digest]
  graph_def = tf.compat.v1.GraphDef.FromString(data)
  result = graph_def.SerializeToString() if isolate_graph(graph_def) else None
  with _lock:
    if len(_rewritten) >= _MAX_REMEMBERED_GRAPHS:
      _rewritten.clear()
    _rewritten[digest] = result
  return result


def isolate_graph(graph_def) -> bool:
  """Rewrites a `GraphDef` in place; True if anything changed."""
  changed = False
  for node in graph_def.node:
    changed |= _isolate_node(node)
  for function in graph_def.library.function:
    for node in function.node_def:
      changed |= _isolate_node(node)
  return changed


def _isolate_node(node) -> bool:
  if node.op == 'VarHandleOp':
    if node.attr['shared_name'].s == ANONYMOUS_NAME.encode():
      return False
    node.attr['shared_name'].s = ANONYMOUS_NAME.encode()
    node.attr['container'].s = b''
    return True
  if node.op in _ANONYMOUS_TABLES:
    node.op = _ANONYMOUS_TABLES[node.op]
    for name in _SHARING_ATTRS:
      if name in node.attr:
        del node.attr[name]
    return True
  if node.op == 'Empty' and not node.attr['init'].b:
    node.attr['init'].b = True
    return True
  return False
