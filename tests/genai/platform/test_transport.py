"""The dispatch clients' keep-alive transport (ridgeline.genai.transport.LeanTransport) against a
real HTTP/1.1 server on loopback written byte by byte: Content-Length and chunked bodies, bodies
read to the end of the connection, keep-alive reuse, a keep-alive connection the server closed
while idle (sent again once on a new connection), read timeouts and refused connections."""

import asyncio
import socket
import socketserver
import threading
import time

import httpx
import pytest

from ridgeline.genai.transport import LeanTransport
from tests.netutil import free_port


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        # as asyncio servers (uvicorn, granian) do: no Nagle delay on small writes
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.connections += 1  # type: ignore[attr-defined]
        buf = b""
        while True:
            while b"\r\n\r\n" not in buf:
                data = sock.recv(65536)
                if not data:
                    return
                buf += data
            head, _, buf = buf.partition(b"\r\n\r\n")
            lines = head.decode().split("\r\n")
            path = lines[0].split(" ")[1]
            length = next(
                (
                    int(v)
                    for k, _, v in (x.partition(": ") for x in lines[1:])
                    if k.lower() == "content-length"
                ),
                0,
            )
            while len(buf) < length:
                buf += sock.recv(65536)
            body, buf = buf[:length], buf[length:]
            self.server.seen.append((lines[0], body))  # type: ignore[attr-defined]
            if path == "/len":
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Echo: " + body + b"\r\n\r\nhello")
            elif path == "/chunked":
                sock.sendall(b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
                             b"3\r\nabc\r\n")  # fmt: skip
                time.sleep(0.05)
                sock.sendall(b"4;ext=1\r\ndefg\r\n0\r\n\r\n")
            elif path == "/close":
                sock.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
                return
            elif path == "/drop":  # answers, then closes the idle keep-alive connection
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                time.sleep(0.05)
                sock.shutdown(socket.SHUT_RDWR)
                return
            elif path == "/sse":  # one event, then the chunked terminator a moment later
                sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\ndata1\r\n")
                time.sleep(0.005)
                sock.sendall(b"0\r\n\r\n")
            elif path == "/endless":  # a chunk every 20 ms until the client goes away
                sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                try:
                    for _ in range(250):
                        sock.sendall(b"4\r\ntick\r\n")
                        time.sleep(0.02)
                except OSError:
                    self.server.dropped += 1  # type: ignore[attr-defined]
                return
            elif path == "/slow":
                time.sleep(1.0)
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            else:
                sock.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")


@pytest.fixture
def server():
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
    srv.daemon_threads = True
    srv.connections = 0  # type: ignore[attr-defined]
    srv.seen = []  # type: ignore[attr-defined]
    srv.dropped = 0  # type: ignore[attr-defined]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_bodies_keep_alive_and_stale_connections(server):
    base = f"http://127.0.0.1:{server.server_address[1]}"

    async def run() -> None:
        t = LeanTransport()
        async with httpx.AsyncClient(base_url=base, transport=t, timeout=5) as c:
            r = await c.post("/len", content=b"ping")
            assert (r.status_code, r.text, r.headers["x-echo"]) == (200, "hello", "ping")
            r = await c.post("/len", json={"a": 1})
            assert r.text == "hello" and server.seen[-1] == ("POST /len HTTP/1.1", b'{"a":1}')
            assert server.connections == 1  # the second request reused the connection
            chunks = []
            async with c.stream("GET", "/chunked") as resp:
                assert resp.status_code == 201
                async for part in resp.aiter_raw():
                    chunks.append(part)
            assert chunks == [b"abc", b"defg"]  # streamed chunk by chunk
            assert (await c.get("/len")).text == "hello" and server.connections == 1
            assert (await c.get("/close")).text == "until the end"
            assert (await c.get("/drop")).text == "ok"
            n = server.connections
            await asyncio.sleep(0.2)  # the server has closed that idle connection by now
            assert (await c.get("/len")).text == "hello"  # sent again on a new connection
            assert server.connections == n + 1
            assert (await c.get("/missing")).status_code == 404
        await t.close_all()

    asyncio.run(run())


def test_timeouts_and_refused_connections(server):
    base = f"http://127.0.0.1:{server.server_address[1]}"
    closed_port = free_port()

    async def run() -> None:
        async with httpx.AsyncClient(transport=LeanTransport(), timeout=0.2) as c:
            with pytest.raises(httpx.ReadTimeout):
                await c.get(base + "/slow")
            with pytest.raises(httpx.ConnectError):
                await c.get(f"http://127.0.0.1:{closed_port}/len")
            with pytest.raises(httpx.UnsupportedProtocol):
                await c.get("ftp://127.0.0.1/x")

    asyncio.run(run())


def test_a_stream_left_at_its_last_event_keeps_its_connection(server):
    """An SSE client stops reading at ``[DONE]``, before the chunked terminator: the rest is read
    in the background and the connection reused. A stream left mid-answer is closed soon, so the
    upstream sees the client go (and stops generating)."""
    base = f"http://127.0.0.1:{server.server_address[1]}"

    async def run() -> None:
        t = LeanTransport()
        async with httpx.AsyncClient(base_url=base, transport=t, timeout=5) as c:
            for _ in range(3):
                async with c.stream("GET", "/sse") as resp:
                    async for part in resp.aiter_raw():
                        assert part == b"data1"
                        break  # stop at the first event
                await asyncio.sleep(0.03)
            assert server.connections == 1
            async with c.stream("GET", "/endless") as resp:
                async for _part in resp.aiter_raw():
                    break
            await asyncio.sleep(0.3)
            assert sum(len(v) for v in t._idle.values()) == 0  # left mid-answer: not kept
            assert (await c.get("/len")).text == "hello"
            assert server.connections == 2
        await t.close_all()

    asyncio.run(run())
    for _ in range(100):
        if server.dropped:
            break
        time.sleep(0.02)
    assert server.dropped == 1
