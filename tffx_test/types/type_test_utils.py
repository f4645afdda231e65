"""Example Python containers shared by the type tests.

One of each kind of container tffx recognizes by its fields: a namedtuple
(`Point`), a dataclass (`Pair`) and a class shaped like one attrs decorates
(`AttrsLike`, without depending on attrs). Containers only one test file
needs stay in that file.
"""

import collections
import dataclasses

Point = collections.namedtuple('Point', ['x', 'y'])


@dataclasses.dataclass
class Pair:
  a: object
  b: object


class _Field:

  def __init__(self, name):
    self.name = name


class AttrsLike:
  """A class shaped like one attrs decorates, without depending on attrs."""

  __attrs_attrs__ = (_Field('a'), _Field('b'))

  def __init__(self, a, b):
    self.a = a
    self.b = b

  def __eq__(self, other):
    return type(other) is AttrsLike and (self.a, self.b) == (other.a, other.b)
