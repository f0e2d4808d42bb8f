"""Job kinds the job tests run (family ``jt``); also imported by the ``ridgeline worker`` processes
the Redis tests start, so both sides know the same kinds."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from ridgeline.platform.jobs import JobContext, job_kind, job_options

gates: dict[str, threading.Event] = {}


@job_kind("jt", "add")
def add(ctx: JobContext) -> dict[str, int]:
    return {"sum": ctx.params["a"] + ctx.params["b"]}


@job_kind("jt", "spin")
def spin(ctx: JobContext) -> int:
    """Runs ~``seconds`` (default 60) unless cancelled; a ``mark`` file says it started (with the pid
    of the process running it) so a test knows which worker holds it."""
    mark = ctx.params.get("mark")
    if mark:
        Path(mark).write_text(str(__import__("os").getpid()))
    steps = int(ctx.params.get("seconds", 60) * 100)
    for i in range(steps):
        ctx.check_cancelled()
        ctx.report_progress(i / steps)
        time.sleep(0.01)
    return steps


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
