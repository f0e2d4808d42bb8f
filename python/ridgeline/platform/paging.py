"""Paging, sorting and bounded integer parameters: one implementation for every family.

Two page shapes, whichever the family's contract names:

- 1-based ``page`` / ``page_size`` (:data:`Page`, :func:`page_size`, :func:`page_window`);
- ``limit`` / ``offset`` (:func:`limit`, :data:`Offset`).

Every integer a client sends as an id, page or offset is bounded (:data:`Int64`, :data:`Offset`,
:data:`Page`), so a value that does not fit the database's 64-bit integers (2^63 and above) is a
422 ``invalid_request`` in the family's error shape instead of an overflow 500.

Sorting is allow-listed (:func:`resolve_sort`): the client names a key of ``allowed``; the
documented fallback is

- an unknown (or missing) ``sort_by`` -> the ``default`` key;
- ``sort_order`` ``asc`` / ``desc`` (any case) is honoured; anything else (or nothing) -> the
  default direction (``default_descending``);
- with ``keep_order_on_fallback=False`` an unknown ``sort_by`` also resets the direction to the
  default (retail's runs and jobs: "anything else falls back to created_at desc").

``Bounded*`` types are the msgspec (body) equivalents, importable without Litestar.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar.params import Parameter

INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
#: Largest page size any endpoint may allow, so that (page - 1) * page_size fits in 64 bits.
MAX_PAGE_SIZE = 10_000
PAGE_MAX = INT64_MAX // MAX_PAGE_SIZE

# ---- bodies (msgspec) ----------------------------------------------------------------------
BoundedInt = Annotated[int, msgspec.Meta(ge=INT64_MIN, le=INT64_MAX)]
BoundedId = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]

# ---- query and path parameters (Litestar) ------------------------------------------------
#: Any integer id in a path or query (the database's signed 64-bit range).
Int64 = Annotated[int, Parameter(ge=INT64_MIN, le=INT64_MAX)]
#: 1-based page number.
Page = Annotated[int, Parameter(ge=1, le=PAGE_MAX, description="Page number (1-indexed)")]
#: 0-based offset.
Offset = Annotated[int, Parameter(ge=0, le=INT64_MAX, description="Items to skip")]


def int64(description: str | None = None, *, ge: int = INT64_MIN) -> Any:
    """An id parameter type with a description: ``store_id: int64("Store id")``."""
    return Annotated[int, Parameter(ge=ge, le=INT64_MAX, description=description)]


def page_size(max_size: int, description: str | None = None) -> Any:
    """``page_size`` 1..max_size (``max_size`` <= :data:`MAX_PAGE_SIZE`)."""
    if not 1 <= max_size <= MAX_PAGE_SIZE:
        raise ValueError(f"max_size must be 1..{MAX_PAGE_SIZE}")
    return Annotated[
        int, Parameter(ge=1, le=max_size, description=description or f"Items per page (max {max_size})")
    ]


def limit(max_limit: int, description: str | None = None) -> Any:
    """``limit`` 1..max_limit."""
    return Annotated[
        int, Parameter(ge=1, le=max_limit, description=description or f"Items to return (max {max_limit})")
    ]


@dataclass(frozen=True)
class Window:
    """Rows ``offset`` .. ``offset + limit`` of a query."""

    offset: int
    limit: int


def page_window(page: int, size: int) -> Window:
    """The window of a 1-based page."""
    return Window(offset=(page - 1) * size, limit=size)


T = TypeVar("T")


@dataclass(frozen=True)
class Sort(Generic[T]):
    key: str  # the allow-listed key that applied
    target: T  # what ``allowed`` maps it to (a column, a column name ...)
    descending: bool


def resolve_sort(
    sort_by: str | None,
    sort_order: str | None,
    allowed: Mapping[str, T],
    default: str,
    *,
    default_descending: bool = False,
    keep_order_on_fallback: bool = True,
) -> Sort[T]:
    """The allow-listed sort with the documented fallback (see the module docstring)."""
    order = (sort_order or "").lower()
    requested = True if order == "desc" else False if order == "asc" else default_descending
    if sort_by is not None and sort_by in allowed:
        return Sort(sort_by, allowed[sort_by], requested)
    return Sort(default, allowed[default], requested if keep_order_on_fallback else default_descending)


__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_PAGE_SIZE",
    "PAGE_MAX",
    "BoundedId",
    "BoundedInt",
    "Int64",
    "Offset",
    "Page",
    "Sort",
    "Window",
    "int64",
    "limit",
    "page_size",
    "page_window",
    "resolve_sort",
]
