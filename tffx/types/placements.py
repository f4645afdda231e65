"""Placement literals: where a federated value lives.

A placement is a singleton naming a group of participants. tffx knows two:
`CLIENTS` (many participants, one member value each) and `SERVER` (one
participant). This module defines only the literals and their lookup by uri;
it knows nothing about types or executors.
"""

from typing import Dict


class PlacementLiteral:
  """A named placement such as `CLIENTS` or `SERVER`.

  Instances are singletons compared by identity; `uri` is the stable string
  used in serialized forms.
  """

  __slots__ = ('_name', '_uri', '_default_all_equal', '_description')

  def __init__(self, name: str, uri: str, default_all_equal: bool,
               description: str):
    object.__setattr__(self, '_name', name)
    object.__setattr__(self, '_uri', uri)
    object.__setattr__(self, '_default_all_equal', default_all_equal)
    object.__setattr__(self, '_description', description)

  def __setattr__(self, name, value):
    raise AttributeError('Placement literals are immutable.')

  def __delattr__(self, name):
    raise AttributeError('Placement literals are immutable.')

  @property
  def name(self) -> str:
    return self._name

  @property
  def uri(self) -> str:
    return self._uri

  @property
  def default_all_equal(self) -> bool:
    """Whether a value placed here is all-equal unless told otherwise."""
    return self._default_all_equal

  @property
  def description(self) -> str:
    return self._description

  def __str__(self) -> str:
    return self._name

  def __repr__(self) -> str:
    return f'PlacementLiteral({self._uri!r})'

  def __reduce__(self):
    # Pickling and copying keep the singleton.
    return (uri_to_placement, (self._uri,))


CLIENTS = PlacementLiteral(
    'CLIENTS', 'clients', default_all_equal=False,
    description='The collective of all client devices.')
SERVER = PlacementLiteral(
    'SERVER', 'server', default_all_equal=True,
    description='The single top-level central coordinator.')

_BY_URI: Dict[str, PlacementLiteral] = {p.uri: p for p in (CLIENTS, SERVER)}


def uri_to_placement(uri: str) -> PlacementLiteral:
  """Returns the placement literal whose uri is `uri`.

  Raises:
    ValueError: if no placement has that uri.
  """
  try:
    return _BY_URI[uri]
  except KeyError:
    raise ValueError(
        f'Unknown placement uri {uri!r}; expected one of {sorted(_BY_URI)}.'
    ) from None
