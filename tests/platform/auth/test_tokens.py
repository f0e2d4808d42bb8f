"""JWT access tokens: issuance, JWKS, rotation, and the attack list (every one refused with 401)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ridgeline.platform.auth.tokens import KeySnapshot, TokenError, TokenVerifier, VerificationKey
from tests.platform.auth.conftest import auth_of, bearer, call, login, make_user

pytestmark = pytest.mark.db


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], sign: Any) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


@pytest.fixture
def world(client):  # type: ignore[no-untyped-def]
    """A user, a valid token, the signing key and helpers to forge variants of the token."""
    user = make_user(client, "alice")
    token = login(client, "alice")
    key = call(client, auth_of(client).jwt_keys.signing_key)
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})

    def ed(
        header_over: dict[str, Any] | None = None,
        claims_over: dict[str, Any] | None = None,
        drop: str | None = None,
    ) -> str:
        h = {**header, **(header_over or {})}
        c = {**claims, **(claims_over or {})}
        if drop:
            c.pop(drop)
        return forge(h, c, key.private_key.sign)

    return {
        "client": client,
        "user": user,
        "token": token,
        "key": key,
        "header": header,
        "claims": claims,
        "ed": ed,
    }


def me(client: Any, token: str) -> Any:
    return client.get("/auth/me", headers=bearer(token))


def assert_refused(client: Any, token: str) -> None:
    for path in ("/auth/me", "/routing/signed-in"):
        r = client.get(path, headers=bearer(token))
        assert r.status_code == 401, (path, r.text)
        assert r.headers["www-authenticate"].startswith("Bearer")
        body = r.json()
        reason = body.get("reason_code") or body["detail"]["reason_code"]
        assert reason == "invalid_token"


def test_a_valid_token_is_accepted_and_has_the_rfc9068_shape(world) -> None:  # type: ignore[no-untyped-def]
    client, header, claims = world["client"], world["header"], world["claims"]
    assert header["alg"] == "EdDSA" and header["typ"] == "at+jwt" and header["kid"] == world["key"].kid
    assert {"exp", "iat", "iss", "aud", "sub", "jti", "client_id"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 900  # 15 minutes by default
    assert me(client, world["token"]).status_code == 200
    # The forging helper itself makes tokens the service accepts, so each refusal below is the rule's.
    assert me(client, world["ed"]()).status_code == 200


def test_login_answers_access_token_type_and_expiry(client) -> None:  # type: ignore[no-untyped-def]
    make_user(client, "bob")
    r = client.post("/auth/login", json={"username": "bob", "password": "pass-word-123"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 900


def test_token_ttl_is_a_setting(make_auth_client) -> None:  # type: ignore[no-untyped-def]
    client = make_auth_client(token_ttl_s=120)
    make_user(client, "bob")
    assert (
        client.post("/auth/login", json={"username": "bob", "password": "pass-word-123"}).json()["expires_in"]
        == 120
    )


def test_alg_none_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    h = {**world["header"], "alg": "none"}
    token = f"{b64(json.dumps(h).encode())}.{b64(json.dumps(world['claims']).encode())}."
    assert_refused(world["client"], token)


def test_hs256_signed_with_the_published_public_key_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    client = world["client"]
    jwk = client.get("/.well-known/jwks.json").json()["keys"][0]
    public_pem = (
        world["key"]
        .private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for secret in (public_pem, json.dumps(jwk).encode(), base64.urlsafe_b64decode(jwk["x"] + "=")):
        token = forge(
            {**world["header"], "alg": "HS256"},
            world["claims"],
            lambda m, s=secret: hmac.new(s, m, hashlib.sha256).digest(),
        )
        assert_refused(client, token)


def test_unknown_kid_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    assert_refused(world["client"], world["ed"]({"kid": "no-such-key"}))
    assert_refused(world["client"], world["ed"]({"kid": None}))


def test_kid_naming_a_key_of_another_algorithm_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    # An ES256 token (validly signed by an attacker's P-256 key) that names our EdDSA key.
    attacker = ec.generate_private_key(ec.SECP256R1())
    token = jwt.encode(
        world["claims"], attacker, algorithm="ES256", headers={"kid": world["key"].kid, "typ": "at+jwt"}
    )
    assert_refused(world["client"], token)


def test_verifier_allow_list_is_the_kids_algorithm() -> None:
    attacker = ec.generate_private_key(ec.SECP256R1())
    now = time.time()
    es_key = VerificationKey("es", "ES256", attacker.public_key(), {}, None)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    ed = Ed25519PrivateKey.generate()
    snap = KeySnapshot({"es": es_key, "ed": VerificationKey("ed", "EdDSA", ed.public_key(), {}, None)}, "ed")
    claims = {"iss": "i", "aud": "a", "sub": "s", "iat": int(now), "exp": int(now) + 60}
    verifier = TokenVerifier("i", "a", 30)
    # EdDSA-signed token naming the ES256 key: refused before the signature is looked at.
    bad = jwt.encode(claims, ed, algorithm="EdDSA", headers={"kid": "es", "typ": "at+jwt"})
    with pytest.raises(TokenError) as err:
        verifier.verify(bad, snap)
    assert err.value.reason == "algorithm_mismatch"
    good = jwt.encode(claims, attacker, algorithm="ES256", headers={"kid": "es", "typ": "at+jwt"})
    assert verifier.verify(good, snap)["sub"] == "s"


def test_a_verified_token_skips_its_signature_check_but_never_its_key_or_time_checks(monkeypatch) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    ed = Ed25519PrivateKey.generate()
    now = [1_000_000.0]
    live = KeySnapshot({"ed": VerificationKey("ed", "EdDSA", ed.public_key(), {}, None)}, "ed")
    retired = KeySnapshot({"ed": VerificationKey("ed", "EdDSA", ed.public_key(), {}, now[0] + 10)}, "ed")
    claims = {"iss": "i", "aud": "a", "sub": "s", "iat": int(now[0]), "exp": int(now[0]) + 60}
    token = jwt.encode(claims, ed, algorithm="EdDSA", headers={"kid": "ed", "typ": "at+jwt"})
    other = jwt.encode({**claims, "sub": "t"}, ed, algorithm="EdDSA", headers={"kid": "ed", "typ": "at+jwt"})
    verifier = TokenVerifier("i", "a", 30, clock=lambda: now[0], cache_size=1)
    assert verifier.verify(token, live)["sub"] == "s"
    decodes = []
    real_decode = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: decodes.append(1) or real_decode(*a, **k))
    assert verifier.verify(token, live)["sub"] == "s" and decodes == []  # remembered: no signature check
    now[0] += 20  # the key's overlap has ended: a remembered token is refused like any other
    with pytest.raises(TokenError) as err:
        verifier.verify(token, retired)
    assert err.value.reason == "unknown_kid"
    now[0] += 100  # past exp (and the leeway)
    with pytest.raises(TokenError) as err:
        verifier.verify(token, live)
    assert err.value.reason == "expired"
    now[0] -= 120
    assert verifier.verify(other, live)["sub"] == "t" and decodes == [1]  # a new token is checked...
    assert verifier.verify(token, live)["sub"] == "s" and decodes == [1, 1]  # ...and evicts the first


def test_expired_token_is_refused_but_leeway_applies(world) -> None:  # type: ignore[no-untyped-def]
    now = int(time.time())
    assert_refused(world["client"], world["ed"](claims_over={"exp": now - 120}))
    assert me(world["client"], world["ed"](claims_over={"exp": now - 5})).status_code == 200


def test_not_yet_valid_token_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    now = int(time.time())
    assert_refused(world["client"], world["ed"](claims_over={"nbf": now + 600}))
    assert_refused(world["client"], world["ed"](claims_over={"iat": now + 600}))


@pytest.mark.parametrize("claim,value", [("aud", "someone-else"), ("iss", "https://evil.example")])
def test_wrong_audience_or_issuer_is_refused(world, claim: str, value: str) -> None:  # type: ignore[no-untyped-def]
    assert_refused(world["client"], world["ed"](claims_over={claim: value}))


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub"])
def test_missing_required_claim_is_refused(world, claim: str) -> None:  # type: ignore[no-untyped-def]
    assert_refused(world["client"], world["ed"](drop=claim))


@pytest.mark.parametrize("typ", ["JWT", "jwt", None, "at+jwt+evil"])
def test_wrong_typ_is_refused(world, typ: str | None) -> None:  # type: ignore[no-untyped-def]
    header = {**world["header"], "typ": typ}
    if typ is None:
        header.pop("typ")
    token = forge(header, world["claims"], world["key"].private_key.sign)
    assert_refused(world["client"], token)


@pytest.mark.parametrize("name", ["jku", "x5u", "jwk", "x5c"])
def test_key_reference_headers_are_refused(world, name: str) -> None:  # type: ignore[no-untyped-def]
    value: Any = (
        "https://evil.example/keys"
        if name in ("jku", "x5u")
        else ({"kty": "OKP"} if name == "jwk" else ["MIIB"])
    )
    assert_refused(world["client"], world["ed"]({name: value}))


def test_tampered_payload_is_refused(world) -> None:  # type: ignore[no-untyped-def]
    head, payload, sig = world["token"].split(".")
    claims = {**world["claims"], "role": "superadmin", "sub": "someone-else"}
    assert_refused(world["client"], f"{head}.{b64(json.dumps(claims).encode())}.{sig}")
    assert_refused(world["client"], f"{head}.{payload}.{sig[:-4]}AAAA")
    assert_refused(world["client"], "not-a-jwt")


def test_rotation_keeps_old_tokens_valid_during_the_overlap_and_publishes_both_keys(world) -> None:  # type: ignore[no-untyped-def]
    client = world["client"]
    auth = auth_of(client)
    old_kid = world["key"].kid
    new_kid = call(client, auth.rotate_jwt_key, actor="test")  # default overlap: one hour
    kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert kids == {old_kid, new_kid}
    assert me(client, world["token"]).status_code == 200
    new_token = login(client, "alice")
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    assert me(client, new_token).status_code == 200


def test_a_rotated_out_key_is_refused_after_its_overlap(world) -> None:  # type: ignore[no-untyped-def]
    client = world["client"]
    auth = auth_of(client)
    call(client, auth.rotate_jwt_key, actor="test", overlap_s=0)
    assert_refused(client, world["token"])
    kids = {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
    assert world["key"].kid not in kids and len(kids) == 1


def test_jwks_publishes_public_okp_keys_only(client) -> None:  # type: ignore[no-untyped-def]
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert keys and all(k["kty"] == "OKP" and k["crv"] == "Ed25519" and k["alg"] == "EdDSA" for k in keys)
    assert all("d" not in k for k in keys)  # no private part


def test_jwt_key_is_not_the_manifest_signing_key(client) -> None:  # type: ignore[no-untyped-def]
    jwk = client.get("/.well-known/jwks.json").json()["keys"][0]
    manifest_key = client.get("/signing-key").json()["public_key_b64"]
    assert base64.b64decode(manifest_key) != base64.urlsafe_b64decode(jwk["x"] + "=")


def test_the_jwt_private_key_is_sealed_in_the_database(client) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    from ridgeline.platform.auth.store import jwt_keys_table

    async def rows() -> list[Any]:
        async with auth_of(client).db.begin() as conn:
            return (await conn.execute(sa.select(jwt_keys_table))).all()

    key = call(client, auth_of(client).jwt_keys.signing_key)
    der = key.private_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    for row in call(client, rows):
        assert row.private_sealed.startswith("v1.")
        assert b64(der) not in row.private_sealed and der.hex() not in row.private_sealed


def test_a_key_another_worker_just_published_verifies_at_once(client) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.platform.auth.service import AuthService

    mine = auth_of(client)
    user = make_user(client, "walt")
    call(client, mine.jwt_keys.snapshot)  # this worker has its key set cached
    other = AuthService(mine.db, mine.settings, mine.db.settings.data_dir)  # a second worker, same database

    async def sign_elsewhere() -> list[str]:
        await other.rotate_jwt_key(actor="test")
        return [(await other.issue_token(user))[0] for _ in range(3)]

    tokens = call(client, sign_elsewhere)
    assert jwt.get_unverified_header(tokens[0])["kid"] not in call(client, mine.jwt_keys.snapshot).keys
    for token in tokens:  # several at once, within the cache period: each finds the new key
        assert me(client, token).status_code == 200
