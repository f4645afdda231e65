"""Words the errors of the `check_*` relations between two types.

    Expected <a=int32,b=<int32,int32>> to be assignable from
    <a=int32,b=<int32,float32>>. First difference at ['b'][1]: int32 vs float32.

A message names both types, then walks down to the innermost pair of parts
that are not related (struct elements, federated members, sequence elements)
and ends with a note from that pair (different names, placements, Python
containers, a `Tip:`). The walk uses two hooks every `Type` has:
`_aligned_parts(other)` and `_mismatch_note(other)`, so this module imports no
type class. It decides nothing: the relations themselves live on the types.

`type_mismatch_error_message` words the same mismatch the way TFF's
`tff.types.type_mismatch_error_message` does, for code that expects TFF's text.
"""

import difflib
import enum
from typing import Any, Callable, Tuple

# A relation between an expected (target) type and a given (source) type.
Relation = Callable[[Any, Any], bool]


def assignable_message(target, source) -> str:
  """The message for `target.check_assignable_from(source)`."""
  return _message(target, source, 'to be assignable from',
                  lambda t, s: t.is_assignable_from(s))


def equivalent_message(target, source) -> str:
  """The message for `target.check_equivalent_to(source)`."""
  return _message(target, source, 'to be equivalent to',
                  lambda t, s: t.is_equivalent_to(s))


def identical_message(target, source) -> str:
  """The message for `target.check_identical_to(source)`."""
  return _message(target, source, 'to be identical to',
                  lambda t, s: t.is_identical_to(s))


def first_difference(target, source, related: Relation) -> Tuple[str, Any, Any]:
  """Returns `(path, target part, source part)` of the innermost unrelated pair.

  The path is empty when the difference is at the top level, else like
  `['b'][1]` (struct elements by name or index), `.member` or `.element`.
  """
  path = ''
  while True:
    parts = target._aligned_parts(source)
    step = next(((label, t, s) for label, t, s in parts or ()
                 if not related(t, s)), None)
    if step is None:
      return path, target, source
    label, target, source = step
    path += label


def _message(target, source, relation: str, related: Relation) -> str:
  message = f'Expected {target} {relation} {source}.'
  path, t, s = first_difference(target, source, related)
  if path:
    message += f' First difference at {path.lstrip(".")}: {t} vs {s}.'
  note = t._mismatch_note(s)
  if note:
    message += f' {note}'
  return message


class TypeRelation(enum.Enum):
  """The relations between two types, as named in TFF's messages."""
  EQUIVALENT = 'equivalent'
  IDENTICAL = 'identical'
  ASSIGNABLE = 'assignable'


# Longer one-line messages are laid out one part a line instead.
_MAX_LINE_LENGTH = 80


def type_mismatch_error_message(first, second, relation: TypeRelation,
                                second_is_expected: bool = False) -> str:
  """Returns TFF's message for `first` not being in `relation` to `second`.

      Type `int32` is not equivalent to type `bool`

  Types that print the same (e.g. structs differing only in their Python
  containers) are shown by `repr`; long types in their formatted form, one
  part a line, followed by a unified diff of the two.
  """
  first_text = first.compact_representation()
  second_text = second.compact_representation()
  diff = ''
  if first_text == second_text:
    first_text, second_text = repr(first), repr(second)
  elif max(len(first_text), len(second_text)) > _MAX_LINE_LENGTH:
    first_text = first.formatted_representation()
    second_text = second.formatted_representation()
    diff = '\n'.join(difflib.unified_diff(
        first_text.split('\n'), second_text.split('\n'), lineterm=''))
  expected = 'expected ' if second_is_expected else ''
  parts = ['Type', f'`{first_text}`',
           f'is not {relation.value} to {expected}type', f'`{second_text}`']
  if diff:
    parts += ['\nDiff:', diff]
  one_line = ' '.join(parts)
  if len(one_line) > _MAX_LINE_LENGTH or '\n' in one_line:
    return '\n'.join(parts)
  return one_line
