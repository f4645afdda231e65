"""Sizes a graph declares, checked before a worker runs it.

Some allowed ops take a size as an input and trust it: `Fill` (behind
`tf.zeros`/`tf.ones`) allocates the shape it is given, `TensorArrayV3`
reserves `size` slots, `ShuffleDataset` a `buffer_size` buffer,
`InterleaveDataset` opens `cycle_length` inputs, `PaddedBatchDataset` pads
every element to `padded_shapes`. Given 2**31 or 2**40, TensorFlow aborts
the process or spends minutes before failing. When such an input is a
constant of the graph (`Const`, as `tf.zeros([2**40])` writes it), this
module reads it and refuses the graph if it is beyond `SizeLimits`:

    limits = SizeLimits()                     # the defaults below
    check_node(node, constants, limits, where)   # from graph_allowlist

Sizes computed while the graph runs are not known here; those are bounded
by the memory limit and the crash containment of the worker's computation
processes (`computation_process`).

This module only reads graphs; it neither rewrites (`graph_isolation`) nor
checks op names (`graph_allowlist`).
"""

import dataclasses
from typing import Dict, Optional

import numpy as np
import tensorflow as tf

from tffx.remote import errors


@dataclasses.dataclass(frozen=True)
class SizeLimits:
  """The largest sizes a graph may declare.

  Attributes:
    max_elements: Elements of one tensor an op is asked to create (a
      `Fill`'s shape, a padded dataset element), slots of a TensorArray or
      TensorList, and elements of a shuffle buffer (the worker's
      --max_declared_size).
    max_cycle_length: Inputs an interleave keeps open at once.
  """
  max_elements: int = 1 << 28
  max_cycle_length: int = 1 << 12


# op -> [(input index, what the input is, which limit)]; 'shape' inputs
# count the product of their elements, 'count' inputs their value.
_SIZE_INPUTS = {
    'Fill': [(0, 'shape', 'max_elements')],
    'Empty': [(0, 'shape', 'max_elements')],
    'BroadcastTo': [(1, 'shape', 'max_elements')],
    'RandomUniform': [(0, 'shape', 'max_elements')],
    'RandomStandardNormal': [(0, 'shape', 'max_elements')],
    'TruncatedNormal': [(0, 'shape', 'max_elements')],
    'RandomUniformInt': [(0, 'shape', 'max_elements')],
    'TensorArrayV3': [(0, 'count', 'max_elements')],
    'TensorListReserve': [(1, 'count', 'max_elements')],
    'ShuffleDataset': [(1, 'count', 'max_elements')],
    'ShuffleDatasetV2': [(1, 'count', 'max_elements')],
    'ShuffleDatasetV3': [(1, 'count', 'max_elements')],
    'ShuffleAndRepeatDataset': [(1, 'count', 'max_elements')],
    'ShuffleAndRepeatDatasetV2': [(1, 'count', 'max_elements')],
    'InterleaveDataset': [(-2, 'count', 'max_cycle_length')],
    'ParallelInterleaveDatasetV4': [(-5, 'count', 'max_cycle_length')],
}
# Ops whose size inputs are a list: (first input, count attribute).
_PADDED_SHAPES = {'PaddedBatchDataset': (2, 'N'),
                  'PaddedBatchDatasetV2': (2, 'N')}


def constants(nodes) -> Dict[str, object]:
  """The `Const` nodes among `nodes`, by name."""
  return {n.name: n for n in nodes if n.op == 'Const'}


def check_node(node, consts: Dict[str, object], limits: SizeLimits,
               where: str) -> None:
  """Refuses `node` if a constant size input is beyond `limits`.

  Args:
    node: A `NodeDef`.
    consts: `constants(...)` of the graph or function holding the node.
    limits: The limits.
    where: Names the graph, for errors.

  Raises:
    GraphTooLargeError: naming the node, the input and the limit.
  """
  inputs = [i for i in node.input if not i.startswith('^')]
  checks = list(_SIZE_INPUTS.get(node.op, ()))
  if node.op in _PADDED_SHAPES:
    first, count_attr = _PADDED_SHAPES[node.op]
    count = node.attr[count_attr].i if count_attr in node.attr else 0
    checks += [(first + k, 'shape', 'max_elements') for k in range(count)]
  for index, kind, limit_name in checks:
    if not -len(inputs) <= index < len(inputs):
      continue
    value = _constant_value(inputs[index], consts)
    if value is None:
      continue
    size = _size(value, kind)
    limit = getattr(limits, limit_name)
    if size > limit:
      described = value.tolist() if value.size <= 8 else f'{value.shape}'
      raise errors.GraphTooLargeError(
          f'The worker refuses {where}: node {node.name!r} ({node.op}) '
          f'declares a {kind} of {described} (size {size}), beyond the '
          f'worker\'s {limit_name} of {limit}. Tip: use smaller sizes'
          f'{_TIPS.get(limit_name, "")}.')


_TIPS = {'max_elements': ', or start the worker with a larger '
                         '--max_declared_size'}


def _size(value: np.ndarray, kind: str) -> int:
  flat = [int(v) for v in value.reshape(-1)]
  if kind == 'count':
    return max(flat, default=0)
  size = 1
  for dim in flat:
    size *= max(dim, 0)
  return size


def _constant_value(name: str, consts: Dict[str, object]
                   ) -> Optional[np.ndarray]:
  """The value of input `name` if it is a constant integer, else None."""
  node = consts.get(name.split(':')[0])
  if node is None or 'value' not in node.attr:
    return None
  try:
    value = tf.make_ndarray(node.attr['value'].tensor)
  except (TypeError, ValueError):
    return None
  if not np.issubdtype(value.dtype, np.integer):
    return None
  return value

