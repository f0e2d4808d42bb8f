"""A lean keep-alive HTTP/1.1 transport for httpx, used by the control plane's dispatch clients
(``PlatformService._client``: chat, embeddings and model listing through the active binding).

Why: profiling ``POST /v1/models/inference`` on one worker showed httpcore's pool (a
``select()`` liveness probe of every pooled connection on every request, anyio stream wrappers, h11
events) taking about 45 % of the worker's CPU per request. This transport keeps httpx's client API
(request building, auth headers, response decoding, the AI layer's error mapping) and replaces only
the wire: pre-joined request bytes on an ``asyncio`` stream, a small status/header parser,
``Content-Length`` and chunked bodies, idle connections reused last-in first-out.

Semantics kept from httpcore: ``connect``/``read``/``write`` timeouts from the request's ``timeout``
extension (httpx maps them to ``ConnectTimeout``/``ReadTimeout``), TLS for https (httpx's default
context, certifi roots), a request that fails on a *reused* connection before any byte of the answer
arrived is sent again once on a new connection (the server closed an idle keep-alive connection),
``Connection: close`` honoured. Bodies are streamed, so SSE answers still arrive chunk by chunk.
No HTTP/2, no proxies (the dispatch clients use ``trust_env=False``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpx

_MAX_HEAD = 64 * 1024
_READ_CHUNK = 64 * 1024


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()

    @property
    def usable(self) -> bool:
        return not self.writer.is_closing() and not self.reader.at_eof()


class _Stale(Exception):
    """The connection failed before the first byte of the answer (safe to retry on a new one)."""


def _timeout(request: httpx.Request, name: str) -> float | None:
    return (request.extensions.get("timeout") or {}).get(name)


class LeanTransport(httpx.AsyncBaseTransport):
    """One pool of idle keep-alive connections per (scheme, host, port), shared by every client
    that is given this transport. ``aclose()`` of a client leaves the pool alone (clients are
    rebuilt when a provider changes); :meth:`close_all` empties it."""

    def __init__(self, max_idle_per_host: int = 256) -> None:
        self._idle: dict[tuple[str, str, int], list[_Conn]] = {}
        self._max_idle = max_idle_per_host
        self._ssl: ssl.SSLContext | None = None

    async def aclose(self) -> None:
        pass

    async def close_all(self) -> None:
        for conns in self._idle.values():
            for c in conns:
                c.close()
        self._idle.clear()

    def _release(self, key: tuple[str, str, int], conn: _Conn) -> None:
        pool = self._idle.setdefault(key, [])
        if conn.usable and len(pool) < self._max_idle:
            pool.append(conn)
        else:
            conn.close()

    async def _open(self, request: httpx.Request, key: tuple[str, str, int]) -> _Conn:
        scheme, host, port = key
        tls = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()
            tls = self._ssl
        try:
            async with asyncio.timeout(_timeout(request, "connect")):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=tls, server_hostname=host if tls else None, limit=_MAX_HEAD
                )
        except TimeoutError:
            raise httpx.ConnectTimeout(f"connect to {host}:{port} timed out", request=request) from None
        except OSError as exc:
            raise httpx.ConnectError(f"{type(exc).__name__}: {exc}", request=request) from None
        return _Conn(reader, writer)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported scheme {scheme!r}", request=request)
        key = (scheme, url.host, url.port or (443 if scheme == "https" else 80))
        body = await request.aread()
        lines = [f"{request.method} {url.raw_path.decode('ascii')} HTTP/1.1"]
        lines += [f"{k.decode('latin-1')}: {v.decode('latin-1')}" for k, v in request.headers.raw]
        if body and "content-length" not in request.headers:
            lines.append(f"Content-Length: {len(body)}")
        wire = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
        pool = self._idle.get(key)
        for _attempt in range(2):
            reused = False
            conn: _Conn | None = None
            while pool:
                c = pool.pop()
                if c.usable:
                    conn, reused = c, True
                    break
                c.close()
            if conn is None:
                conn = await self._open(request, key)
            try:
                status, headers = await self._exchange(request, conn, wire, reused)
            except _Stale:
                conn.close()
                pool = self._idle.get(key)
                continue
            except BaseException:
                conn.close()
                raise
            return httpx.Response(
                status,
                headers=headers,
                stream=_Body(self, key, conn, headers, request),
                extensions={"http_version": b"HTTP/1.1"},
            )
        raise httpx.RemoteProtocolError("the server closed the connection twice", request=request)

    async def _exchange(
        self, request: httpx.Request, conn: _Conn, wire: bytes, reused: bool
    ) -> tuple[int, list[tuple[bytes, bytes]]]:
        try:
            conn.writer.write(wire)
            async with asyncio.timeout(_timeout(request, "write")):
                await conn.writer.drain()
            async with asyncio.timeout(_timeout(request, "read")):
                head = await conn.reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            raise httpx.ReadTimeout("timed out waiting for the response", request=request) from None
        except asyncio.IncompleteReadError as exc:
            if reused and not exc.partial:
                raise _Stale() from None
            raise httpx.RemoteProtocolError("the server closed the connection", request=request) from None
        except asyncio.LimitOverrunError:
            raise httpx.RemoteProtocolError("response head too large", request=request) from None
        except (ConnectionError, OSError) as exc:
            if reused:
                raise _Stale() from None
            raise httpx.ReadError(f"{type(exc).__name__}: {exc}", request=request) from None
        status_line, *rest = head[:-4].split(b"\r\n")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise httpx.RemoteProtocolError(f"bad status line {status_line[:80]!r}", request=request)
        headers = []
        for line in rest:
            name, sep, value = line.partition(b":")
            if not sep:
                raise httpx.RemoteProtocolError("bad header line", request=request)
            headers.append((name.strip(), value.strip()))
        return int(parts[1]), headers


class _Body(httpx.AsyncByteStream):
    def __init__(
        self,
        transport: LeanTransport,
        key: tuple[str, str, int],
        conn: _Conn,
        headers: list[tuple[bytes, bytes]],
        request: httpx.Request,
    ) -> None:
        self._t, self._key, self._conn, self._request = transport, key, conn, request
        self._length: int | None = None
        self._chunked = False
        self._keep = True
        for name, value in headers:
            n = name.lower()
            if n == b"content-length":
                self._length = int(value)
            elif n == b"transfer-encoding" and b"chunked" in value.lower():
                self._chunked = True
            elif n == b"connection" and value.lower() == b"close":
                self._keep = False
        if request.method == "HEAD":
            self._length = 0
        if self._length is None and not self._chunked:
            self._keep = False  # the body runs to the end of the connection
        self._done = False

    async def _read(self, coro: Any) -> Any:
        try:
            async with asyncio.timeout(_timeout(self._request, "read")):
                return await coro
        except TimeoutError:
            raise httpx.ReadTimeout("timed out reading the response body", request=self._request) from None
        except asyncio.IncompleteReadError:
            raise httpx.RemoteProtocolError(
                "the response body was cut short", request=self._request
            ) from None
        except (ConnectionError, OSError) as exc:
            raise httpx.ReadError(f"{type(exc).__name__}: {exc}", request=self._request) from None

    async def __aiter__(self) -> AsyncIterator[bytes]:
        r = self._conn.reader
        if self._chunked:
            while True:
                size_line = await self._read(r.readuntil(b"\r\n"))
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while (await self._read(r.readuntil(b"\r\n"))) != b"\r\n":  # trailers
                        pass
                    break
                data = await self._read(r.readexactly(size + 2))
                yield data[:-2]
        elif self._length is not None:
            left = self._length
            while left:
                data = await self._read(r.readexactly(min(left, _READ_CHUNK)))
                left -= len(data)
                yield data
        else:
            while data := await self._read(r.read(_READ_CHUNK)):
                yield data
        self._done = True

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None  # type: ignore[assignment]
        if conn is None:
            return
        if self._done and self._keep:
            self._t._release(self._key, conn)
        else:
            conn.close()
