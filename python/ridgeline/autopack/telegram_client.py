"""Outbound Telegram Bot API calls for approval requests (``sendMessage`` with inline approve/reject
buttons, ``answerCallbackQuery``, ``editMessageText``). The base URL is a setting
(``TELEGRAM_API_BASE``) so tests point it at a fake Bot API on loopback. Failures are returned, never
raised: a Telegram outage must not fail the approval request itself."""

from __future__ import annotations

import logging
from typing import Any

import httpx

log = logging.getLogger("ridgeline.autopack.telegram")

APPROVE, REJECT = "approve", "reject"


def callback_data(action: str, approval_id: str) -> str:
    return f"{action}:{approval_id}"  # Telegram allows 64 bytes; ids are 32 hex characters


def parse_callback_data(data: str) -> tuple[str, str] | None:
    action, sep, approval_id = data.partition(":")
    if not sep or action not in (APPROVE, REJECT) or not approval_id:
        return None
    return action, approval_id


class TelegramClient:
    def __init__(self, api_base: str, token: str, chat_id: str, *, timeout_s: float = 5.0) -> None:
        self._base = f"{api_base.rstrip('/')}/bot{token}"
        self.chat_id = chat_id
        self._timeout = timeout_s

    async def _call(self, method: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as client:
                resp = await client.post(f"{self._base}/{method}", json=payload)
            body = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            # The URL holds the bot token: log only the method and the error class.
            log.warning("telegram %s failed: %s", method, type(exc).__name__)
            return None
        if resp.status_code != 200 or not isinstance(body, dict) or not body.get("ok"):
            log.warning("telegram %s refused: HTTP %s", method, resp.status_code)
            return None
        return body

    async def send_approval(self, approval_id: str, text: str) -> str | None:
        """Send the request with inline buttons; the Telegram message id, or None when it failed."""
        body = await self._call(
            "sendMessage",
            {
                "chat_id": self.chat_id,
                "text": text,
                "reply_markup": {
                    "inline_keyboard": [
                        [
                            {"text": "Approve", "callback_data": callback_data(APPROVE, approval_id)},
                            {"text": "Reject", "callback_data": callback_data(REJECT, approval_id)},
                        ]
                    ]
                },
            },
        )
        if body is None:
            return None
        message_id = (body.get("result") or {}).get("message_id")
        return None if message_id is None else str(message_id)

    async def answer_callback(self, callback_query_id: str, text: str) -> bool:
        return (
            await self._call("answerCallbackQuery", {"callback_query_id": callback_query_id, "text": text})
            is not None
        )

    async def edit_message(self, message_id: str, text: str) -> bool:
        payload = {"chat_id": self.chat_id, "message_id": int(message_id), "text": text}
        return await self._call("editMessageText", payload) is not None
