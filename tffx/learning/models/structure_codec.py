"""Nested structures of tensors as JSON, so a SavedModel can keep their shape.

    encode(structure)       -> JSON-able description (containers, leaves)
    flatten(structure)      -> [tensor leaves], in container order
    pack(description, flat) -> the structure again, with `flat` as leaves

The functions of a saved model take and return flat lists of tensors (a
restored `tf.function` matches its arguments by structure, and the
SavedModel structure coder does not keep the order of an `OrderedDict`);
the descriptions, saved next to them as a JSON string, rebuild the
containers. Containers: `OrderedDict` (in its order), `dict` (in sorted
key order, as `tf.nest` takes it, so a batch matches its spec whatever
the order its keys were inserted in),
namedtuples (rebuilt as namedtuples of the same name and fields, or as the
given known class), tuples and lists. Leaves: tensors (and anything else
that is not a container, e.g. arrays), `None` (kept, and not flattened) and
`tf.TensorSpec`s (kept in the description itself). This module does not save
anything.
"""

import collections
from typing import Any, Dict, Iterator, List, Mapping, Optional, Type

import tensorflow as tf

_NONE = 'none'
_LEAF = 'leaf'
_SPEC = 'spec'


def _is_namedtuple(value: Any) -> bool:
  return isinstance(value, tuple) and hasattr(value, '_fields')


def _items(mapping: Mapping[Any, Any]) -> List[Any]:
  if isinstance(mapping, collections.OrderedDict):
    return list(mapping.items())
  return sorted(mapping.items(), key=lambda item: item[0])


def encode(structure: Any) -> Any:
  """The JSON-able description of a nested structure (see module docstring)."""
  if structure is None:
    return {'kind': _NONE}
  if isinstance(structure, tf.TensorSpec):
    return {'kind': _SPEC, 'shape': structure.shape.as_list()
            if structure.shape.rank is not None else None,
            'dtype': structure.dtype.name, 'name': structure.name}
  if isinstance(structure, Mapping):
    return {'kind': 'odict' if isinstance(structure, collections.OrderedDict)
            else 'dict',
            'items': [[k, encode(v)] for k, v in _items(structure)]}
  if _is_namedtuple(structure):
    return {'kind': 'namedtuple', 'name': type(structure).__name__,
            'items': [[f, encode(getattr(structure, f))]
                      for f in structure._fields]}
  if isinstance(structure, (tuple, list)):
    return {'kind': type(structure).__name__ if type(structure) in (
        tuple, list) else 'list', 'items': [encode(v) for v in structure]}
  return {'kind': _LEAF}


def flatten(structure: Any) -> List[Any]:
  """The tensor leaves of `structure` in the order `encode` lists them."""
  if structure is None or isinstance(structure, tf.TensorSpec):
    return []
  if isinstance(structure, Mapping):
    return [leaf for _, v in _items(structure) for leaf in flatten(v)]
  if isinstance(structure, (tuple, list)):
    return [leaf for v in structure for leaf in flatten(v)]
  return [structure]


def _pack(description: Any, leaves: Iterator[Any],
          known: Dict[str, Type[Any]]) -> Any:
  kind = description['kind']
  if kind == _NONE:
    return None
  if kind == _LEAF:
    return next(leaves)
  if kind == _SPEC:
    return tf.TensorSpec(description['shape'], tf.as_dtype(description['dtype']),
                         name=description['name'])
  if kind in ('odict', 'dict'):
    items = [(k, _pack(v, leaves, known)) for k, v in description['items']]
    return collections.OrderedDict(items) if kind == 'odict' else dict(items)
  if kind == 'namedtuple':
    names = [f for f, _ in description['items']]
    values = [_pack(v, leaves, known) for _, v in description['items']]
    cls = known.get(description['name'])
    if cls is None or list(getattr(cls, '_fields', ())) != names:
      cls = collections.namedtuple(description['name'], names)
    return cls(*values)
  values = [_pack(v, leaves, known) for v in description['items']]
  return tuple(values) if kind == 'tuple' else values


def pack(description: Any, flat: Any,
         known: Optional[Dict[str, Type[Any]]] = None) -> Any:
  """The structure `description` encodes, with the leaves `flat` in order.

  Args:
    description: What `encode` returned (possibly through JSON).
    flat: The leaves, as `flatten` lists them.
    known: Namedtuple classes by name, used where a namedtuple of that name
      and those fields was encoded.

  Raises:
    ValueError: if `flat` has another number of leaves.
  """
  flat = list(flat)
  leaves = iter(flat)
  try:
    structure = _pack(description, leaves, known or {})
  except StopIteration:
    structure = leaves = None
  if leaves is None or next(leaves, leaves) is not leaves:
    raise ValueError(f'Expected as many leaves as the structure has, found '
                     f'{len(flat)}.')
  return structure


def specs(structure: Any) -> List[tf.TensorSpec]:
  """The `tf.TensorSpec`s of a structure of specs, in `flatten`'s order."""
  if isinstance(structure, tf.TensorSpec):
    return [structure]
  if isinstance(structure, Mapping):
    return [s for _, v in _items(structure) for s in specs(v)]
  if isinstance(structure, (tuple, list)):
    return [s for v in structure for s in specs(v)]
  return []
