"""Run a fit or a backtest in a child process with a memory cap, a time budget and cancellation.

A model fit can be asked for more than the machine has; in the server process that ends with the
kernel killing the whole service. Here the work runs in a child forked from a ``forkserver`` (which
has the heavy modules imported once, so a child starts in milliseconds): the child sets
``RLIMIT_AS`` to its current address space plus the cap (an allocation past it fails in the child
only), and the parent polls the deadline and the caller's cancel flag every few milliseconds,
killing the child on either. The outcome is the function's return value or :class:`FitLimitExceeded` with a reason
code: ``memory_limit_exceeded``, ``time_budget_exceeded``, ``cancelled`` or ``fit_process_crashed``.
Exceptions raised by the function itself are re-raised in the parent unchanged.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from ridgeline.platform.problems import EngineError

POLL_S = 0.02
# Imported once in the fork server, inherited by every child.
_PRELOAD = ["ridgeline.retail._fit_preload"]
_ctx_lock = threading.Lock()
_ctx: Any = None


class FitLimitExceeded(EngineError):
    """The isolated work was stopped: 422 with ``code`` (``memory_limit_exceeded``,
    ``time_budget_exceeded``, ``fit_process_crashed``) as its reason code; ``cancelled`` when a job
    cancel stopped it (the job handler turns that into the job's cancellation)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(422, code, f"{code}: {message}")
        self.code = code


def _context() -> Any:
    global _ctx
    with _ctx_lock:
        if _ctx is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(_PRELOAD)
            _ctx = ctx
        return _ctx


def _vm_bytes(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(field.encode()):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _child(
    conn: Any, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], cap: int
) -> None:
    import resource

    base = _vm_bytes(os.getpid(), "VmSize:")
    if base:
        resource.setrlimit(resource.RLIMIT_AS, (base + cap, base + cap))

    def at_cap() -> bool:
        # Failures near the cap (a library turning a failed allocation into some other error) are
        # reported as the memory limit.
        return bool(base) and _vm_bytes(os.getpid(), "VmPeak:") + (16 << 20) >= base + cap

    if kwargs.pop("__progress", False):
        kwargs["on_step"] = lambda done, total, detail: conn.send(("progress", done, total, detail))
    try:
        result = fn(*args, **kwargs)
    except MemoryError:
        conn.send(("memory", "the work ran out of memory under the cap"))
        return
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        if "bad_alloc" in text or "memory allocation" in text.lower() or at_cap():
            conn.send(("memory", text))
            return
        try:
            conn.send(("error", exc))
        except Exception:  # an exception that does not pickle
            conn.send(("error", RuntimeError(text + "\n" + traceback.format_exc(limit=5))))
        return
    except BaseException as exc:  # never hand a KeyboardInterrupt/SystemExit to the server
        conn.send(("memory" if at_cap() else "crash", f"{type(exc).__name__}: {exc}"))
        return
    try:
        conn.send(("ok", result))
    except MemoryError:
        conn.send(("memory", "the result did not fit under the memory cap"))


def run_limited(
    fn: Callable[..., Any],
    *args: Any,
    memory_mb: int,
    time_s: float,
    cancelled: Callable[[], bool] | None = None,
    on_progress: Callable[[int, int, dict[str, Any]], None] | None = None,
    **kwargs: Any,
) -> Any:
    """``fn(*args, **kwargs)`` in a child process under the limits (blocking; call from a thread).

    With ``on_progress``, ``fn`` gets an ``on_step(done, total, detail)`` keyword whose calls are
    relayed to ``on_progress`` in the caller's thread.
    """
    ctx = _context()
    cap = memory_mb << 20
    parent, child = ctx.Pipe(duplex=False)
    if on_progress is not None:
        kwargs["__progress"] = True
    proc = ctx.Process(target=_child, args=(child, fn, args, kwargs, cap), daemon=True)
    proc.start()
    child.close()
    deadline = time.monotonic() + time_s
    stop: FitLimitExceeded | None = None
    message: tuple[Any, ...] | None = None
    try:
        while True:
            try:
                ready = parent.poll(POLL_S)
            except (EOFError, OSError):
                ready = False
            if ready:
                try:
                    item = parent.recv()
                except (EOFError, OSError):
                    item = None
                if item is None:
                    break
                if item[0] == "progress":
                    if on_progress is not None:
                        on_progress(item[1], item[2], item[3])
                    continue
                message = item
                break
            if not proc.is_alive():
                if parent.poll(0):  # it sent its last message between the poll above and its exit
                    continue
                break
            if cancelled is not None and cancelled():
                stop = FitLimitExceeded("cancelled", "the job was cancelled; its process was stopped")
                break
            if time.monotonic() > deadline:
                stop = FitLimitExceeded(
                    "time_budget_exceeded",
                    f"the work ran longer than its budget of {time_s:g} s and was stopped",
                )
                break
    finally:
        if proc.is_alive() and message is None:
            proc.kill()
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()
        parent.close()
    if stop is not None:
        raise stop
    if message is None:
        code = proc.exitcode
        if (
            code is not None
            and code < 0
            and -code in (signal.SIGABRT, signal.SIGSEGV, signal.SIGKILL, signal.SIGBUS)
        ):
            raise FitLimitExceeded(
                "memory_limit_exceeded",
                f"the work process died (signal {-code}) under its memory cap of {memory_mb} MB",
            )
        raise FitLimitExceeded(
            "fit_process_crashed", f"the work process exited unexpectedly (exit code {code})"
        )
    kind = message[0]
    if kind == "ok":
        return message[1]
    if kind == "memory":
        raise FitLimitExceeded("memory_limit_exceeded", f"{message[1]} (cap {memory_mb} MB)")
    if kind == "crash":
        raise FitLimitExceeded("fit_process_crashed", f"the work process stopped: {message[1]}")
    raise message[1]
