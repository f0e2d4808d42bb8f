"""Bounded input types of the operations routes. Text never carries NUL (PostgreSQL refuses it in
text columns and parameters, which would surface as a 500) and never exceeds its column; ids in
paths are short tokens, so a malformed one is a 422 before any query."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.params import PathParameter, QueryParameter

NO_NUL = r"^[^\x00]*$"


def text(max_length: int, *, min_length: int = 0) -> msgspec.Meta:
    return msgspec.Meta(min_length=min_length, max_length=max_length, pattern=NO_NUL)


PathId = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
UserId = Annotated[str, QueryParameter(min_length=1, max_length=200, pattern=NO_NUL)]
OptionalQueryId = Annotated[str | None, QueryParameter(max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
