"""Errors engines and families raise, importable without Litestar or SQLAlchemy.

:class:`EngineError` carries everything the app's single exception handler needs to answer in the
family's shape: HTTP status, a stable reason code, a human message, warnings and extra fields.
Engines subclass it for their own failures (``RoutingError(EngineError)``) so handlers need no
``except XError: raise RidgelineError(...)`` translation. :class:`NotFound` is the one 404.

A family lists the reason codes it answers with in a :class:`Catalogue` (code, status, message
template) on its :class:`~ridgeline.platform.family.Family`; the docs test checks that the
family's doc page lists exactly those codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


class EngineError(Exception):
    """A failure with a status, a reason code and a message; rendered in the family's error shape."""

    status: int = 500
    reason_code: str = "internal_error"

    def __init__(
        self,
        status: int,
        reason_code: str,
        message: str,
        *,
        warnings: Iterable[str] = (),
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason_code = reason_code
        self.message = message
        self.warnings = list(warnings)
        self.headers = headers
        self.extra = extra


class NotFound(EngineError):
    """404 ``<what>_not_found``: ``NotFound("run", run_id)`` -> "run 'abc' not found"."""

    def __init__(
        self,
        what: str,
        ident: object,
        *,
        reason_code: str | None = None,
        message: str | None = None,
        **extra: Any,
    ) -> None:
        self.what = what
        self.ident = ident
        super().__init__(
            404,
            reason_code or f"{what.replace(' ', '_')}_not_found",
            message or f"{what} {ident!r} not found",
            **extra,
        )


class ServiceUnavailable(EngineError):
    """503 ``service_unavailable``: the family's service did not start (or has shut down)."""

    def __init__(self, family: str, *, reason_code: str = "service_unavailable", message: str | None = None):
        super().__init__(
            503, reason_code, message or f"The {family} service is not available: its start-up failed."
        )


@dataclass(frozen=True)
class ReasonCode:
    """One entry of a family's catalogue: the code, its HTTP status and a ``str.format`` template."""

    code: str
    status: int
    message: str


class Catalogue:
    """The reason codes a family answers with. ``catalogue.error(code, **fields)`` builds the error."""

    def __init__(self, entries: Iterable[ReasonCode]) -> None:
        self._by_code: dict[str, ReasonCode] = {}
        for e in entries:
            if e.code in self._by_code:
                raise ValueError(f"reason code {e.code!r} declared twice")
            self._by_code[e.code] = e

    def __iter__(self) -> Iterator[ReasonCode]:
        return iter(self._by_code.values())

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self._by_code)

    @property
    def codes(self) -> set[str]:
        return set(self._by_code)

    def __getitem__(self, code: str) -> ReasonCode:
        return self._by_code[code]

    def error(self, code: str, /, *, warnings: Iterable[str] = (), **fields: Any) -> EngineError:
        """The error for ``code`` with its message template filled from ``fields`` (also sent as extras)."""
        entry = self._by_code[code]
        return EngineError(entry.status, code, entry.message.format(**fields), warnings=warnings, **fields)


def catalogue(*rows: tuple[str, int, str]) -> Catalogue:
    """``catalogue(("run_not_found", 404, "Run {run_id!r} does not exist."), ...)``."""
    return Catalogue(ReasonCode(*row) for row in rows)
