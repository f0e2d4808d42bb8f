"""OpenAPI that tells the truth: error responses in each family's shape, and Swagger UI served locally.

The composer calls :func:`document_errors` once the app is built. For every operation it declares
the error statuses the operation can answer, each with the error schema, media type and an example
of the family whose renderer answers that path:

- ``400`` for operations with a request body (malformed JSON, bad encoding);
- the family's validation status (``422``) for operations with a body or any parameter;
- ``404`` for operations with a path parameter;
- ``503`` for every family operation (the family's services or its database unavailable);
- whatever the handler lists with ``opt=raises(409, 413, ...)``.

Litestar's generic ``400 ValidationException`` entry is dropped where no ``400`` applies: validation
failures are answered with the family's validation status, never with that body.

:func:`swagger_ui` gives the ``/docs`` render plugin and the router serving Swagger UI's JS and CSS
from the ``swagger-ui-bundle-v2`` package, so the page renders with no internet access.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Example, Operation
from litestar.routes import HTTPRoute
from litestar.static_files import create_static_files_router

from ridgeline.platform.errors import (
    Renderer,
    render_fastapi_detail,
    render_problem_json,
    render_reason_coded,
)

__all__ = [
    "ERROR_STATUSES",
    "DetailError",
    "ProblemDetails",
    "ReasonCodedError",
    "document_errors",
    "raises",
    "swagger_ui",
]

# ---- the three error bodies (platform/errors.py renders them) -----------------------------------


def _doc(tp: Any, description: str) -> Any:
    return Annotated[tp, msgspec.Meta(description=description)]


_REASON = "Stable machine-readable code (the family's doc page lists them)."
_REQUEST_ID = "The request id (X-Request-Id), also in the access log."
_WARNINGS = "Non-fatal warnings gathered before the error."
_ERRORS = "One entry per invalid field (validation errors), or per problem found in the input."


class FieldError(msgspec.Struct, kw_only=True):
    """One invalid field of a validation error."""

    field: _doc(str | None, "Dotted path of the field, when known.") = None
    message: _doc(str, "What is wrong with it.")
    source: _doc(str | None, "Where the field was: body, query, path or header.") = None


class ReasonCodedDetail(msgspec.Struct, kw_only=True):
    reason_code: _doc(str, _REASON)
    message: _doc(str, "Human-readable explanation.")
    warnings: _doc(list[str], _WARNINGS)
    request_id: _doc(str | None, _REQUEST_ID) = None
    errors: _doc(list[FieldError | str] | None, _ERRORS) = None


class ReasonCodedError(msgspec.Struct):
    """Contract 000 (routing): ``{"detail": {...}}``; extra fields name the resource or the limit."""

    detail: _doc(ReasonCodedDetail, "The error; extra fields name the resource or the limit involved.")


class ProblemDetails(msgspec.Struct, kw_only=True):
    """Contract 002 (retail): RFC 7807 problem details, plus ``reason_code`` and ``request_id``."""

    type: _doc(str, "Problem type: /problems/<reason-code>.")
    title: _doc(str, "The HTTP status phrase.")
    status: _doc(int, "The HTTP status code.")
    detail: _doc(str, "Human-readable explanation.")
    instance: _doc(str, "The request path.")
    reason_code: _doc(str, _REASON)
    request_id: _doc(str | None, _REQUEST_ID) = None
    warnings: _doc(list[str] | None, _WARNINGS) = None
    errors: _doc(list[FieldError | str] | None, _ERRORS) = None


class DetailError(msgspec.Struct, kw_only=True):
    """FastAPI-style contracts (sim and later families): ``{"detail": message, "reason_code"}``."""

    detail: _doc(str, "Human-readable explanation.")
    reason_code: _doc(str, _REASON)
    request_id: _doc(str | None, _REQUEST_ID) = None
    warnings: _doc(list[str] | None, _WARNINGS) = None
    errors: _doc(list[FieldError | str] | None, _ERRORS) = None


# status -> (reason code of the example, description)
ERROR_STATUSES: dict[int, tuple[str, str]] = {
    400: (
        "invalid_request",
        "Malformed request: the body is not valid JSON or not in the declared encoding.",
    ),
    401: ("unauthorized", "Missing or invalid credentials."),
    403: ("forbidden", "The credentials do not allow this operation."),
    404: ("not_found", "No resource with that id."),
    405: ("method_not_allowed", "An id equal to a fixed path segment reaches that path's route instead."),
    409: ("conflict", "The request conflicts with the resource's current state."),
    410: ("gone", "The resource existed but has expired."),
    413: ("payload_too_large", "The request body or the work it asks for exceeds a limit."),
    415: ("unsupported_media_type", "The body's media type or encoding is not accepted."),
    422: ("invalid_request", "Validation failed: the body or a parameter does not match the schema."),
    429: ("rate_limited", "Too many requests; retry after the delay given in Retry-After."),
    502: ("upstream_error", "An upstream service (a model or embedding provider) failed or is unreachable."),
    503: ("unavailable", "The family's services or the database are unavailable; retry later."),
}


@dataclass(frozen=True)
class _Shape:
    body: type[msgspec.Struct]
    media_type: str

    def example(self, status: int, path: str) -> dict[str, Any]:
        reason, description = ERROR_STATUSES[status]
        message = description.split(":")[0].rstrip(".") + "."
        request_id = "5f0c6b9e2d7a4c1e8b3f9a6d0e2c4b71"
        errors = [{"field": "page_size", "message": "Expected `int` >= 1", "source": "query"}]
        extra = {"errors": errors} if status == 422 else {}
        if self.body is ReasonCodedError:
            detail = {
                "reason_code": reason,
                "message": message,
                "warnings": [],
                **extra,
                "request_id": request_id,
            }
            return {"detail": detail}
        if self.body is ProblemDetails:
            from http import HTTPStatus

            return {
                "type": f"/problems/{reason.replace('_', '-')}",
                "title": HTTPStatus(status).phrase,
                "status": status,
                "detail": message,
                "instance": path,
                "reason_code": reason,
                **extra,
                "request_id": request_id,
            }
        return {"detail": message, "reason_code": reason, **extra, "request_id": request_id}


_REASON_CODED = _Shape(ReasonCodedError, "application/json")
_PROBLEM = _Shape(ProblemDetails, "application/problem+json")
_DETAIL = _Shape(DetailError, "application/json")
_SHAPES: dict[Renderer, _Shape] = {
    render_reason_coded: _REASON_CODED,
    render_problem_json: _PROBLEM,
    render_fastapi_detail: _DETAIL,
}


def _shape_of(render: Renderer) -> _Shape:
    shape = _SHAPES.get(render)
    if shape is None:  # a renderer wrapped or re-exported under another object: match by name
        name = getattr(render, "__name__", "")
        shape = next((s for r, s in _SHAPES.items() if r.__name__ == name), _DETAIL)
    return shape


def raises(*statuses: int) -> dict[str, Any]:
    """``opt=`` for a route decorator: the error statuses the handler raises beyond the defaults.

    ``@post("/x", opt=raises(409, 413))``; the defaults (400, 404, 422, 503) need no listing.
    """
    unknown = [s for s in statuses if s not in ERROR_STATUSES]
    if unknown:
        raise ValueError(f"no error description for status {unknown}")
    return {"errors": tuple(statuses)}


# ---- declaring the errors on every operation ---------------------------------------------------

# Keyword arguments Litestar injects that are not request parameters.
_RESERVED_KWARGS = frozenset(
    {"request", "state", "scope", "socket", "headers", "cookies", "query", "body", "data"}
)
# Litestar's own description of the ValidationException entry it adds to every operation with inputs.
_GENERIC_400 = "Bad request syntax or unsupported method"


@dataclass
class _TruthfulOperation(Operation):
    """Drops Litestar's generic 400 entry; the real 400s are declared by :func:`document_errors`."""

    def __post_init__(self) -> None:
        responses = self.responses or {}
        generic = responses.get("400")
        if generic is not None and getattr(generic, "description", None) == _GENERIC_400:
            del responses["400"]


def _statuses(
    handler: HTTPRouteHandler, route: HTTPRoute, validation_status: int, in_family: bool
) -> list[int]:
    params = set(handler.parsed_fn_signature.parameters)
    has_body = "data" in params or "body" in params  # ``body: RawBody`` reads the raw bytes
    inputs = params - _RESERVED_KWARGS - set(handler.resolve_dependencies())
    statuses: set[int] = set(handler.opt.get("errors", ()))
    # A route's access policy (platform.auth) says which refusals it can give.
    policy = handler.opt.get("policy")
    if policy is not None:
        if not policy.is_public:
            statuses |= {401, 403}
        if policy.rate_limit is not None:
            statuses.add(429)
    if has_body:
        statuses.add(400)
    if has_body or inputs or route.path_parameters:
        statuses.add(validation_status)
    if route.path_parameters:
        statuses.add(404)
    if in_family:
        statuses.add(503)
    return sorted(statuses)


def document_errors(
    app: Litestar,
    renderers: Sequence[tuple[str, Renderer, int]],
    platform_functions: Iterable[Any],
    default: Renderer = render_fastapi_detail,
) -> None:
    """Declare every operation's error responses in the shape of the renderer that answers its path.

    ``renderers`` are the composer's ``(path prefix, renderer, validation status)`` triples (the same
    ones its exception handler uses); ``platform_functions`` the functions of the root handlers that
    belong to no family (every other operation also answers 503 when its family's services are
    unavailable). Must run before the OpenAPI document is first built (it is built lazily, on the
    first request for it). Responses a handler declares itself are kept.
    """
    platform_fns = set(platform_functions)
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        render, validation_status = default, 422
        for prefix, r, vs in renderers:
            if route.path.startswith(prefix) or route.path == prefix.rstrip("/"):
                render, validation_status = r, vs
                break
        shape = _shape_of(render)
        for handler in route.route_handlers:
            if not handler.include_in_schema:
                continue
            declared = dict(handler.responses or {})
            for status in _statuses(handler, route, validation_status, handler.fn not in platform_fns):
                if status in declared:
                    continue
                declared[status] = ResponseSpec(
                    data_container=shape.body,
                    description=ERROR_STATUSES[status][1],
                    media_type=shape.media_type,
                    generate_examples=False,
                    examples=[
                        Example(summary=ERROR_STATUSES[status][0], value=shape.example(status, route.path))
                    ],
                )
            handler.responses = declared
            if handler.operation_class is Operation:
                handler.operation_class = _TruthfulOperation


# ---- Swagger UI from a package ------------------------------------------------------------------

SWAGGER_ASSETS_PATH = "/docs/assets"


def swagger_ui() -> tuple[SwaggerRenderPlugin, Any]:
    """The ``/docs`` render plugin pointing at local assets, and the router that serves them."""
    from swagger_ui_bundle import swagger_ui_path

    base = SWAGGER_ASSETS_PATH
    plugin = SwaggerRenderPlugin(
        path="/",
        js_url=f"{base}/swagger-ui-bundle.js",
        css_url=f"{base}/swagger-ui.css",
        standalone_preset_js_url=f"{base}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{base}/favicon-32x32.png'>",
    )
    router = create_static_files_router(
        path=base,
        directories=[swagger_ui_path],
        include_in_schema=False,
        name="swagger-ui-assets",
        send_as_attachment=False,
    )
    return plugin, router
