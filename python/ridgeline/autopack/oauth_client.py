"""The OAuth 2.0 refresh-token grant (RFC 6749 section 6) against a provider's token endpoint. The
client authenticates with HTTP Basic (``client_secret_basic``, which section 2.3.1 requires servers to
support), or sends ``client_id`` in the body when it has no secret (a public client). Errors come
back as :class:`RefreshError` carrying the RFC 6749 5.2 ``error`` code, never a token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import msgspec


class RefreshError(Exception):
    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class TokenGrant(msgspec.Struct, frozen=True):
    access_token: str
    refresh_token: str | None  # set when the server rotates the refresh token
    expires_at: datetime | None
    scopes: list[str] | None


async def refresh_grant(
    token_url: str,
    *,
    client_id: str | None,
    client_secret: str | None,
    refresh_token: str,
    scopes: list[str] | None = None,
    now: datetime | None = None,
    timeout_s: float = 10.0,
) -> TokenGrant:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if scopes:
        form["scope"] = " ".join(scopes)
    auth = None
    if client_id and client_secret:
        auth = httpx.BasicAuth(client_id, client_secret)
    elif client_id:
        form["client_id"] = client_id
    try:
        async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as client:
            resp = await client.post(token_url, data=form, auth=auth, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise RefreshError(f"token endpoint unreachable ({type(exc).__name__})") from None
    try:
        body = resp.json()
    except ValueError:
        body = None
    if resp.status_code != 200 or not isinstance(body, dict):
        code = body.get("error") if isinstance(body, dict) else None
        raise RefreshError(f"HTTP {resp.status_code}" + (f" {str(code)[:64]}" if code else ""))
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise RefreshError("no access_token in the token response")
    expires_in = body.get("expires_in")
    now = now or datetime.now(UTC)
    expires_at = (
        now + timedelta(seconds=int(expires_in))
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool) and expires_in > 0
        else None
    )
    new_refresh = body.get("refresh_token")
    scope = body.get("scope")
    return TokenGrant(
        access_token=access,
        refresh_token=new_refresh if isinstance(new_refresh, str) and new_refresh else None,
        expires_at=expires_at,
        scopes=scope.split() if isinstance(scope, str) else None,
    )
