"""``POST /telegram/webhook``: callbacks of the approval buttons. Public by the contract, but nothing
is read or acted on before the ``X-Telegram-Bot-Api-Secret-Token`` header (the ``secret_token`` given
to ``setWebhook``) matches ``TELEGRAM_WEBHOOK_SECRET`` in constant time; with no secret configured
every call is refused."""

from __future__ import annotations

import hmac
from typing import Any

import msgspec
from litestar import Request, post

from ridgeline.autopack.api.ops_errors import OPS
from ridgeline.autopack.api.ops_service import OpsService
from ridgeline.platform.auth import Policy
from ridgeline.platform.context import Service
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.openapi import raises

# Explicit, so a non-public family default (default_policy) never covers the webhook.
PUBLIC = Policy.public().opt()
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 64 * 1024


class WebhookAck(msgspec.Struct, kw_only=True):
    ok: bool
    handled: bool
    approval_id: str | None = None
    status: str | None = None
    reason: str | None = None


@post(
    "/telegram/webhook",
    status_code=200,
    tags=["autopack: approvals"],
    summary="Telegram webhook for the approve/reject buttons",
    opt={**raises(400, 401, 403, 413), **PUBLIC},
    request_max_body_size=MAX_UPDATE_BYTES,
)
async def telegram_webhook(request: Request[Any, Any, Any], ops: Service[OpsService]) -> WebhookAck:
    expected = ops.settings.telegram_webhook_secret
    if not expected:
        raise OPS.error("telegram_webhook_not_configured")
    presented = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise OPS.error("telegram_secret_invalid")
    try:
        update = msgspec.json.decode(await request.body())
    except msgspec.DecodeError:
        raise RidgelineError(400, "invalid_request", "Invalid request: the body is not JSON") from None
    if not isinstance(update, dict):
        raise RidgelineError(400, "invalid_request", "Invalid request: a Telegram Update is an object")
    return msgspec.convert(await ops.approvals.telegram_callback(update), WebhookAck)


ROUTES = [telegram_webhook]
