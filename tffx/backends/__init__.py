"""Backends: functions that create and install execution contexts."""

from tffx.backends import native
from tffx.backends import reference
from tffx.backends import remote
from tffx.backends import mapreduce
