"""ModelOps tables (migration ``0013_genai_modelops``) and the queries on them and on the shared
``genai_models`` / ``genai_credentials`` tables (``api/store.py``), whose life cycle ModelOps owns.

Other genai modules use :func:`resolve_credential` (``modelops://credential/<id>`` secret refs) and
``store.BINDABLE_MODEL``; nothing else here is meant for them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from ridgeline.genai.api.store import credentials, models
from ridgeline.platform.auth.roles import Role
from ridgeline.platform.auth.secrets import SecretBox, mask
from ridgeline.platform.db import UTCDateTime, metadata

validations = sa.Table(
    "genai_model_validations",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("model_id", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # success | failure
    sa.Column("checks", sa.JSON, nullable=False),  # [{"name", "ok", "detail"}]
    sa.Column("actor", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_genai_model_validations_model", "model_id", "created_at"),
)

model_tests = sa.Table(
    "genai_model_tests",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("model_id", sa.String(64), nullable=False),
    sa.Column("provider_id", sa.String(64), nullable=False),
    sa.Column("runtime_model_id", sa.String(255), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),  # success | failure
    sa.Column("latency_ms", sa.Float, nullable=True),
    sa.Column("output", sa.JSON, nullable=False),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("actor", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Index("ix_genai_model_tests_model", "model_id", "created_at"),
)

shares = sa.Table(
    "genai_model_shares",
    metadata,
    sa.Column("model_id", sa.String(64), primary_key=True),
    sa.Column("subject_kind", sa.String(16), primary_key=True),  # user | role
    sa.Column("subject_id", sa.String(64), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

catalog = sa.Table(
    "genai_modelops_catalog",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("task", sa.String(32), nullable=False),
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("provider_family", sa.String(64), nullable=True),
    sa.Column("provider_model_id", sa.String(255), nullable=True),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("source_id", sa.String(255), nullable=True),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

downloads = sa.Table(
    "genai_model_downloads",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("job_id", sa.String(64), nullable=True),
    sa.Column("source_id", sa.String(255), nullable=False),
    sa.Column("revision", sa.String(128), nullable=False),
    # queued | running | succeeded | failed
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("bytes_total", sa.BigInteger, nullable=True),
    sa.Column("bytes_done", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("resumed_bytes", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("files", sa.JSON, nullable=False),  # [{"path", "size", "sha256" | "blob_id", "verified"}]
    sa.Column("target_dir", sa.String(1024), nullable=True),
    sa.Column("model_id", sa.String(64), nullable=True),
    sa.Column("task", sa.String(32), nullable=True),
    sa.Column("source_info", sa.JSON, nullable=False),  # pipeline tag, licence, revision sha
    sa.Column("error", sa.JSON, nullable=True),
    sa.Column("actor", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_genai_model_downloads_source", "source_id", "revision"),
)


def now() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def row_dict(row: Any) -> dict[str, Any]:
    # plain str keys: a Row's keys are quoted_name, which msgspec.convert will not take
    return {str(k): v for k, v in row._mapping.items()}


# ---------------------------------------------------------------- models


async def get_model(conn: AsyncConnection, model_id: str) -> dict[str, Any] | None:
    row = (await conn.execute(sa.select(models).where(models.c.id == model_id))).first()
    return None if row is None else row_dict(row)


def visible_clause(user_id: str | None, role: Role | None) -> Any:
    """Which models a caller may read: everything for a superadmin; else public ones, their own, and
    shared ones whose share names the user or a role at or below theirs."""
    if role is not None and role.at_least(Role.SUPERADMIN):
        return sa.true()
    roles = [r.value for r in Role if role is not None and role.at_least(r)]
    granted = sa.select(shares.c.model_id).where(
        sa.or_(
            sa.and_(shares.c.subject_kind == "user", shares.c.subject_id == (user_id or "")),
            sa.and_(shares.c.subject_kind == "role", shares.c.subject_id.in_(roles)),
        )
    )
    return sa.or_(
        models.c.visibility == "public",
        sa.and_(models.c.owner_id.is_not(None), models.c.owner_id == (user_id or "")),
        sa.and_(models.c.visibility == "shared", models.c.id.in_(granted)),
    )


async def update_model(conn: AsyncConnection, model_id: str, **values: Any) -> None:
    await conn.execute(models.update().where(models.c.id == model_id).values(updated_at=now(), **values))


async def delete_model(conn: AsyncConnection, model_id: str) -> None:
    for table in (validations, model_tests, shares):
        await conn.execute(table.delete().where(table.c.model_id == model_id))
    await conn.execute(models.delete().where(models.c.id == model_id))


async def shares_of(conn: AsyncConnection, model_ids: Iterable[str]) -> dict[str, dict[str, list[str]]]:
    ids = list(model_ids)
    out: dict[str, dict[str, list[str]]] = {i: {"user_ids": [], "roles": []} for i in ids}
    if not ids:
        return out
    q = sa.select(shares).where(shares.c.model_id.in_(ids)).order_by(shares.c.subject_id)
    for r in await conn.execute(q):
        out[r.model_id]["user_ids" if r.subject_kind == "user" else "roles"].append(r.subject_id)
    return out


async def replace_shares(
    conn: AsyncConnection, model_id: str, user_ids: Iterable[str], roles: Iterable[str]
) -> None:
    await conn.execute(shares.delete().where(shares.c.model_id == model_id))
    at = now()
    rows = [
        {"model_id": model_id, "subject_kind": "user", "subject_id": u, "created_at": at}
        for u in sorted(set(user_ids))
    ] + [
        {"model_id": model_id, "subject_kind": "role", "subject_id": r, "created_at": at}
        for r in sorted(set(roles))
    ]
    if rows:
        await conn.execute(shares.insert(), rows)


# ---------------------------------------------------------------- credentials


def credential_aad(credential_id: str) -> str:
    return f"genai:credential:{credential_id}"


def _hint(secret: str) -> str:
    # mask() is "<prefix>****#<8 hex>"; storing "<prefix>#<8 hex>" (<= 13 chars) rebuilds it
    # without opening the secret on every list.
    shown, _, digest = mask(secret).partition("****#")
    return f"{shown}#{digest}"


def masked(hint: str) -> str:
    shown, _, digest = hint.partition("#")
    return f"{shown}****#{digest}"


async def insert_credential(
    conn: AsyncConnection, box: SecretBox, *, name: str, provider: str, secret: str, owner_id: str | None
) -> dict[str, Any]:
    cred_id = new_id("cred")
    row = {
        "id": cred_id,
        "name": name,
        "provider": provider,
        "secret_sealed": box.seal(secret, credential_aad(cred_id)).encode(),
        "secret_hint": _hint(secret),
        "owner_id": owner_id,
        "created_at": now(),
    }
    await conn.execute(credentials.insert().values(**row))
    return row


async def get_credential(conn: AsyncConnection, credential_id: str) -> dict[str, Any] | None:
    row = (await conn.execute(sa.select(credentials).where(credentials.c.id == credential_id))).first()
    return None if row is None else row_dict(row)


async def resolve_credential(conn: AsyncConnection, box: SecretBox, credential_id: str) -> str | None:
    """The plain secret of a ModelOps credential (for ``modelops://credential/<id>`` refs), or None
    when there is no such credential. Only validation, preflight and dispatch may call this."""
    row = await get_credential(conn, credential_id)
    if row is None:
        return None
    return box.open(bytes(row["secret_sealed"]).decode(), credential_aad(credential_id)).decode()


def credential_view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "provider": row["provider"],
        "secret_masked": masked(row["secret_hint"]),
        "owner_id": row["owner_id"],
        "created_at": row["created_at"],
    }
