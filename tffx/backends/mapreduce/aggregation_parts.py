"""Built-in aggregations as `federated_aggregate` parts.

    federated_sum            zero 0, accumulate +, merge +, report identity
    federated_mean           <sum, count>; report sum / count
    federated_weighted_mean  client value <v, w>; <sum of v*w, sum of w>;
                             report sum / weight (weight cast per leaf dtype)
    federated_min/max        zero the dtype's largest/smallest value

Each part is an unplaced function building block; the arithmetic is one small
`tf_computation` over the leaves of its argument, wrapped in IR that flattens
the argument and rebuilds the result's structure (names and containers). This
module builds the parts; it does not decide where aggregations happen.
"""

import dataclasses
from typing import Callable, List, Sequence, Tuple

import numpy as np
import tensorflow as tf

from tffx.backends.mapreduce import errors
from tffx.computations import building_blocks as bb
from tffx.computations import tensorflow_computation
from tffx.types import computation_types as ct
from tffx.types import structure

_Path = Tuple[int, ...]


@dataclasses.dataclass(frozen=True)
class AggregateParts:
  """`federated_aggregate`'s arguments: zero ( -> U), accumulate (<U,A> -> U),
  merge (<U,U> -> U) and report (U -> R), as unplaced building blocks."""
  zero: bb.ComputationBuildingBlock
  accumulate: bb.ComputationBuildingBlock
  merge: bb.ComputationBuildingBlock
  report: bb.ComputationBuildingBlock


def _leaves(t: ct.Type, path: _Path = ()) -> List[Tuple[_Path, ct.TensorType]]:
  if isinstance(t, ct.StructType):
    result = []
    for i, element in enumerate(t):
      result.extend(_leaves(element, path + (i,)))
    return result
  if not isinstance(t, ct.TensorType):
    raise errors.MapReduceFormCompilationError(
        f'Expected an aggregated value of tensors, found a {t}.')
  return [(path, t)]


def _select(expr: bb.ComputationBuildingBlock, path: _Path):
  for index in path:
    expr = bb.Selection(expr, index=index)
  return expr


def _rebuild(t: ct.Type, leaf: Callable[[int], bb.ComputationBuildingBlock]):
  """A block of type `t` whose k-th tensor leaf is `leaf(k)`."""
  counter = iter(range(len(_leaves(t))))

  def build(t):
    if isinstance(t, ct.StructType):
      return bb.Struct([(n, build(e)) for n, e in t.items()],
                       t.python_container)
    return leaf(next(counter))

  return build(t)


def leaf_function(parameter_types: Sequence[ct.Type], result_type: ct.Type,
                  fn: Callable[..., list]) -> bb.Lambda:
  """`(<P_1,...,P_n> -> R)` (`(P_1 -> R)` for one) computing `fn` on leaves.

  `fn` gets one list of tensors per parameter and returns the list of the
  result's leaves.
  """
  if len(parameter_types) == 1:
    parameter = parameter_types[0]
    arg = bb.Reference('_mr_leaf_arg', parameter)
    arguments = [arg]
  else:
    parameter = ct.StructType([(None, t) for t in parameter_types])
    arg = bb.Reference('_mr_leaf_arg', parameter)
    arguments = [bb.Selection(arg, index=i) for i in range(len(parameter))]
  groups = [_leaves(t) for t in parameter_types]
  flat_args = [
      _select(argument, path)
      for argument, group in zip(arguments, groups)
      for path, _ in group
  ]
  if not _leaves(result_type):
    return bb.Lambda(arg.name, parameter, _rebuild(result_type, None))
  flat_type = ct.StructType([(None, a.type_signature) for a in flat_args])
  counts = [len(g) for g in groups]

  def body(flat):
    tensors = structure.flatten(flat)
    split, start = [], 0
    for count in counts:
      split.append(tensors[start:start + count])
      start += count
    return list(fn(*split))

  graph = tensorflow_computation.tf_computation(body, flat_type)
  out = bb.Reference('_mr_leaf_out', graph.type_signature.result)
  result = _rebuild(result_type, lambda k: bb.Selection(out, index=k))
  return bb.Lambda(
      arg.name, parameter,
      bb.Block([(out.name,
                 bb.Call(graph.to_building_block(), bb.Struct(flat_args)))],
               result))


def _filled(t: ct.Type, fill: Callable[[np.dtype], object]):
  """A literal of type `t` whose every element is `fill(dtype)`."""

  def literal(k):
    leaf = leaves[k][1]
    if leaf.shape is None or any(d is None for d in leaf.shape):
      raise errors.MapReduceFormCompilationError(
          f'Expected aggregated tensors of known shape, found {leaf}.')
    return bb.Literal(np.full(leaf.shape, fill(leaf.dtype), leaf.dtype), leaf)

  leaves = _leaves(t)
  return _rebuild(t, literal)


def _zeros(t):
  return _filled(t, lambda dtype: 0)


def _identity(t: ct.Type) -> bb.Lambda:
  return bb.Lambda('_mr_x', t, bb.Reference('_mr_x', t))


def _add(t: ct.Type) -> bb.Lambda:
  return leaf_function([t, t], t, lambda a, b: [x + y for x, y in zip(a, b)])


def _sum(value_type):
  return AggregateParts(
      _zeros(value_type), _add(value_type), _add(value_type),
      _identity(value_type))


def _mean(value_type):
  count = ct.TensorType(np.int64)
  state = ct.StructType([(None, value_type), (None, count)])
  return AggregateParts(
      zero=bb.Struct([_zeros(value_type),
                      bb.Literal(np.int64(0), count)]),
      accumulate=leaf_function(
          [state, value_type], state,
          lambda s, v: [x + y for x, y in zip(s[:-1], v)] + [s[-1] + 1]),
      merge=_add(state),
      report=leaf_function(
          [state], value_type,
          lambda s: [x / tf.cast(s[-1], x.dtype) for x in s[:-1]]))


def _weighted_mean(pair_type):
  value_type = pair_type[0]
  return AggregateParts(
      zero=_zeros(pair_type),
      accumulate=leaf_function(
          [pair_type, pair_type], pair_type, lambda s, v: [
              x + y * tf.cast(v[-1], y.dtype) for x, y in zip(s[:-1], v[:-1])
          ] + [s[-1] + v[-1]]),
      merge=_add(pair_type),
      report=leaf_function(
          [pair_type], value_type,
          lambda s: [x / tf.cast(s[-1], x.dtype) for x in s[:-1]]))


def _extreme(op, largest: bool):

  def parts(value_type):

    def bound(dtype):
      dtype = np.dtype(dtype)
      if dtype.kind == 'f':
        return np.inf if largest else -np.inf
      info = np.iinfo(dtype)
      return info.max if largest else info.min

    combine = leaf_function([value_type, value_type], value_type,
                            lambda a, b: [op(x, y) for x, y in zip(a, b)])
    return AggregateParts(
        _filled(value_type, bound), combine, combine, _identity(value_type))

  return parts


_BUILDERS = {
    'federated_sum': _sum,
    'federated_mean': _mean,
    'federated_weighted_mean': _weighted_mean,
    'federated_min': _extreme(tf.minimum, largest=True),
    'federated_max': _extreme(tf.maximum, largest=False),
}


def parts_for(kind: str, value_type: ct.Type) -> AggregateParts:
  """The aggregate parts of the built-in aggregation `kind` over clients'
  values of type `value_type` (for a weighted mean, `<value, weight>`)."""
  return _BUILDERS[kind](value_type)
