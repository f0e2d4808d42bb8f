"""Route policies: public, API key with scope, bearer, role at least X, owner-or-role, the family
default (public unless a setting requires auth) and contract 003's environment rule."""

from __future__ import annotations

from typing import Any

import pytest

from ridgeline.platform.auth import ContractEnvironment, Role
from ridgeline.platform.auth.roles import is_superuser, role_from_is_superuser
from tests.platform.auth.conftest import OWNERS, auth_of, bearer, call, login, make_user, probe_family

pytestmark = pytest.mark.db


def reason(r: Any) -> str:
    body = r.json()
    return body["detail"]["reason_code"] if isinstance(body.get("detail"), dict) else body["reason_code"]


def new_key(client: Any, scopes: list[str], owner: str | None = None) -> str:
    return call(client, auth_of(client).create_api_key, actor="test", scopes=scopes, owner=owner).key


def test_routes_without_a_policy_are_public(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/routing/open")
    assert r.status_code == 200 and r.json() == {"kind": "anonymous"}
    assert client.get("/health").status_code == 200


def test_missing_credential_is_401_with_a_challenge_in_the_familys_shape(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/routing/keyed")
    assert r.status_code == 401
    assert r.json()["detail"]["reason_code"] == "not_authenticated"  # contract 000's detail object
    assert "request_id" in r.json()["detail"]
    assert r.headers["www-authenticate"] == 'ApiKey realm="ridgeline", header="X-API-Key"'
    r = client.get("/routing/either")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith('Bearer realm="ridgeline"')
    # The root auth routes use the FastAPI-style shape.
    r = client.get("/auth/me")
    assert r.status_code == 401 and r.json()["reason_code"] == "not_authenticated"


def test_api_key_with_scope(client) -> None:  # type: ignore[no-untyped-def]
    good = new_key(client, ["runs:write"])
    star = new_key(client, ["*"])
    other = new_key(client, ["runs:read"])
    r = client.get("/routing/keyed", headers={"X-API-Key": good})
    assert r.status_code == 200 and r.json()["kind"] == "api_key"
    assert client.get("/routing/keyed", headers={"X-API-Key": star}).status_code == 200
    r = client.get("/routing/keyed", headers={"X-API-Key": other})
    assert r.status_code == 403 and reason(r) == "insufficient_scope"
    assert client.get("/routing/any-key", headers={"X-API-Key": other}).status_code == 200
    r = client.get("/routing/keyed", headers={"X-API-Key": good[:-2] + "xx"})
    assert r.status_code == 401 and reason(r) == "invalid_api_key"


def test_bearer_only_routes_refuse_api_keys_and_key_routes_refuse_tokens(client) -> None:  # type: ignore[no-untyped-def]
    make_user(client, "alice")
    token = login(client, "alice")
    key = new_key(client, ["*"])
    r = client.get("/routing/signed-in", headers={"X-API-Key": key})
    assert r.status_code == 401 and reason(r) == "not_authenticated"
    r = client.get("/routing/any-key", headers=bearer(token))
    assert r.status_code == 401 and reason(r) == "not_authenticated"
    assert client.get("/routing/either", headers=bearer(token)).json()["kind"] == "user"
    assert client.get("/routing/either", headers={"X-API-Key": key}).json()["kind"] == "api_key"


def test_role_at_least(client) -> None:  # type: ignore[no-untyped-def]
    for name, role in (("u", Role.USER), ("a", Role.ADMIN), ("s", Role.SUPERADMIN)):
        make_user(client, f"user-{name}", role)
    tokens = {n: login(client, f"user-{n}") for n in "uas"}
    expected = {
        ("/routing/admin", "u"): 403,
        ("/routing/admin", "a"): 200,
        ("/routing/admin", "s"): 200,
        ("/routing/super", "u"): 403,
        ("/routing/super", "a"): 403,
        ("/routing/super", "s"): 200,
    }
    for (path, who), status in expected.items():
        r = client.get(path, headers=bearer(tokens[who]))
        assert r.status_code == status, (path, who, r.text)
        if status == 403:
            assert reason(r) == "insufficient_role"


def test_role_changes_apply_to_existing_tokens(make_auth_client) -> None:  # type: ignore[no-untyped-def]
    client = make_auth_client(cache_s=0)
    make_user(client, "carol")
    token = login(client, "carol")
    assert client.get("/routing/admin", headers=bearer(token)).status_code == 403
    call(client, auth_of(client).update_user, "carol", actor="test", role=Role.ADMIN)
    assert client.get("/routing/admin", headers=bearer(token)).status_code == 200


def test_owner_or_role(client) -> None:  # type: ignore[no-untyped-def]
    owner = make_user(client, "owner")
    make_user(client, "stranger")
    make_user(client, "boss", Role.SUPERADMIN)
    make_user(client, "admin", Role.ADMIN)
    OWNERS["doc-1"] = owner.id
    for who, status in (("owner", 200), ("boss", 200), ("stranger", 403), ("admin", 403)):
        r = client.post("/routing/docs/doc-1/delete", headers=bearer(login(client, who)))
        assert r.status_code == status, (who, r.text)
        if status == 403:
            assert reason(r) == "not_owner"


def test_disabled_users_are_refused_at_login_and_with_a_live_token(make_auth_client) -> None:  # type: ignore[no-untyped-def]
    client = make_auth_client(cache_s=0)
    make_user(client, "dave")
    token = login(client, "dave")
    call(client, auth_of(client).update_user, "dave", actor="test", disabled=True)
    r = client.get("/routing/signed-in", headers=bearer(token))
    assert r.status_code == 403 and reason(r) == "account_disabled"
    r = client.post("/auth/login", json={"username": "dave", "password": "pass-word-123"})
    assert r.status_code == 403 and r.json()["reason_code"] == "account_disabled"


def test_is_superuser_maps_onto_roles_in_one_place(client) -> None:  # type: ignore[no-untyped-def]
    assert [is_superuser(r) for r in Role] == [False, True, True]
    assert role_from_is_superuser(True) is Role.ADMIN and role_from_is_superuser(False) is Role.USER
    make_user(client, "eve", Role.SUPERADMIN)
    body = client.get("/auth/me", headers=bearer(login(client, "eve"))).json()
    assert body["role"] == "superadmin" and body["is_superuser"] is True


def test_family_routes_are_public_unless_the_setting_requires_auth(make_auth_client) -> None:  # type: ignore[no-untyped-def]
    from litestar import get

    from ridgeline.platform.context import Family

    @get("/thing")
    async def thing() -> dict[str, str]:
        return {"ok": "yes"}

    fam = Family(name="sim", route_handlers=[thing])
    open_client = make_auth_client(families=[fam])
    assert open_client.get("/sim/thing").status_code == 200
    closed = make_auth_client(families=[fam], require_families=("sim",))
    r = closed.get("/sim/thing")
    assert r.status_code == 401 and r.json()["reason_code"] == "not_authenticated"
    key = new_key(closed, ["sim"])
    assert closed.get("/sim/thing", headers={"X-API-Key": key}).status_code == 200
    wrong = new_key(closed, ["retail"])
    assert closed.get("/sim/thing", headers={"X-API-Key": wrong}).status_code == 403
    make_user(closed, "sam")
    assert closed.get("/sim/thing", headers=bearer(login(closed, "sam"))).status_code == 200
    # Root endpoints stay public whatever the setting.
    assert closed.get("/health").status_code == 200
    assert closed.get("/.well-known/jwks.json").status_code == 200


def test_only_mode_carries_the_family_policy(make_auth_client, settings) -> None:  # type: ignore[no-untyped-def]
    import msgspec
    from litestar.testing import TestClient

    from ridgeline.app import create_app
    from ridgeline.platform.auth.settings import AuthSettings

    only = msgspec.structs.replace(settings, only="routing")
    with TestClient(
        create_app(
            only,
            families=[probe_family],
            auth_settings=AuthSettings(password_profile="test", require_families=("all",)),
        )
    ) as c:
        r = c.get("/open")
        assert r.status_code == 401 and r.json()["detail"]["reason_code"] == "not_authenticated"
        assert c.get("/auth/me").status_code == 401
        assert c.get("/.well-known/jwks.json").status_code == 200


def test_the_real_families_declare_public_unless_required() -> None:
    from ridgeline.app import load_family
    from ridgeline.platform.auth.settings import AuthSettings

    for fam in ("routing", "sim", "retail"):
        declared = load_family(fam).default_policy
        assert callable(declared), fam
        assert declared(AuthSettings()).is_public
        required = declared(AuthSettings(require_families=(fam,)))
        assert required.accept == {"api_key", "bearer"} and required.scope == fam


@pytest.mark.parametrize(
    "env,bootstrap,read_status,write_status",
    [
        # production: the key is required, even when none is configured (fail closed)
        ({"AUTOPACK_ENV": "production"}, False, 401, 401),
        ({"AUTOPACK_ENV": "production", "AUTOPACK_PUBLIC_READ": "1"}, True, 401, 401),
        # development, no key configured: public by default
        ({}, False, 200, 201),
        # development with a key configured: required, unless PUBLIC_READ=1 (reads only)
        ({}, True, 401, 401),
        ({"AUTOPACK_PUBLIC_READ": "1"}, True, 200, 401),
    ],
)
def test_contract_003_section_10_environment_policy(
    make_auth_client, env, bootstrap, read_status, write_status
) -> None:  # type: ignore[no-untyped-def]
    from ridgeline.platform.auth.settings import SecretStr

    boot = SecretStr("bootstrap-key-0123456789") if bootstrap else None
    client = make_auth_client(bootstrap_api_key=boot)
    auth_of(client).register_environment("autopack", ContractEnvironment.from_env("AUTOPACK", env))
    assert client.get("/routing/operator/runs").status_code == read_status
    assert client.post("/routing/operator/start").status_code == write_status
    if bootstrap:
        h = {"X-API-Key": "bootstrap-key-0123456789"}
        assert client.get("/routing/operator/runs", headers=h).status_code == 200
        assert client.post("/routing/operator/start", headers=h).status_code == 201


def test_an_unregistered_environment_fails_closed(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/routing/operator/runs").status_code == 401


def _guards_of(client: Any, path: str) -> list[Any]:
    (route,) = [r for r in client.app.routes if r.path == path]
    return sorted({g for h in route.route_handlers for g in h.resolve_guards()}, key=id)


def test_public_families_carry_no_guard_and_guarded_ones_do(make_auth_client) -> None:  # type: ignore[no-untyped-def]
    from litestar import get

    from ridgeline.platform.auth.policy import enforce_policy
    from ridgeline.platform.context import Family

    @get("/thing")
    async def thing() -> dict[str, str]:
        return {"ok": "yes"}

    fam = Family(name="sim", route_handlers=[thing])
    # Litestar copies the handler for every guard call: a public family must not pay for one.
    assert _guards_of(make_auth_client(families=[fam]), "/sim/thing") == []
    assert _guards_of(make_auth_client(families=[fam], require_families=("sim",)), "/sim/thing") == [
        enforce_policy
    ]
    client = make_auth_client()
    assert _guards_of(client, "/routing/open") == [enforce_policy]  # its family has keyed routes
    assert _guards_of(client, "/health") == []
