"""Job kinds the job tests run (family ``jt``); also imported by the ``ridgeline worker`` processes
the Redis tests start, so both sides know the same kinds."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from ridgeline.platform.jobs import JobContext, job_kind, job_options

gates: dict[str, threading.Event] = {}


@job_kind("jt", "add")
def add(ctx: JobContext) -> dict[str, int]:
    return {"sum": ctx.params["a"] + ctx.params["b"]}


def _write_whole(path: Path, text: str) -> None:
    """Rename into place so a test polling the file never reads it empty or half written."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


@job_kind("jt", "spin")
def spin(ctx: JobContext) -> int:
    """Works ~``seconds`` (default 60) unless cancelled, or until its ``stop`` file exists. With a
    ``dir``: ``<dir>/<job id>.pid`` names the process running it, ``.ticks`` counts its work so far
    and ``.done`` gets one line per completed run (a result stored twice would show two)."""
    base = Path(ctx.params["dir"]) / ctx.job_id if ctx.params.get("dir") else None
    if base is not None:
        _write_whole(base.with_suffix(".pid"), str(os.getpid()))
    stop = Path(str(base) + ".stop") if base is not None else None
    steps = int(ctx.params.get("seconds", 60) * 100)
    i = 0
    for i in range(steps):
        ctx.check_cancelled()
        ctx.report_progress(i / steps)
        if base is not None and i % 10 == 0:
            _write_whole(base.with_suffix(".ticks"), str(i))
            if stop is not None and stop.exists():
                break
        time.sleep(0.01)
    if base is not None:
        with base.with_suffix(".done").open("a") as fh:
            fh.write(f"{os.getpid()}\n")
    return i


@job_kind("jt", "spin_idempotent")
@job_options(idempotent=True, retries=1)
def spin_idempotent(ctx: JobContext) -> int:
    return spin(ctx)


@job_kind("jt", "slow_to_notice")
@job_options(timeout_s=0.3)
def slow_to_notice(ctx: JobContext) -> str:
    for _ in range(3000):  # 30 s if the timeout never cancels it
        ctx.check_cancelled()
        time.sleep(0.01)
    return "never"


@job_kind("jt", "ignores_cancel")
def ignores_cancel(ctx: JobContext) -> str:
    """Finishes its work whatever happens: a cancel arriving meanwhile must not relabel it."""
    gate = gates[ctx.params["gate"]]
    gate.wait(30)
    return "finished"


@job_kind("jt", "progress_back")
def progress_back(ctx: JobContext) -> float:
    ctx.report_progress(0.6)
    ctx.report_progress(0.2)
    return ctx.progress


@job_kind("jt2", "spin")
def spin_other_family(ctx: JobContext) -> int:
    """``jt/spin`` for a second family (a worker serving two family queues)."""
    return spin(ctx)


@job_kind("jt", "steps")
def steps(ctx: JobContext) -> int:
    """``steps`` steps; at each it reports progress with the step as detail, then waits until the
    test writes ``<dir>/<job id>.go<step>``."""
    base = Path(ctx.params["dir"]) / ctx.job_id
    n = int(ctx.params["steps"])
    for i in range(n):
        ctx.report_progress(i / n, {"step": i, "of": n})
        gate = Path(f"{base}.go{i}")
        while not gate.exists():
            ctx.check_cancelled()
            time.sleep(0.01)
    return n


@job_kind("jt", "unstorable")
def unstorable(ctx: JobContext) -> object:
    """A result msgspec cannot encode: the job must still end (FAILED), not stay RUNNING."""
    return object()
