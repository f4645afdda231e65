"""`Interned`: the metaclass that makes tffx types interned values.

Constructing the same type twice returns the same object, so equality of
types is identity and types are cheap dictionary keys. This module knows
nothing about the type classes themselves.
"""

import threading


class Interned(type):
  """Metaclass that returns one shared instance per distinct normalized key.

  Each class turns its constructor arguments into a canonical key with
  `_normalize`; the instance stores that key as `_key`.
  """

  def __init__(cls, name, bases, namespace):
    super().__init__(name, bases, namespace)
    cls._instances = {}
    cls._lock = threading.Lock()

  def __call__(cls, *args, **kwargs):
    key = cls._normalize(*args, **kwargs)
    instance = cls._instances.get(key)
    if instance is None:
      with cls._lock:
        instance = cls._instances.get(key)
        if instance is None:
          instance = cls.__new__(cls)
          object.__setattr__(instance, '_key', key)
          instance._finish_init()
          cls._instances[key] = instance
    return instance
