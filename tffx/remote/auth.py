"""Credentials of the worker protocol: the shared token and TLS.

    worker                                     controller
    TokenChecker(token).check(metadata)  <---  token_metadata(token)
    server_credentials(cert, key, ca)    <---  channel_credentials(ca, ...)

A worker configured with a token refuses every call that does not carry it
(`authorization: Bearer <token>` metadata), compared in constant time. With
TLS, the worker proves itself with its certificate; given a CA, it also
demands a client certificate signed by that CA, and the TLS handshake fails
for a client without one, so no call is even made. The token travels in
clear text without TLS: use TLS on anything but loopback.

This module reads credential files; it opens no connection.
"""

import dataclasses
import hmac
import os
from typing import Optional, Sequence, Tuple

import grpc

from tffx.remote import wire

_BEARER = 'Bearer '


def read_token_file(path: str) -> str:
  """Returns the token in `path`, without surrounding whitespace.

  Raises:
    ValueError: if the file is empty or holds more than one line.
  """
  with open(path, encoding='utf-8') as f:
    token = f.read().strip()
  if not token or '\n' in token:
    raise ValueError(
        f'Expected the auth token file {path} to hold one non-empty line, '
        f'found {"nothing" if not token else "several lines"}.')
  return token


def token_metadata(token: Optional[str]) -> Tuple[Tuple[str, str], ...]:
  """The call metadata that carries `token` (none for no token)."""
  if token is None:
    return ()
  return ((wire.AUTH_METADATA_KEY, _BEARER + token),)


class TokenChecker:
  """Checks the token of incoming calls; accepts everything without a token."""

  def __init__(self, token: Optional[str]):
    self._expected = None if token is None else (_BEARER + token).encode()

  @property
  def enabled(self) -> bool:
    return self._expected is not None

  def check(self, metadata: Sequence[Tuple[str, str]]) -> bool:
    """True if the metadata carries the token (or no token is needed)."""
    if self._expected is None:
      return True
    values = [v for k, v in metadata or () if k == wire.AUTH_METADATA_KEY]
    if len(values) != 1 or not isinstance(values[0], str):
      return False
    return hmac.compare_digest(values[0].encode(), self._expected)


@dataclasses.dataclass(frozen=True)
class TlsFiles:
  """Paths of PEM files for TLS.

  On a worker: `cert` and `key` are its own, `ca` (optional) signs the
  client certificates it accepts. On a controller: `ca` signs the workers'
  certificates, `cert` and `key` (optional) are its client certificate.
  """
  cert: Optional[str] = None
  key: Optional[str] = None
  ca: Optional[str] = None

  def __post_init__(self):
    if (self.cert is None) != (self.key is None):
      raise ValueError(
          f'Expected a TLS certificate and its key together, found cert='
          f'{self.cert!r} and key={self.key!r}.')
    for label, path in (('cert', self.cert), ('key', self.key),
                        ('ca', self.ca)):
      if path is not None and not os.path.isfile(path):
        raise ValueError(f'The TLS {label} file {path!r} does not exist.')


def _read(path: Optional[str]) -> Optional[bytes]:
  if path is None:
    return None
  with open(path, 'rb') as f:
    return f.read()


def server_credentials(files: TlsFiles) -> grpc.ServerCredentials:
  """A worker's TLS credentials; client certificates are required iff `ca`."""
  if files.cert is None:
    raise ValueError(
        'Expected a TLS certificate and key for the worker, found none. '
        'Tip: pass --tls_cert and --tls_key.')
  return grpc.ssl_server_credentials(
      [(_read(files.key), _read(files.cert))],
      root_certificates=_read(files.ca),
      require_client_auth=files.ca is not None)


def channel_credentials(files: TlsFiles) -> grpc.ChannelCredentials:
  """A controller's TLS credentials: trusted CA and optional client cert."""
  return grpc.ssl_channel_credentials(
      root_certificates=_read(files.ca),
      private_key=_read(files.key),
      certificate_chain=_read(files.cert))
