"""The framing of the worker protocol: method names, chunks and limits.

    controller                                              worker
    WorkerRequest -> bytes -> to_chunks -> Execute stream -> assemble -> bytes
    bytes <- assemble <- Execute stream <- to_chunks <- bytes <- WorkerResponse

A message travels as a stream of `remote_pb2.Chunk`s, the first of which
says the message's total size, so a message may exceed gRPC's per-message
limit, and a receiver refuses an oversized message from its first chunk.
Both sides exchange raw bytes with gRPC (no generated stubs, no
serializers in gRPC's hands), so every parse error is ours to report.

This module neither opens connections (`transport`) nor serves
(`worker_service`).
"""

from typing import Iterable, Iterator

from google.protobuf import message as message_lib

from tffx.proto import remote_pb2
from tffx.remote import errors

SERVICE_NAME = 'tffx.remote.Worker'
HEALTH_METHOD = 'Health'
EXECUTE_METHOD = 'Execute'
# Metadata key of the shared secret, as "Bearer <token>".
AUTH_METADATA_KEY = 'authorization'
MB = 1 << 20
DEFAULT_MAX_MESSAGE_MB = 4
# A chunk's data plus its framing must fit in one gRPC message; this leaves
# room for the framing and caps chunks so a stream interleaves well.
_FRAMING_BYTES = 1024
_MAX_CHUNK_BYTES = 4 * MB


def method_path(method: str) -> str:
  """The gRPC path of a worker method, e.g. '/tffx.remote.Worker/Execute'."""
  return f'/{SERVICE_NAME}/{method}'


def chunk_size(max_message_bytes: int) -> int:
  """Data bytes per chunk, for a gRPC message limit of `max_message_bytes`."""
  return max(1, min(max_message_bytes - _FRAMING_BYTES, _MAX_CHUNK_BYTES))


def to_chunks(data: bytes, size: int) -> Iterator[bytes]:
  """Yields the serialized chunks of `data`, at most `size` data bytes each.

  An empty message still travels as one (empty) chunk.
  """
  view = memoryview(data)
  total = len(data)
  yield remote_pb2.Chunk(data=bytes(view[:size]),
                         total_size=total).SerializeToString()
  for start in range(size, total, size):
    yield remote_pb2.Chunk(data=bytes(view[start:start + size])
                          ).SerializeToString()


def assemble(chunks: Iterable[bytes], max_bytes: int,
             what: str) -> bytearray:
  """Joins serialized chunks back into the bytes of one message.

  Args:
    chunks: The serialized `Chunk`s, in order.
    max_bytes: The largest message accepted.
    what: What the message is, for errors ('the request').

  Raises:
    MessageTooLargeError: as soon as the first chunk announces, or the
      chunks add up to, more than `max_bytes`.
    MalformedMessageError: if a chunk does not parse, the stream is empty,
      or the chunks do not add up to the announced size.
  """
  buffer = None
  received = 0
  total = None
  for i, raw in enumerate(chunks):
    chunk = parse(remote_pb2.Chunk, raw, f'chunk {i} of {what}')
    if total is None:
      total = chunk.total_size
      if total < 0:
        raise errors.MalformedMessageError(
            f'The first chunk of {what} announces a negative size, {total}.')
      _check_size(total, max_bytes, what)
      # One growing buffer: a message is held once while it arrives (not
      # in chunks and again joined), and only as far as it has arrived.
      buffer = bytearray()
    elif chunk.total_size:
      raise errors.MalformedMessageError(
          f'Chunk {i} of {what} announces a total size; only the first may.')
    if received + len(chunk.data) > total:
      _check_size(received + len(chunk.data), max_bytes, what)
      raise errors.MalformedMessageError(
          f'The chunks of {what} hold more than the {total} bytes the first '
          f'one announced.')
    buffer += chunk.data
    received += len(chunk.data)
  if total is None:
    raise errors.MalformedMessageError(f'{what.capitalize()} has no chunks.')
  if received != total:
    raise errors.MalformedMessageError(
        f'{what.capitalize()} ended after {received} of the {total} bytes '
        f'its first chunk announced.')
  return buffer


def _check_size(size: int, max_bytes: int, what: str) -> None:
  if size > max_bytes:
    raise errors.MessageTooLargeError(
        f'{what.capitalize()} has {size} bytes ({size / MB:.1f} MB); the '
        f'limit is {max_bytes} bytes ({max_bytes / MB:.1f} MB). Tip: raise '
        f'the worker\'s --max_request_mb, or send fewer clients per worker.')


def parse(message_class, data: bytes, what: str):
  """Parses `data` as a `message_class` or raises `MalformedMessageError`."""
  try:
    return message_class.FromString(data)
  except message_lib.DecodeError as e:
    raise errors.MalformedMessageError(
        f'Cannot parse {what} ({len(data)} bytes) as a '
        f'{message_class.DESCRIPTOR.full_name}: {e}.') from None
