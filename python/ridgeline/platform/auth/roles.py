"""Roles, ordered: ``user`` < ``admin`` < ``superadmin`` (contract 004's words).

Contract 003 speaks of ``is_superuser`` ("Admin only (is_superuser=true)"). This module is the one
place the two vocabularies meet: ``is_superuser`` is true for ``admin`` and above, and a user created
with ``is_superuser=True`` gets ``admin``.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    USER = "user"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_RANK = {Role.USER: 1, Role.ADMIN: 2, Role.SUPERADMIN: 3}


def is_superuser(role: Role) -> bool:
    """Contract 003's flag for a role."""
    return role.at_least(Role.ADMIN)


def role_from_is_superuser(flag: bool) -> Role:
    """The role for contract 003's flag."""
    return Role.ADMIN if flag else Role.USER
