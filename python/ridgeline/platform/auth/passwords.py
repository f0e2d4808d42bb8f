"""Password hashing with argon2id, always off the event loop.

The ``default`` profile is argon2-cffi's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4); ``test``
(``RIDGELINE_AUTH_PASSWORD_PROFILE=test``, for test suites only) is t=1, m=8 KiB so suites stay fast.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


def make_hasher(profile: str) -> PasswordHasher:
    if profile == "test":
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
    return PasswordHasher(type=Type.ID)


class Passwords:
    def __init__(self, profile: str) -> None:
        self._hasher = make_hasher(profile)
        # Verified when the user does not exist, so an unknown name costs as much as a wrong password.
        self._dummy = self._hasher.hash("ridgeline-no-such-user")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        return await asyncio.to_thread(self._verify, stored_hash, password)

    def _verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._dummy, password) and stored_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)
