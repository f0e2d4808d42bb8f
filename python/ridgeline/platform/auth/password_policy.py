"""What a new password must not be (ASVS 5.0 V6.2.1, V6.2.4, V6.2.11): shorter than the minimum, one
of the common passwords, or built on a context-specific word.

The common list is the ``passwords`` frequency list shipped by the ``zxcvbn`` package (30,000 entries
ranked by frequency in leaked password sets; lower case), compared ignoring case. The context words
are the service's names (``ridgeline``, the token issuer), the words of
``RIDGELINE_AUTH_PASSWORD_CONTEXT_WORDS``, the user's username, the local part of their email and
the names of its domain (``example`` of ``a@example.com``, not ``com``); a password that contains one
of them (ignoring case, words of 4 characters or more) is refused. No composition
rules (V6.2.5).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from ridgeline.platform.auth.users import UserError

SERVICE_WORDS = ("ridgeline",)
MIN_CONTEXT_WORD = 4


@functools.cache
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # ~30k strings: loaded on the first check

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def context_words(username: str | None, email: str | None, extra: Iterable[str] = ()) -> set[str]:
    """The lower-cased words a password of this user may not contain."""
    words = {w.lower() for w in (*SERVICE_WORDS, *extra) if w}
    if username:
        words.add(username.lower())
    if email:
        local, _, domain = email.lower().partition("@")
        words.add(local)
        words.update(domain.split(".")[:-1])  # the domain's names, not its top-level label
    return {w for w in words if len(w) >= MIN_CONTEXT_WORD}


class PasswordPolicy:
    def __init__(self, min_length: int, extra_words: Iterable[str] = ()) -> None:
        self.min_length = min_length
        self.extra_words = tuple(w.strip().lower() for w in extra_words if w.strip())

    def check(self, password: str, *, username: str | None = None, email: str | None = None) -> None:
        """Raise :class:`UserError` (``weak_password``, ``password_common``, ``password_contextual``)."""
        if not self.min_length <= len(password) <= 1024:
            raise UserError("weak_password", f"password must be {self.min_length}..1024 characters")
        lowered = password.lower()
        if lowered in common_passwords():
            raise UserError(
                "password_common", "that password is one of the most common passwords; choose another"
            )
        for word in context_words(username, email, self.extra_words):
            if word in lowered:
                raise UserError(
                    "password_contextual",
                    "the password contains the service name or part of your username or email; choose another",
                )
