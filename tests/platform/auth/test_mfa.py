"""V6.3.2: TOTP second factor (pyotp, RFC 6238): enrolment, login with ``otp``, replay refusal,
recovery codes (hashed, single use), the secret sealed at rest, disabling with password and code."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
import sqlalchemy as sa

from ridgeline.platform.auth.settings import RateLimitSpec
from ridgeline.platform.auth.store import mfa_recovery_table, mfa_totp_table
from tests.platform.auth.conftest import auth_of, bearer, call, login, make_user

pytestmark = pytest.mark.db

T0 = 1_900_000_020.0  # a fixed clock, at the start of a 30 s step


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(client) -> Clock:  # type: ignore[no-untyped-def]
    c = Clock()
    auth_of(client).mfa.clock = c
    return c


def enrol(client: Any, token: str, clock: Clock) -> tuple[pyotp.TOTP, list[str]]:
    r = client.post("/auth/mfa/totp", headers=bearer(token))
    assert r.status_code == 201, r.text
    uri = r.json()["provisioning_uri"]
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    secret = parse_qs(parsed.query)["secret"][0]
    assert secret == r.json()["secret"]
    totp = pyotp.TOTP(secret)
    r = client.post("/auth/mfa/totp/confirm", json={"otp": totp.at(clock.now)}, headers=bearer(token))
    assert r.status_code == 200, r.text
    return totp, r.json()["recovery_codes"]


def sign_in(client: Any, username: str, otp: str | None = None) -> Any:
    body: dict[str, Any] = {"username": username, "password": "pass-word-123"}
    if otp is not None:
        body["otp"] = otp
    return client.post("/auth/login", json=body)


def test_login_needs_the_code_once_enrolled(client, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    make_user(client, "mia")
    totp, codes = enrol(client, login(client, "mia"), clock)
    assert len(codes) == 10 and len(set(codes)) == 10
    r = sign_in(client, "mia")
    assert r.status_code == 401 and r.json()["reason_code"] == "mfa_required"
    live = {totp.at(clock.now + d) for d in (-30, 0, 30)}
    r = sign_in(client, "mia", next(c for c in ("000000", "111111", "222222", "333333") if c not in live))
    assert r.status_code == 401 and r.json()["reason_code"] == "mfa_invalid"
    clock.now += 30
    r = sign_in(client, "mia", totp.at(clock.now))
    assert r.status_code == 200, r.text
    # The same code again (a replay, even inside its window) is refused.
    r = sign_in(client, "mia", totp.at(clock.now))
    assert r.status_code == 401 and r.json()["reason_code"] == "mfa_invalid"
    # One step of clock drift either way is accepted; two are not.
    assert sign_in(client, "mia", totp.at(clock.now + 30)).status_code == 200
    assert sign_in(client, "mia", totp.at(clock.now + 90)).json()["reason_code"] == "mfa_invalid"
    # The wrong password still says invalid_credentials first (the code is asked only after it).
    r = client.post("/auth/login", json={"username": "mia", "password": "nope-nope-nope", "otp": "123456"})
    assert r.json()["reason_code"] == "invalid_credentials"


def test_recovery_codes_work_once_and_are_hashed(client, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    user = make_user(client, "rex")
    _, codes = enrol(client, login(client, "rex"), clock)
    assert sign_in(client, "rex", codes[0]).status_code == 200
    r = sign_in(client, "rex", codes[0])
    assert r.status_code == 401 and r.json()["reason_code"] == "mfa_invalid"
    assert sign_in(client, "rex", codes[1].upper().replace("-", "")).status_code == 200

    async def rows() -> tuple[Any, list[Any]]:
        async with auth_of(client).db.begin() as conn:
            totp = (await conn.execute(sa.select(mfa_totp_table))).one()
            rec = (await conn.execute(sa.select(mfa_recovery_table))).all()
        return totp, rec

    totp_row, recovery = call(client, rows)
    stored = " ".join(str(v) for r in recovery for v in r) + str(tuple(totp_row))
    assert not any(c in stored or c.replace("-", "") in stored for c in codes)
    assert totp_row.secret_sealed.startswith("v1.")  # sealed by the secrets box
    secret = auth_of(client).secrets.open(totp_row.secret_sealed, f"auth:totp:{user.id}").decode()
    assert secret not in stored and len(secret) == 32
    assert call(client, auth_of(client).mfa.remaining_recovery_codes, user.id) == 8


def test_enrolment_is_not_on_until_confirmed(client, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    make_user(client, "nia")
    token = login(client, "nia")
    assert client.post("/auth/mfa/totp", headers=bearer(token)).status_code == 201
    assert sign_in(client, "nia").status_code == 200  # pending only: login unchanged
    r = client.post("/auth/mfa/totp/confirm", json={"otp": "12345x"}, headers=bearer(token))
    assert r.status_code == 403 and r.json()["reason_code"] == "mfa_invalid"
    enrol(client, token, clock)
    r = client.post("/auth/mfa/totp", headers=bearer(token))
    assert r.status_code == 409 and r.json()["reason_code"] == "mfa_already_enabled"
    r = client.post("/auth/mfa/totp")
    assert r.status_code == 401 and r.json()["reason_code"] == "not_authenticated"


def test_disabling_needs_the_password_and_a_code(client, clock: Clock) -> None:  # type: ignore[no-untyped-def]
    make_user(client, "dora")
    token = login(client, "dora")
    r = client.post(
        "/auth/mfa/totp/disable", json={"password": "pass-word-123", "otp": "123456"}, headers=bearer(token)
    )
    assert r.status_code == 409 and r.json()["reason_code"] == "mfa_not_enabled"
    totp, _ = enrol(client, token, clock)
    clock.now += 30
    good = totp.at(clock.now)
    r = client.post(
        "/auth/mfa/totp/disable", json={"password": "wrong-password", "otp": good}, headers=bearer(token)
    )
    assert r.status_code == 403 and r.json()["reason_code"] == "invalid_current_password"
    r = client.post(
        "/auth/mfa/totp/disable", json={"password": "pass-word-123", "otp": "999999"}, headers=bearer(token)
    )
    assert r.status_code == 403 and r.json()["reason_code"] == "mfa_invalid"
    assert sign_in(client, "dora").json()["reason_code"] == "mfa_required"  # still on
    r = client.post(
        "/auth/mfa/totp/disable", json={"password": "pass-word-123", "otp": good}, headers=bearer(token)
    )
    assert r.status_code == 204
    assert sign_in(client, "dora").status_code == 200


def test_codes_are_rate_limited_like_login(make_auth_client) -> None:  # type: ignore[no-untyped-def]
    client = make_auth_client(login_rate_limit=RateLimitSpec(3, 60))
    clock = Clock()
    auth_of(client).mfa.clock = clock
    make_user(client, "gus")
    token = login(client, "gus")
    r = [
        client.post("/auth/mfa/totp/confirm", json={"otp": "000000"}, headers=bearer(token)) for _ in range(4)
    ]
    assert [x.status_code for x in r] == [403, 403, 403, 429]
    assert r[3].json()["reason_code"] == "rate_limited" and "retry-after" in r[3].headers


def test_codes_are_limited_per_account_across_client_addresses(make_auth_client) -> None:  # type: ignore[no-untyped-def]
    """Guesses from a fresh address each time never reach the per-client limit; the per-account
    ``mfa:user`` bucket still stops them (ASVS V6.3.1/V6.3.2), for that account only."""
    client = make_auth_client(login_rate_limit=RateLimitSpec(3, 60))
    auth = auth_of(client)
    clock = Clock()
    auth.mfa.clock = clock
    auth.limiter.clock = clock  # one fixed window: the counts cannot roll over mid-test
    # Every request arrives from its own address (as from many hosts): only a per-account count
    # can refuse one.
    addresses = (f"198.51.100.{i}" for i in range(1, 255))
    inner = client.app.asgi_handler

    async def from_a_new_address(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope["client"] = (next(addresses), 40000)
        await inner(scope, receive, send)

    client.app.asgi_handler = from_a_new_address
    make_user(client, "ivy")
    make_user(client, "jon")
    ivy, _ = enrol(client, login(client, "ivy"), clock)
    jon, _ = enrol(client, login(client, "jon"), clock)
    clock.now += 30  # past the enrolment codes' step
    live = {t.at(clock.now + d) for t in (ivy, jon) for d in (-30, 0, 30)}
    wrong = next(
        c for c in ("000000", "111111", "222222", "333333", "444444", "555555", "666666") if c not in live
    )

    guesses = [sign_in(client, "ivy", wrong) for _ in range(4)]
    assert [r.status_code for r in guesses] == [401, 401, 401, 429]
    assert [r.json()["reason_code"] for r in guesses] == ["mfa_invalid"] * 3 + ["rate_limited"]
    assert 1 <= int(guesses[3].headers["retry-after"]) <= 60
    # Once spent, even the right code waits for the window: the count is per account, not per guess.
    r = sign_in(client, "ivy", ivy.at(clock.now))
    assert r.status_code == 429 and r.json()["reason_code"] == "rate_limited"
    # Another account is not limited by ivy's guesses.
    r = sign_in(client, "jon", wrong)
    assert r.status_code == 401 and r.json()["reason_code"] == "mfa_invalid"
    assert sign_in(client, "jon", jon.at(clock.now)).status_code == 200
    # The next window gives ivy her attempts back.
    clock.now += 60
    assert sign_in(client, "ivy", ivy.at(clock.now)).status_code == 200
