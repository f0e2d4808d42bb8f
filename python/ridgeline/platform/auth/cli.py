"""``ridgeline users ...``, ``ridgeline apikeys ...`` and ``ridgeline auth rotate-jwt-key``.

The first superadmin is made here: ``ridgeline users create admin --role superadmin --password-stdin``.
Every command migrates first, and each change is an audit event with actor ``cli:<os user>``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from ridgeline.platform.auth.roles import Role
from ridgeline.platform.auth.service import AuthService
from ridgeline.platform.auth.settings import AuthSettings
from ridgeline.platform.auth.users import User, UserError

ROLES = [r.value for r in Role]


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def _run(args: argparse.Namespace, body: Callable[[AuthService], Awaitable[int]]) -> int:
    from ridgeline.platform import db
    from ridgeline.platform.settings import Settings

    settings = Settings.from_env()
    db.upgrade(settings)

    async def main() -> int:
        database = db.Database(settings)
        try:
            service = AuthService(database, AuthSettings.from_env(), settings.data_dir)
            try:
                return await body(service)
            finally:
                await service.close()
        finally:
            await database.dispose()

    return asyncio.run(main())


def _print(obj: Any) -> None:
    print(msgspec.json.encode(obj).decode())


def _user_row(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "role": user.role.value,
        "is_superuser": user.is_superuser,
        "disabled": user.disabled,
        "created_at": user.created_at.isoformat(),
    }


def cmd_users_create(args: argparse.Namespace) -> int:
    if not args.password_stdin:
        print("ridgeline: pass the password on standard input with --password-stdin", file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")

    async def body(auth: AuthService) -> int:
        try:
            user = await auth.create_user(
                args.username, password, email=args.email, role=Role(args.role), actor=_actor()
            )
        except UserError as exc:
            print(f"ridgeline: {exc.message} ({exc.reason})", file=sys.stderr)
            return 1
        _print(_user_row(user))
        return 0

    return _run(args, body)


def cmd_users_list(args: argparse.Namespace) -> int:
    async def body(auth: AuthService) -> int:
        for user in await auth.users.list():
            _print(_user_row(user))
        return 0

    return _run(args, body)


def _update(args: argparse.Namespace, **change: Any) -> int:
    async def body(auth: AuthService) -> int:
        user = await auth.update_user(args.username, actor=_actor(), **change)
        if user is None:
            print(f"ridgeline: no user {args.username!r}", file=sys.stderr)
            return 1
        _print(_user_row(user))
        return 0

    return _run(args, body)


def cmd_users_set_role(args: argparse.Namespace) -> int:
    return _update(args, role=Role(args.role))


def cmd_users_disable(args: argparse.Namespace) -> int:
    return _update(args, disabled=True)


def cmd_users_enable(args: argparse.Namespace) -> int:
    return _update(args, disabled=False)


def cmd_users_reset_mfa(args: argparse.Namespace) -> int:
    """An operator's way back in for a user who lost both the authenticator and the recovery codes."""

    async def body(auth: AuthService) -> int:
        user = await auth.users.by_username(args.username)
        if user is None:
            print(f"ridgeline: no user {args.username!r}", file=sys.stderr)
            return 1
        was_on = await auth.mfa.enabled(user.id)
        await auth.mfa.disable(user.id)
        await auth.audit.record(
            "mfa.reset", "ok" if was_on else "not_enabled", actor=_actor(), target=user.id
        )
        _print({"username": user.username, "mfa_was_enabled": was_on, "mfa_enabled": False})
        return 0

    return _run(args, body)


def cmd_apikeys_create(args: argparse.Namespace) -> int:
    async def body(auth: AuthService) -> int:
        owner = None
        if args.owner:
            user = await auth.users.by_username(args.owner)
            if user is None:
                print(f"ridgeline: no user {args.owner!r}", file=sys.stderr)
                return 1
            owner = user.id
        expires = datetime.now(UTC) + timedelta(days=args.expires_days) if args.expires_days else None
        new = await auth.create_api_key(
            actor=_actor(), name=args.name, owner=owner, scopes=args.scope or ["*"], expires_at=expires
        )
        # The only time the key is shown.
        _print({"key": new.key, "id": new.info.id, "prefix": new.info.prefix, "scopes": new.info.scopes})
        return 0

    return _run(args, body)


def cmd_apikeys_list(args: argparse.Namespace) -> int:
    async def body(auth: AuthService) -> int:
        for info in await auth.api_keys.list():
            _print(info)
        return 0

    return _run(args, body)


def cmd_apikeys_revoke(args: argparse.Namespace) -> int:
    async def body(auth: AuthService) -> int:
        ok = await auth.revoke_api_key(args.key_id, actor=_actor())
        print("revoked" if ok else "no such live key")
        return 0 if ok else 1

    return _run(args, body)


def cmd_apikeys_rotate(args: argparse.Namespace) -> int:
    async def body(auth: AuthService) -> int:
        new = await auth.rotate_api_key(args.key_id, actor=_actor(), overlap_s=args.overlap_s)
        if new is None:
            print("ridgeline: no such live key", file=sys.stderr)
            return 1
        _print({"key": new.key, "id": new.info.id, "prefix": new.info.prefix, "replaces": args.key_id})
        return 0

    return _run(args, body)


def cmd_rotate_jwt_key(args: argparse.Namespace) -> int:
    async def body(auth: AuthService) -> int:
        kid = await auth.rotate_jwt_key(actor=_actor(), overlap_s=args.overlap_s)
        _print({"kid": kid})
        return 0

    return _run(args, body)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    users = sub.add_parser("users", help="user accounts").add_subparsers(dest="users_command", required=True)
    create = users.add_parser("create", help="create a user")
    create.add_argument("username")
    create.add_argument("--role", choices=ROLES, default="user")
    create.add_argument("--email")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create.set_defaults(func=cmd_users_create)
    users.add_parser("list", help="list users").set_defaults(func=cmd_users_list)
    set_role = users.add_parser("set-role", help="change a user's role")
    set_role.add_argument("username")
    set_role.add_argument("role", choices=ROLES)
    set_role.set_defaults(func=cmd_users_set_role)
    for name, func in (("disable", cmd_users_disable), ("enable", cmd_users_enable)):
        p = users.add_parser(name, help=f"{name} a user")
        p.add_argument("username")
        p.set_defaults(func=func)
    reset_mfa = users.add_parser("reset-mfa", help="turn a user's TOTP off (a lost authenticator)")
    reset_mfa.add_argument("username")
    reset_mfa.set_defaults(func=cmd_users_reset_mfa)

    keys = sub.add_parser("apikeys", help="API keys").add_subparsers(dest="apikeys_command", required=True)
    kc = keys.add_parser("create", help="create a key (printed once)")
    kc.add_argument("--name", default="")
    kc.add_argument("--scope", action="append", help="repeatable; default *")
    kc.add_argument("--owner", help="username the key belongs to")
    kc.add_argument("--expires-days", type=int)
    kc.set_defaults(func=cmd_apikeys_create)
    keys.add_parser("list", help="list keys (never the key)").set_defaults(func=cmd_apikeys_list)
    kr = keys.add_parser("revoke", help="revoke a key now")
    kr.add_argument("key_id")
    kr.set_defaults(func=cmd_apikeys_revoke)
    ko = keys.add_parser("rotate", help="new key; the old one stays valid for the overlap")
    ko.add_argument("key_id")
    ko.add_argument("--overlap-s", type=int, help="default RIDGELINE_AUTH_API_KEY_ROTATION_OVERLAP_S")
    ko.set_defaults(func=cmd_apikeys_rotate)

    auth = sub.add_parser("auth", help="token signing keys").add_subparsers(
        dest="auth_command", required=True
    )
    rj = auth.add_parser("rotate-jwt-key", help="new signing key; old ones verify for the overlap")
    rj.add_argument("--overlap-s", type=int, help="default RIDGELINE_AUTH_JWT_ROTATION_OVERLAP_S")
    rj.set_defaults(func=cmd_rotate_jwt_key)
