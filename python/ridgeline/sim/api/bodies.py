"""Request-body markers shared by the sim family's handlers."""

from __future__ import annotations

from litestar.enums import RequestEncodingType
from litestar.params import Body

JSONBody = Body(media_type=RequestEncodingType.JSON)
