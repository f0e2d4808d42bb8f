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
import zlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import httpx
import msgspec

from ridgeline.ai.providers import base as _base
from ridgeline.ai.providers.base import log, parse_retry_after, reason_for_status, upstream_message
from ridgeline.ai.providers.openai import OpenAICompatibleProvider

_MAX_HEAD = 64 * 1024
_READ_CHUNK = 64 * 1024
# The rest of an abandoned body (see _Body.aclose) is read only if it is short and already on its
# way: a stream the client left mid-answer is closed within this, so the upstream stops generating.
_DRAIN_S = 0.05
_DRAIN_MAX = 16 * 1024


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


Timeouts = dict[str, float | None]


def _timeouts(request: httpx.Request) -> Timeouts:
    return request.extensions.get("timeout") or {}


class LeanTransport(httpx.AsyncBaseTransport):
    """One pool of idle keep-alive connections per (scheme, host, port), shared by every client
    that is given this transport. ``aclose()`` of a client leaves the pool alone (clients are
    rebuilt when a provider changes); :meth:`close_all` empties it."""

    def __init__(self, max_idle_per_host: int = 256) -> None:
        self._idle: dict[tuple[str, str, int], list[_Conn]] = {}
        self._max_idle = max_idle_per_host
        self._ssl: ssl.SSLContext | None = None
        self._draining: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        pass

    def _drain_later(self, body: _Body, conn: _Conn) -> None:
        task = asyncio.get_running_loop().create_task(body.drain(conn))
        self._draining.add(task)
        task.add_done_callback(self._draining.discard)

    async def close_all(self) -> None:
        for task in list(self._draining):
            task.cancel()
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

    def _take(self, key: tuple[str, str, int]) -> _Conn | None:
        """The most recently used idle connection that still looks usable."""
        pool = self._idle.get(key)
        while pool:
            c = pool.pop()
            if c.usable:
                return c
            c.close()
        return None

    async def _open(self, timeouts: Timeouts, key: tuple[str, str, int], request: Any = None) -> _Conn:
        scheme, host, port = key
        tls = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()
            tls = self._ssl
        try:
            async with asyncio.timeout(timeouts.get("connect")):
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
        timeouts = _timeouts(request)
        conn, status, headers = await self._send_wire(key, wire, timeouts, request)
        return httpx.Response(
            status,
            headers=headers,
            stream=_Body(self, key, conn, headers, timeouts, request.method, request),
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def _send_wire(
        self, key: tuple[str, str, int], wire: bytes, timeouts: Timeouts, request: Any = None
    ) -> tuple[_Conn, int, list[tuple[bytes, bytes]]]:
        """Send ``wire`` and read the answer's head: on an idle connection, once more on a new one
        when a reused connection turns out closed before any byte of the answer."""
        for _attempt in range(2):
            conn = self._take(key)
            reused = conn is not None
            if conn is None:
                conn = await self._open(timeouts, key, request)
            try:
                status, headers = await self._exchange(timeouts, conn, wire, reused, request)
            except _Stale:
                conn.close()
                continue
            except BaseException:
                conn.close()
                raise
            return conn, status, headers
        raise httpx.RemoteProtocolError("the server closed the connection twice", request=request)

    async def fetch(
        self, key: tuple[str, str, int], wire: bytes, timeouts: Timeouts, method: str = "POST"
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """One whole exchange without httpx's request and response objects (the lean JSON path of
        :class:`LeanOpenAIProvider`): ``wire`` is the complete request; returns status, headers and
        the whole (decoded) body. Errors are httpx's transport exceptions, as from the transport."""
        conn, status, headers = await self._send_wire(key, wire, timeouts)
        body = _Body(self, key, conn, headers, timeouts, method, None)
        try:
            parts = [chunk async for chunk in body]
        finally:
            await body.aclose()
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        for name, value in headers:
            if name.lower() == b"content-encoding" and value.lower() in (b"gzip", b"deflate"):
                # never asked for (no Accept-Encoding is sent), but a server may compress anyway
                data = zlib.decompress(data, 47)  # 47: zlib or gzip header, detected
        return status, headers, data

    async def _exchange(
        self, timeouts: Timeouts, conn: _Conn, wire: bytes, reused: bool, request: Any = None
    ) -> tuple[int, list[tuple[bytes, bytes]]]:
        try:
            conn.writer.write(wire)
            async with asyncio.timeout(timeouts.get("write")):
                await conn.writer.drain()
            async with asyncio.timeout(timeouts.get("read")):
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
        timeouts: Timeouts,
        method: str,
        request: Any,
    ) -> None:
        self._t, self._key, self._conn, self._request = transport, key, conn, request
        self.headers = headers
        self._read_timeout = timeouts.get("read")
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
        if method == "HEAD":
            self._length = 0
        if self._length is None and not self._chunked:
            self._keep = False  # the body runs to the end of the connection
        self._done = False
        self._left: int | None = None
        self._between = False

    async def _read(self, coro: Any) -> Any:
        try:
            async with asyncio.timeout(self._read_timeout):
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
        # Resumable at a yield (see aclose): ``_left`` and ``_between`` carry the position.
        r = self._conn.reader
        if self._chunked:
            while True:
                self._between = False
                size_line = await self._read(r.readuntil(b"\r\n"))
                size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while (await self._read(r.readuntil(b"\r\n"))) != b"\r\n":  # trailers
                        pass
                    break
                data = await self._read(r.readexactly(size + 2))
                self._between = True
                yield data[:-2]
        elif self._length is not None:
            if self._left is None:
                self._left = self._length
            while self._left:
                self._between = False
                data = await self._read(r.readexactly(min(self._left, _READ_CHUNK)))
                self._left -= len(data)
                self._between = True
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
        elif self._keep and self._between:
            # Left between two pieces of a framed body: an SSE client stops at ``[DONE]`` with the
            # chunked terminator still to come. Read the rest in the background and keep the
            # connection, so the next stream does not pay a new connection before its first token.
            self._t._drain_later(self, conn)
        else:
            conn.close()

    async def drain(self, conn: _Conn) -> None:
        self._conn = conn
        self._read_timeout = _DRAIN_S
        n = 0
        try:
            async with asyncio.timeout(_DRAIN_S):
                async for chunk in self:
                    n += len(chunk)
                    if n > _DRAIN_MAX:
                        break
        except Exception:  # a slow or endless body (a stream left mid-answer) is not kept
            pass
        finally:
            self._conn = None  # type: ignore[assignment]
            if self._done:
                self._t._release(self._key, conn)
            else:
                conn.close()


class LeanOpenAIProvider(OpenAICompatibleProvider):
    """The AI layer's OpenAI-compatible provider with its JSON calls (chat, embeddings, model list)
    sent straight on a :class:`LeanTransport`: the request head is joined once per client, the body
    encoded by msgspec and the answer decoded by msgspec, with no httpx ``Request``/``Response``,
    URL merging, cookie jar or per-request log record in between (profiling the inference route put
    those at about 60 % of the dispatch's CPU). Retries, error reasons and secret scrubbing are the
    base provider's (:meth:`HTTPProvider._send`, repeated here over the lean exchange). Streams
    (``stream_chat``) are sent the same way and handed to the base provider's SSE reader as an
    httpx ``Response`` over the connection, so the first token is not held up by request building."""

    def __init__(
        self, base_url: str, api_key: str | None = None, *, transport: LeanTransport, **kw: Any
    ) -> None:
        super().__init__(base_url, api_key, transport=transport, **kw)
        self._lean = transport
        url = httpx.URL(self.base_url + "/")
        if url.scheme not in ("http", "https"):
            raise ValueError(f"unsupported scheme {url.scheme!r}")
        default_port = 443 if url.scheme == "https" else 80
        self._hostkey = (url.scheme, url.host, url.port or default_port)
        self._prefix = url.raw_path.decode("ascii")
        t = self._client.timeout
        self._timeouts: Timeouts = {"connect": t.connect, "read": t.read, "write": t.write}
        host = url.host if url.port in (None, default_port) else f"{url.host}:{url.port}"
        # the client's own headers (auth, user agent), minus compression: bodies come back as they are
        lines = [f"Host: {host}"] + [
            f"{k.decode('latin-1')}: {v.decode('latin-1')}"
            for k, v in self._client.headers.raw
            if k.lower() not in (b"host", b"accept-encoding", b"content-length")
        ]
        self._head = "\r\n".join(lines) + "\r\n"

    async def _json(
        self, method: str, path: str, *, json_body: Any = None, params: Any = None, **kw: Any
    ) -> Any:
        if kw:  # a call shape this path does not know: the base provider's
            return await super()._json(method, path, json_body=json_body, params=params, **kw)
        status, body = await self._call(method, path, json_body, params, stream=False)
        try:
            return msgspec.json.decode(body)
        except msgspec.DecodeError:
            raise self._error(
                "protocol_error", f"{method} {path}: response is not JSON", status=status
            ) from None

    async def _send(
        self, method: str, path: str, *, json_body: Any = None, params: Any = None, stream: bool = False
    ) -> httpx.Response:
        """Streams (``stream_chat``): the answer as an httpx ``Response`` over the lean exchange
        (its body unread, for the base provider's SSE reader); the request is not built by httpx."""
        if not stream:
            return await super()._send(method, path, json_body=json_body, params=params)
        status, body = await self._call(method, path, json_body, params, stream=True)
        return httpx.Response(status, headers=body.headers, stream=body)

    async def _attempt(self, wire: bytes, method: str, stream: bool) -> tuple[int, list[Any], Any]:
        if not stream:
            return await self._lean.fetch(self._hostkey, wire, self._timeouts, method)
        conn, status, headers = await self._lean._send_wire(self._hostkey, wire, self._timeouts)
        body = _Body(self._lean, self._hostkey, conn, headers, self._timeouts, method, None)
        if status < 400:
            return status, headers, body
        try:  # an error answer: read whole, for its message
            data = b"".join([chunk async for chunk in body])
        finally:
            await body.aclose()
        return status, headers, data

    async def _call(
        self, method: str, path: str, json_body: Any, params: Any, *, stream: bool
    ) -> tuple[int, Any]:
        """One call with the base provider's retries and error reasons: ``(status, body bytes)``,
        or for a stream ``(status, body stream)``; an error status raises ProviderError."""
        target = self._prefix + path.lstrip("/")
        if params:
            target += "?" + urlencode(params)
        head = f"{method} {target} HTTP/1.1\r\n{self._head}"
        content = b""
        if json_body is not None:
            content = msgspec.json.encode(json_body)
            head += f"Content-Type: application/json\r\nContent-Length: {len(content)}\r\n"
        wire = (head + "\r\n").encode("latin-1") + content
        policy = self.retry
        last = max(1, policy.max_attempts) - 1
        for attempt in range(last + 1):
            try:
                status, headers, body = await self._attempt(wire, method, stream)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                reason = "timeout" if isinstance(exc, httpx.ConnectTimeout) else "connect_failed"
                if attempt < last:
                    d = policy.delay(attempt, None)
                    log.warning("%s %s: %s, retry %d in %.2fs", self.kind, path, reason, attempt + 1, d)
                    await _base._sleep(d)
                    continue
                raise self._error(reason, f"{method} {path}: {type(exc).__name__}: {exc}") from None
            except httpx.TimeoutException as exc:
                raise self._error("timeout", f"{method} {path}: {type(exc).__name__}") from None
            except httpx.TransportError as exc:
                raise self._error("connect_failed", f"{method} {path}: {type(exc).__name__}: {exc}") from None
            if status < 400:
                return status, body
            retry_after = parse_retry_after(
                next((v.decode("latin-1") for k, v in headers if k.lower() == b"retry-after"), None)
            )
            err = self._error(
                reason_for_status(status),
                f"{method} {path}: {upstream_message(body)}",
                status=status,
                retry_after=retry_after,
            )
            if status in policy.retry_statuses and attempt < last:
                if retry_after is not None and retry_after > policy.max_retry_after:
                    raise err
                d = policy.delay(attempt, retry_after)
                log.warning("%s %s: HTTP %d, retry %d in %.2fs", self.kind, path, status, attempt + 1, d)
                await _base._sleep(d)
                continue
            raise err
        raise AssertionError("unreachable")
