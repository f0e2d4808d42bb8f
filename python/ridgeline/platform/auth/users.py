"""Users: case-insensitively unique username and email, argon2id password, a role, a disabled flag."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ridgeline.platform.auth.passwords import Passwords
from ridgeline.platform.auth.roles import Role, is_superuser
from ridgeline.platform.auth.store import users_table
from ridgeline.platform.db import Database

if TYPE_CHECKING:
    from ridgeline.platform.auth.password_policy import PasswordPolicy

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class UserError(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class User(msgspec.Struct, kw_only=True):
    id: str
    username: str
    email: str | None
    role: Role
    disabled: bool
    created_at: datetime
    updated_at: datetime

    @property
    def is_superuser(self) -> bool:
        return is_superuser(self.role)


class Users:
    def __init__(
        self,
        db: Database,
        passwords: Passwords,
        min_length: int,
        clock: Callable[[], float] = time.time,
        policy: PasswordPolicy | None = None,
    ) -> None:
        from ridgeline.platform.auth.password_policy import PasswordPolicy

        self.db = db
        self.passwords = passwords
        self.min_length = min_length
        self.clock = clock
        self.policy = policy or PasswordPolicy(min_length)
        self._cache: dict[str, tuple[float, User | None]] = {}

    async def create(
        self, username: str, password: str, *, email: str | None = None, role: Role = Role.USER
    ) -> User:
        if not USERNAME.match(username):
            raise UserError(
                "invalid_username", "username must be 3-64 characters of letters, digits, _ . @ -"
            )
        if email is not None and (len(email) > 320 or not EMAIL.match(email)):
            raise UserError("invalid_email", "email is not a valid address")
        self.policy.check(password, username=username, email=email)
        now = self._now()
        user = User(
            id=os.urandom(16).hex(),
            username=username,
            email=email,
            role=role,
            disabled=False,
            created_at=now,
            updated_at=now,
        )
        password_hash = await self.passwords.hash(password)
        try:
            async with self.db.begin() as conn:
                await conn.execute(
                    users_table.insert().values(
                        id=user.id,
                        username=username,
                        username_lower=username.lower(),
                        email=email,
                        email_lower=email.lower() if email else None,
                        password_hash=password_hash,
                        role=role.value,
                        disabled=False,
                        created_at=now,
                        updated_at=now,
                    )
                )
        except IntegrityError:
            if await self.by_username(username) is not None:
                raise UserError("username_taken", "that username is taken") from None
            raise UserError("email_taken", "that email is already registered") from None
        return user

    async def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password matches (disabled users included: the caller refuses them)."""
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    sa.select(users_table).where(users_table.c.username_lower == username.lower())
                )
            ).first()
        ok = await self.passwords.verify(row.password_hash if row is not None else None, password)
        if row is None or not ok:
            return None
        return _user(row)

    async def verify_password(self, user_id: str, password: str) -> bool:
        """Whether ``password`` is the user's current one (re-authentication, V6.2.3)."""
        async with self.db.begin() as conn:
            stored = (
                await conn.execute(sa.select(users_table.c.password_hash).where(users_table.c.id == user_id))
            ).scalar()
        return await self.passwords.verify(stored, password)

    async def set_password(self, user: User, password: str) -> None:
        """Replace the password after the policy check (the caller ends the user's sessions)."""
        self.policy.check(password, username=user.username, email=user.email)
        password_hash = await self.passwords.hash(password)
        async with self.db.begin() as conn:
            await conn.execute(
                users_table.update()
                .where(users_table.c.id == user.id)
                .values(password_hash=password_hash, updated_at=self._now())
            )

    async def by_email(self, email: str) -> User | None:
        async with self.db.begin() as conn:
            row = (
                await conn.execute(sa.select(users_table).where(users_table.c.email_lower == email.lower()))
            ).first()
        return _user(row) if row is not None else None

    async def get(self, user_id: str) -> User | None:
        async with self.db.begin() as conn:
            row = (await conn.execute(sa.select(users_table).where(users_table.c.id == user_id))).first()
        return _user(row) if row is not None else None

    async def get_cached(self, user_id: str, max_age_s: float) -> User | None:
        """A user as this worker saw it at most ``max_age_s`` ago (role and disabled flag checks)."""
        hit = self._cache.get(user_id)
        now = time.monotonic()
        if hit is not None and now - hit[0] < max_age_s:
            return hit[1]
        user = await self.get(user_id)
        if len(self._cache) > 10000:
            self._cache.clear()
        self._cache[user_id] = (now, user)
        return user

    def clear_cache(self) -> None:
        self._cache.clear()

    async def by_username(self, username: str) -> User | None:
        async with self.db.begin() as conn:
            row = (
                await conn.execute(
                    sa.select(users_table).where(users_table.c.username_lower == username.lower())
                )
            ).first()
        return _user(row) if row is not None else None

    async def list(self) -> list[User]:
        async with self.db.begin() as conn:
            rows = (await conn.execute(sa.select(users_table).order_by(users_table.c.created_at))).all()
        return [_user(r) for r in rows]

    async def update(
        self, username: str, *, role: Role | None = None, disabled: bool | None = None
    ) -> User | None:
        values: dict[str, object] = {"updated_at": self._now()}
        if role is not None:
            values["role"] = role.value
        if disabled is not None:
            values["disabled"] = disabled
        async with self.db.begin() as conn:
            result = await conn.execute(
                users_table.update().where(users_table.c.username_lower == username.lower()).values(**values)
            )
        if not result.rowcount:
            return None
        user = await self.by_username(username)
        if user is not None:
            self._cache.pop(user.id, None)
        return user

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)


def _user(row: sa.Row) -> User:
    created, updated = row.created_at, row.updated_at
    return User(
        id=row.id,
        username=row.username,
        email=row.email,
        role=Role(row.role),
        disabled=bool(row.disabled),
        created_at=created if created.tzinfo else created.replace(tzinfo=UTC),
        updated_at=updated if updated.tzinfo else updated.replace(tzinfo=UTC),
    )
