"""Runs computations in `MergeableCompForm` over several execution contexts.

    context = MergeableCompExecutionContext([ctx_a, ctx_b], compiler_fn=
                                            compile_to_mergeable_comp_form)
    comp(state, client_data)   # clients split into len(contexts) subrounds:

        up_to_merge(arg restricted to clients 0..k)    on ctx_a  \\  at once
        up_to_merge(arg restricted to clients k+1..n)  on ctx_b  /
        merge(merge(partial_1, partial_2), ...)        on ctx_a
        after_merge(<arg, merged>)                      on ctx_a

As TFF's `MergeableCompExecutionContext`: every client-placed (not
all-equal) value of the argument is split into `num_subrounds` contiguous
parts (default: one per context), subround `i` runs on context
`i % len(contexts)`, and server and unplaced values go to every subround.
Contexts may be asynchronous (their calls return awaitables, as
`AsyncExecutionContext`'s do; subrounds then run concurrently) or
synchronous. `invoke` is synchronous; it may be called from inside a
running event loop (which it then blocks until the subrounds are done).
This module runs forms; `mergeable_comp_compiler` builds them.
"""

import asyncio
import concurrent.futures
import inspect
from typing import Any, Callable, List, Optional, Sequence

from tffx.backends.mapreduce import mergeable_comp_compiler
from tffx.computations import context_stack
from tffx.computations import tensorflow_values
from tffx.types import computation_types as ct
from tffx.types import placements
from tffx.types import structure

MergeableCompForm = mergeable_comp_compiler.MergeableCompForm


def _client_count(arg: Any, type_spec: Optional[ct.Type]) -> Optional[int]:
  """The number of clients of the client values in `arg`, if there are any."""
  if isinstance(type_spec, ct.FederatedType):
    if type_spec.placement is placements.CLIENTS and not type_spec.all_equal:
      return len(arg)
    return None
  if isinstance(type_spec, ct.StructType):
    counts = {_client_count(v, t) for v, t in zip(
        tensorflow_values.struct_elements(arg, type_spec), type_spec)}
    counts.discard(None)
    if len(counts) > 1:
      raise ValueError(f'Expected the client values of the argument to have '
                       f'as many clients each, found counts {sorted(counts)}.')
    return counts.pop() if counts else None
  return None


def _restrict(arg: Any, type_spec: Optional[ct.Type], start: int,
              stop: int) -> Any:
  """`arg` with every client value restricted to clients `start:stop`."""
  if isinstance(type_spec, ct.FederatedType):
    if type_spec.placement is placements.CLIENTS and not type_spec.all_equal:
      return list(arg)[start:stop]
    return arg
  if isinstance(type_spec, ct.StructType):
    values = tensorflow_values.struct_elements(arg, type_spec)
    return structure.Struct([
        (name, _restrict(v, t, start, stop))
        for (name, t), v in zip(type_spec.items(), values)])
  return arg


def _bounds(num_clients: int, num_parts: int) -> List[range]:
  """Contiguous, non-empty client ranges, as equal in size as they can be."""
  num_parts = max(1, min(num_parts, num_clients))
  size, extra = divmod(num_clients, num_parts)
  bounds, start = [], 0
  for i in range(num_parts):
    stop = start + size + (1 if i < extra else 0)
    bounds.append(range(start, stop))
    start = stop
  return bounds


async def _resolve(values: List[Any]) -> List[Any]:
  """`values`, each awaited if it is awaitable (concurrently)."""
  awaitables = [v for v in values if inspect.isawaitable(v)]
  done = iter(await asyncio.gather(*awaitables))
  return [next(done) if inspect.isawaitable(v) else v for v in values]


def _run(values: List[Any]) -> List[Any]:
  """`values` resolved, from synchronous code, with or without a running
  event loop in this thread (a notebook or an async program has one)."""
  if not any(inspect.isawaitable(v) for v in values):
    return values
  try:
    asyncio.get_running_loop()
  except RuntimeError:
    return asyncio.run(_resolve(values))
  # `asyncio.run` does not nest: resolve on a loop of a thread of its own.
  with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
    return pool.submit(asyncio.run, _resolve(values)).result()


class MergeableCompExecutionContext(context_stack.Context):
  """Runs computations split into `MergeableCompForm` (module docstring)."""

  def __init__(self,
               async_contexts: Sequence[context_stack.Context],
               compiler_fn: Optional[Callable[[Any], MergeableCompForm]] = None,
               num_subrounds: Optional[int] = None):
    """Creates the context.

    Args:
      async_contexts: The contexts subrounds run on (asynchronous ones, as
        in TFF, or synchronous ones).
      compiler_fn: Turns a computation into a `MergeableCompForm`; without
        it, only forms can be invoked.
      num_subrounds: How many parts the clients are split into; default one
        per context.

    Raises:
      TypeError: if a context is not a context or `num_subrounds` not a
        positive int.
    """
    contexts = list(async_contexts)
    if not contexts or not all(
        isinstance(c, context_stack.Context) for c in contexts):
      raise TypeError(f'Expected a non-empty sequence of execution contexts, '
                      f'found {async_contexts!r}.')
    if num_subrounds is not None and (
        not isinstance(num_subrounds, int) or isinstance(num_subrounds, bool)
        or num_subrounds < 1):
      raise TypeError(f'Expected num_subrounds to be a positive int or None, '
                      f'found {num_subrounds!r}.')
    self._contexts = contexts
    self._compiler_fn = compiler_fn
    self._num_subrounds = num_subrounds or len(contexts)

  def invoke(self, comp: Any, arg: Any) -> Any:
    """Runs `comp` (a computation or a form) on `arg`, split in subrounds.

    Raises:
      TypeError: if `comp` is not a `MergeableCompForm` and there is no
        compiler, or is not a computation.
      ValueError: as the compiler raises for computations it cannot split.
    """
    form = comp
    if not isinstance(form, MergeableCompForm):
      if self._compiler_fn is None:
        raise TypeError(f'Expected a MergeableCompForm (this context has no '
                        f'compiler), found {type(comp).__name__}.')
      form = self._compiler_fn(comp)
    parameter = form.up_to_merge.type_signature.parameter
    num_clients = (None if parameter is None else
                   _client_count(arg, parameter))
    if num_clients is None or num_clients == 0:
      subround_args = [arg]
    else:
      subround_args = [
          _restrict(arg, parameter, r.start, r.stop)
          for r in _bounds(num_clients, self._num_subrounds)]
    partials = _run([
        self._contexts[i % len(self._contexts)].invoke(form.up_to_merge, a)
        for i, a in enumerate(subround_args)])
    merged = partials[0]
    for partial in partials[1:]:
      [merged] = _run([self._contexts[0].invoke(
          form.merge, structure.Struct([(None, merged), (None, partial)]))])
    after_arg = (merged if parameter is None else
                 structure.Struct([(None, arg), (None, merged)]))
    [result] = _run([self._contexts[0].invoke(form.after_merge, after_arg)])
    return result

