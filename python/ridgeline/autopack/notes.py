"""Human notes appended to one Markdown file: each entry is one ``write`` on a file opened with
``O_APPEND`` while holding an exclusive ``flock``, so entries from concurrent requests (threads or
worker processes) never interleave, and a reader sees whole entries."""

from __future__ import annotations

import fcntl
import os
from datetime import datetime
from pathlib import Path


def entry(note: str, at: datetime, run_id: str | None = None, author: str | None = None) -> str:
    head = f"## {at.isoformat()}"
    if run_id:
        head += f" run={run_id}"
    if author:
        head += f" author={author}"
    body = note.replace("\r\n", "\n").rstrip("\n")
    return f"{head}\n\n{body}\n\n"


def append(path: Path, text: str) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            view = memoryview(data)
            while view:  # a regular file takes it in one write; loop for the rare short write
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
    return len(data)
