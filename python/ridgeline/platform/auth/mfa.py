"""TOTP second factor (RFC 6238 via pyotp: SHA-1, 6 digits, 30 s steps) and recovery codes.

- The base32 secret is sealed by the secrets box (associated data ``auth:totp:<user id>``), so a
  database copy alone does not give the second factor away.
- A code is accepted for the current step or one step either side (clock drift), and each step at
  most once per user: the accepted step is stored with a conditional UPDATE, so a replayed code (or
  two requests racing with the same code) fails (RFC 6238 section 5.2).
- Ten recovery codes of 80 random bits each are shown once at confirmation; only
  ``HMAC-SHA256(pepper, code)`` is stored and a code is spent by a conditional UPDATE.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pyotp
import sqlalchemy as sa

from ridgeline.platform.auth.secrets import SecretBox
from ridgeline.platform.auth.store import mfa_recovery_table, mfa_totp_table
from ridgeline.platform.db import Database

RECOVERY_CODES = 10
STEP_S = 30
DRIFT_STEPS = 1


def _aad(user_id: str) -> str:
    return f"auth:totp:{user_id}"


def new_recovery_code() -> str:
    raw = base64.b32encode(os.urandom(10)).decode().lower()  # 80 bits, 16 characters
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _normalise_code(code: str) -> str:
    return code.strip().lower().replace("-", "").replace(" ", "")


class Mfa:
    def __init__(
        self, db: Database, box: SecretBox, pepper: bytes, issuer: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.db = db
        self.box = box
        self._pepper = pepper
        self.issuer = issuer
        self.clock = clock

    def _recovery_hash(self, code: str) -> str:
        return hmac.new(self._pepper, _normalise_code(code).encode(), hashlib.sha256).hexdigest()

    async def enabled(self, user_id: str) -> bool:
        t = mfa_totp_table
        async with self.db.begin() as conn:
            row = (await conn.execute(sa.select(t.c.confirmed_at).where(t.c.user_id == user_id))).first()
        return row is not None and row.confirmed_at is not None

    async def begin(self, user_id: str, account_name: str) -> tuple[str, str]:
        """A fresh, unconfirmed secret for the user (replacing an unconfirmed one); returns the
        secret and its ``otpauth://`` provisioning URI. The caller refuses when MFA is already on."""
        secret = pyotp.random_base32(32)  # 160 bits, RFC 4226's recommended length
        t = mfa_totp_table
        now = self._now()
        async with self.db.begin() as conn:
            await conn.execute(t.delete().where(t.c.user_id == user_id, t.c.confirmed_at.is_(None)))
            await conn.execute(
                t.insert().values(
                    user_id=user_id,
                    secret_sealed=self.box.seal(secret, _aad(user_id)),
                    created_at=now,
                    confirmed_at=None,
                    last_step=None,
                )
            )
        uri = pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=self.issuer)
        return secret, uri

    async def confirm(self, user_id: str, code: str) -> list[str] | None:
        """Confirm a pending enrolment with a current code; returns the recovery codes (shown once),
        or None when there is no pending enrolment or the code is wrong."""
        if not await self._check_totp(user_id, code, confirmed=False):
            return None
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
        t, r = mfa_totp_table, mfa_recovery_table
        async with self.db.begin() as conn:
            await conn.execute(t.update().where(t.c.user_id == user_id).values(confirmed_at=self._now()))
            await conn.execute(r.delete().where(r.c.user_id == user_id))
            await conn.execute(
                r.insert(), [{"user_id": user_id, "code_hash": self._recovery_hash(c)} for c in codes]
            )
        return codes

    async def verify(self, user_id: str, code: str) -> bool:
        """A second factor at login: a TOTP code (once per step) or an unused recovery code."""
        if await self._check_totp(user_id, code, confirmed=True):
            return True
        r = mfa_recovery_table
        async with self.db.begin() as conn:
            result = await conn.execute(
                r.update()
                .where(
                    r.c.user_id == user_id,
                    r.c.code_hash == self._recovery_hash(code),
                    r.c.used_at.is_(None),
                )
                .values(used_at=self._now())
            )
        return bool(result.rowcount)

    async def disable(self, user_id: str) -> None:
        t, r = mfa_totp_table, mfa_recovery_table
        async with self.db.begin() as conn:
            await conn.execute(t.delete().where(t.c.user_id == user_id))
            await conn.execute(r.delete().where(r.c.user_id == user_id))

    async def remaining_recovery_codes(self, user_id: str) -> int:
        r = mfa_recovery_table
        async with self.db.begin() as conn:
            return int(
                (
                    await conn.execute(
                        sa.select(sa.func.count())
                        .select_from(r)
                        .where(r.c.user_id == user_id, r.c.used_at.is_(None))
                    )
                ).scalar_one()
            )

    async def _check_totp(self, user_id: str, code: str, *, confirmed: bool) -> bool:
        code = code.strip()
        if not (len(code) == 6 and code.isdigit()):
            return False
        t = mfa_totp_table
        state = t.c.confirmed_at.is_not(None) if confirmed else t.c.confirmed_at.is_(None)
        async with self.db.begin() as conn:
            row = (await conn.execute(sa.select(t).where(t.c.user_id == user_id, state))).first()
        if row is None:
            return False
        totp = pyotp.TOTP(self.box.open(row.secret_sealed, _aad(user_id)).decode())
        now = self.clock()
        current = int(now // STEP_S)
        matched = None
        for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                matched = step
        if matched is None:
            return False
        async with self.db.begin() as conn:
            result = await conn.execute(
                t.update()
                .where(
                    t.c.user_id == user_id,
                    state,
                    sa.or_(t.c.last_step.is_(None), t.c.last_step < matched),
                )
                .values(last_step=matched)
            )
        return bool(result.rowcount)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)
