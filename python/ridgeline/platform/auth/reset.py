"""Self-service password reset (ASVS 5.0 V6.4.3) and the outbound mail it needs.

``POST /auth/password/forgot`` answers the same 202 whether or not the address belongs to an
account; the lookup, the token and the mail happen after the answer is sent (a background task),
so neither the body nor the time tells. The token is 256 random bits, mailed once, stored only as
its SHA-256, valid for ``RIDGELINE_AUTH_PASSWORD_RESET_TTL_S`` (30 min) and spent by a conditional
UPDATE, so it works exactly once; a new request, or a use, voids the user's other reset tokens.
Mail goes through the stdlib :mod:`smtplib` (in a thread) to ``RIDGELINE_AUTH_SMTP_HOST``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import smtplib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage

import sqlalchemy as sa

from ridgeline.platform.auth.settings import AuthSettings
from ridgeline.platform.auth.store import password_resets_table
from ridgeline.platform.db import Database

log = logging.getLogger("ridgeline.auth.reset")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Mailer:
    """One message at a time over SMTP (STARTTLS and login when configured)."""

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings

    @property
    def configured(self) -> bool:
        return self.settings.smtp_host is not None

    async def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.settings.smtp_from or ""
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        s = self.settings
        assert s.smtp_host is not None
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username and s.smtp_password is not None:
                smtp.login(s.smtp_username, s.smtp_password.get())
            smtp.send_message(message)


class PasswordResets:
    def __init__(self, db: Database, ttl_s: int, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.ttl_s = ttl_s
        self.clock = clock

    async def create(self, user_id: str) -> str:
        """A new token for the user; any earlier unused ones stop working."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        t = password_resets_table
        async with self.db.begin() as conn:
            await conn.execute(t.delete().where(t.c.user_id == user_id))
            await conn.execute(
                t.insert().values(
                    token_hash=token_hash(token),
                    user_id=user_id,
                    created_at=_dt(now),
                    expires_at=_dt(now + self.ttl_s),
                    used_at=None,
                )
            )
        return token

    async def peek(self, token: str) -> str | None:
        """The user id of a live token, without spending it (to check the new password first)."""
        t = password_resets_table
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    sa.select(t.c.user_id).where(
                        t.c.token_hash == token_hash(token),
                        t.c.used_at.is_(None),
                        t.c.expires_at > _dt(self.clock()),
                    )
                )
            ).first()
        return row.user_id if row is not None else None

    async def spend(self, token: str) -> str | None:
        """Mark the token used; the user id when this call spent a live token, else None."""
        t = password_resets_table
        now = _dt(self.clock())
        async with self.db.begin() as conn:
            row = (
                await conn.execute(sa.select(t.c.user_id).where(t.c.token_hash == token_hash(token)))
            ).first()
            if row is None:
                return None
            result = await conn.execute(
                t.update()
                .where(t.c.token_hash == token_hash(token), t.c.used_at.is_(None), t.c.expires_at > now)
                .values(used_at=now)
            )
            if not result.rowcount:
                return None
            await conn.execute(t.delete().where(t.c.user_id == row.user_id, t.c.used_at.is_(None)))
        return str(row.user_id)


def _dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
