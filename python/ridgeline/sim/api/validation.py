"""Request checks the schema cannot express, refused with 422 naming the field.

Litestar converts bodies leniently (``"60"`` becomes 60, ``"NaN"`` a float NaN), so bodies are
decoded again strictly from the raw bytes: a number given as a string is refused. JSON has no
NaN, but ``1e999`` decodes to infinity, so every float is checked finite. State vectors are
checked against the model (length, unit quaternion of a floating base)."""

from __future__ import annotations

import math
import re
from typing import Any, TypeVar

import msgspec
from litestar import Request

from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.problems import EngineError
from ridgeline.sim.model import Model
from ridgeline.sim.runspec import RunSpec, validate

T = TypeVar("T")
_AT = re.compile(r" - at `\$\.?([^`]*)`$")
# |q| of a floating base's orientation quaternion must be 1 within this (the engine normalises nothing)
QUATERNION_TOLERANCE = 1e-6


def invalid(field: str, message: str, *, reason_code: str = "invalid_request") -> RidgelineError:
    return RidgelineError(
        422,
        reason_code,
        f"Invalid request: {message} ({field})",
        errors=[{"field": field, "message": message, "source": "body"}],
    )


def _field(path: str) -> str:
    # msgspec paths look like "controller.kp[0]" or "config.initial_q[2]"
    return path or "body"


def convert(raw: Any, cls: type[T], prefix: str = "") -> T:
    """``msgspec.convert`` (strict) with a 422 naming the field on failure."""
    try:
        return msgspec.convert(raw, cls)
    except msgspec.ValidationError as exc:
        msg = str(exc)
        m = _AT.search(msg)
        path = m.group(1) if m else ""
        field = ".".join(p for p in (prefix, path) if p)
        raise invalid(_field(field), _AT.sub("", msg)) from None


async def strict_body(request: Request[Any, Any, Any], cls: type[T]) -> T:
    """The body decoded strictly as ``cls`` (no string-to-number coercion), every float finite."""
    try:
        value = msgspec.json.decode(await request.body(), type=cls)
    except msgspec.ValidationError as exc:
        msg = str(exc)
        m = _AT.search(msg)
        raise invalid(_field(m.group(1) if m else ""), _AT.sub("", msg)) from None
    check_finite(value)
    return value


def check_finite(value: Any, path: str = "") -> None:
    """Refuse NaN and infinities anywhere in a decoded body."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise invalid(_field(path), "must be a finite number")
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            check_finite(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list | tuple):
        for i, x in enumerate(value):
            check_finite(x, f"{path}[{i}]")
    elif isinstance(value, dict):
        for k, x in value.items():
            check_finite(x, f"{path}.{k}" if path else str(k))


def check_spec(model: Model, spec: RunSpec, prefix: str = "") -> None:
    """The spec against the model: vector lengths (the engine's check), finite values, and a unit
    orientation quaternion when the base is floating (``q[3:7]``, identity ``[0, 0, 0, 1]``)."""
    check_finite(spec, prefix)
    try:
        validate(model, spec)
    except EngineError:
        raise  # SpecError: already 422 invalid_config naming the field
    except ValueError as exc:  # a native field error (``exc.field``) cannot subclass EngineError
        raise invalid(getattr(exc, "field", None) or "body", str(exc), reason_code="invalid_config") from None
    if spec.initial_q is not None and model.floating_base:
        norm = math.sqrt(sum(x * x for x in spec.initial_q[3:7]))
        field = f"{prefix}.initial_q" if prefix else "initial_q"
        if norm == 0.0:
            raise invalid(
                field, "the base orientation quaternion initial_q[3:7] is zero", reason_code="invalid_config"
            )
        if abs(norm - 1.0) > QUATERNION_TOLERANCE:
            raise invalid(
                field,
                f"the base orientation quaternion initial_q[3:7] has norm {norm:.9g}, not 1",
                reason_code="invalid_config",
            )
