"""Uploaded files are scanned for known malware by a ClamAV daemon before anything keeps them
(OWASP ASVS 5.0 V5.4.3).

``RIDGELINE_CLAMD_URL`` turns it on: ``unix:///run/clamav/clamd.ctl`` or ``tcp://host:3310``. Unset,
nothing is scanned: a scanner is only as good as its signature database, which the operator keeps
current (``freshclam``); the default deployment has none. Once it is set the check fails closed:

- a file the daemon flags is refused, 422 ``file_infected`` naming the signature;
- a file larger than the daemon's ``StreamMaxLength`` is refused, 413 ``file_not_scannable``;
- a daemon that cannot be reached, times out or reports an error refuses the upload, 503
  ``scanner_unavailable`` (nothing unscanned is stored).

The file is streamed to clamd with ``INSTREAM`` (clamav-client), on a worker thread. Each family that
takes uploads appends :data:`SCAN_CODES` to its reason-code catalogue and calls :meth:`Scanner.check`
before it stores anything.
"""

from __future__ import annotations

import asyncio
import io
import logging
import struct
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from clamav_client.clamd import BufferTooLongError, ClamdError, ClamdNetworkSocket, ClamdUnixSocket

from ridgeline.platform.problems import Catalogue

log = logging.getLogger("ridgeline.scanning")
CHUNK_BYTES = 64 * 1024  # one INSTREAM chunk (clamd's StreamMaxLength bounds the whole stream)

#: the reason codes a scanned upload can end with; appended to each uploading family's catalogue
SCAN_CODES: tuple[tuple[str, int, str], ...] = (
    ("file_infected", 422, "The file matches the malware signature {signature}; it was not stored."),
    ("file_not_scannable", 413, "The file is larger than the malware scanner accepts; it was not stored."),
    ("scanner_unavailable", 503, "The malware scanner could not check the file ({why}); it was not stored."),
)


class ScannerError(Exception):
    """The daemon could not give a verdict."""


class Scanner:
    """A ClamAV daemon reached at ``url`` (``unix://PATH`` or ``tcp://HOST:PORT``)."""

    def __init__(self, url: str, timeout_s: float = 30.0) -> None:
        parts = urlsplit(url)
        if parts.scheme == "unix" and (parts.path or parts.netloc):
            self._path: str | None = parts.netloc + parts.path
            self._address: tuple[str, int] | None = None
        elif parts.scheme == "tcp" and parts.hostname:
            self._path = None
            self._address = (parts.hostname, parts.port or 3310)
        else:
            raise ValueError(f"a clamd URL is unix:///path/to/socket or tcp://host:port, got {url!r}")
        self.url = url
        self.timeout_s = timeout_s

    def _client(self) -> ClamdNetworkSocket:
        if self._path is not None:
            return ClamdUnixSocket(self._path, timeout=self.timeout_s)  # type: ignore[arg-type]
        assert self._address is not None
        return ClamdNetworkSocket(*self._address, timeout=self.timeout_s)

    def scan(self, data: bytes | Path) -> str | None:
        """The name of the signature the content matches, or None when it is clean (blocking)."""
        try:
            if isinstance(data, Path):
                with data.open("rb") as fh:
                    return self._verdict(fh)
            return self._verdict(io.BytesIO(data))
        except BufferTooLongError:
            raise
        except (ClamdError, OSError) as exc:
            raise ScannerError(str(exc)[:200] or type(exc).__name__) from exc

    def _verdict(self, stream: BinaryIO) -> str | None:
        # clamav-client's instream, with two changes: 64 KiB chunks instead of 1 KiB, and the answer
        # is still read when clamd closes the stream early (over its StreamMaxLength it answers, then
        # hangs up, so the send fails with a broken pipe before the answer would be read).
        client = self._client()
        try:
            client._init_socket()
            client._send_command("INSTREAM")
            try:
                while chunk := stream.read(CHUNK_BYTES):
                    client.clamd_socket.sendall(struct.pack("!L", len(chunk)) + chunk)
                client.clamd_socket.sendall(struct.pack("!L", 0))
            except (BrokenPipeError, ConnectionResetError):
                pass  # clamd stopped reading: its answer says why
            answer = client._recv_response()
        finally:
            client._close_socket()
        if answer == "INSTREAM size limit exceeded. ERROR":
            raise BufferTooLongError(answer)
        if not answer:
            raise ScannerError("clamd closed the connection without an answer")
        _name, signature, status = client._parse_response(answer)
        if status == "OK":
            return None
        if status == "FOUND":
            return str(signature)
        raise ScannerError(f"clamd answered {status}: {signature}"[:200])

    async def check(self, data: bytes | Path, catalogue: Catalogue) -> None:
        """Raise the family's ``file_infected`` / ``file_not_scannable`` / ``scanner_unavailable``
        error unless the daemon says the content is clean."""
        try:
            signature = await asyncio.to_thread(self.scan, data)
        except BufferTooLongError:
            raise catalogue.error("file_not_scannable") from None
        except ScannerError as exc:
            log.warning("malware scan failed: %s", exc)
            raise catalogue.error("scanner_unavailable", why=str(exc)) from None
        if signature is not None:
            log.warning("upload refused: malware signature %s", signature)
            raise catalogue.error("file_infected", signature=signature)


async def check_upload(scanner: Scanner | None, data: bytes | Path, catalogue: Catalogue) -> None:
    """:meth:`Scanner.check` when a scanner is configured; nothing otherwise."""
    if scanner is not None:
        await scanner.check(data, catalogue)
