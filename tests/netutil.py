"""Loopback helpers shared by the tests that start real servers: a free port, a process's children,
and waiting for ``ridgeline serve`` to be up."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment of the call (the kernel's pick for
    an ephemeral bind, released at once). Also the address of a refused connection."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    """The pids whose parent is ``pid`` (granian's workers under ``ridgeline serve``), from /proc."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def wait_serving(
    proc: subprocess.Popen[bytes], base: str, log: Path, *, workers: int = 2, limit_s: float = 300
) -> list[int]:
    """Wait until ``ridgeline serve`` (``proc``) answers ``/health`` with 200 and runs ``workers``
    granian workers; returns their pids. Bounded by ``limit_s`` (worker start-up is slow on a loaded
    2-core box); the AssertionError says what was last seen and ends with the server's log."""
    import httpx

    end = time.monotonic() + limit_s
    health: object = None
    while time.monotonic() < end and proc.poll() is None:
        try:
            health = httpx.get(base + "/health", timeout=5).status_code
        except httpx.HTTPError as exc:
            health = type(exc).__name__
        kids = children(proc.pid)
        if health == 200 and len(kids) >= workers:
            return kids
        time.sleep(0.2)
    raise AssertionError(
        f"server not ready (exit code {proc.poll()}, last /health {health}, "
        f"{len(children(proc.pid))} child processes): {log.read_text(errors='replace')[-3000:]}"
    )
