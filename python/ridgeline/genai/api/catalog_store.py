"""Tables and queries of the registry, typed catalog, policy rules, quotes and voice modules
(migration ``0014_genai_catalog``).

- ``genai_registry_entities`` / ``genai_registry_versions``: every model, agent and tool is a
  ``(kind, id)`` entity with numbered versions of a JSON spec; ``current_version`` is the one runtime
  consumers resolve. ``owner_id`` None means the platform owns it (the bootstrap entities).
- ``genai_policy_rules``, ``genai_quotes``, ``genai_voice_wake_events``.

:func:`catalog_of` gives the one :class:`CatalogStore` of a running family service; the first call
seeds the bootstrap entities and the quote set (idempotent, safe with several workers).
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ridgeline.genai import registry
from ridgeline.genai.quotes_data import QUOTES
from ridgeline.platform.db import Database, UTCDateTime, metadata
from ridgeline.platform.errors import RidgelineError

registry_entities = sa.Table(
    "genai_registry_entities",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),  # model | agent | tool
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("owner_id", sa.String(64), nullable=True),  # None: a platform entity
    sa.Column("current_version", sa.Integer, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

registry_versions = sa.Table(
    "genai_registry_versions",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("entity_id", sa.String(128), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("spec", sa.JSON, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(
        ["kind", "entity_id"],
        ["genai_registry_entities.kind", "genai_registry_entities.id"],
        ondelete="CASCADE",
    ),
)

policy_rules = sa.Table(
    "genai_policy_rules",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("effect", sa.String(8), nullable=False),  # allow | deny
    sa.Column("subjects", sa.JSON, nullable=False),
    sa.Column("actions", sa.JSON, nullable=False),
    sa.Column("resources", sa.JSON, nullable=False),
    sa.Column("conditions", sa.JSON, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False, server_default="100"),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_by", sa.String(64), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

quotes = sa.Table(
    "genai_quotes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("source", sa.String(200), nullable=True),
    sa.Column("language", sa.String(16), nullable=False, server_default="en"),
    sa.Column("tags", sa.JSON, nullable=False),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
)

wake_events = sa.Table(
    "genai_voice_wake_events",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("wake_word", sa.String(100), nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("device_id", sa.String(128), nullable=True),
    sa.Column("user_id", sa.String(64), nullable=True),
    sa.Column("detected_at", UTCDateTime(), nullable=False),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
)


def now() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


class Entity:
    """One registry entity at its current version."""

    __slots__ = ("created_at", "id", "kind", "owner_id", "spec", "updated_at", "version")

    def __init__(self, row: Any) -> None:
        m = row._mapping
        self.kind: str = m["kind"]
        self.id: str = m["id"]
        self.owner_id: str | None = m["owner_id"]
        self.version: int = m["current_version"]
        self.spec: dict[str, Any] = dict(m["spec"])
        self.created_at: datetime = m["created_at"]
        self.updated_at: datetime = m["updated_at"]

    def view(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.id,
            "version": self.version,
            "owner_id": self.owner_id,
            "spec": self.spec,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }

    def typed(self) -> dict[str, Any]:
        """The typed catalog DTO (agents and tools): the spec's fields with the entity's."""
        fields = registry.AGENT_FIELDS if self.kind == "agent" else registry.TOOL_FIELDS
        out: dict[str, Any] = {"id": self.id}
        out.update({k: self.spec[k] for k in fields if k in self.spec})
        out.update(
            version=self.version,
            owner_id=self.owner_id,
            created_at=iso(self.created_at),
            updated_at=iso(self.updated_at),
        )
        return out


def _current() -> sa.Select[Any]:
    e, v = registry_entities, registry_versions
    return sa.select(e, v.c.spec).join(
        v, sa.and_(v.c.kind == e.c.kind, v.c.entity_id == e.c.id, v.c.version == e.c.current_version)
    )


class CatalogStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._seeded = False
        self._lock = asyncio.Lock()

    async def ensure_seeded(self) -> None:
        if self._seeded:
            return
        async with self._lock:
            if self._seeded:
                return
            created_first = False
            for i, (kind, entity_id, spec) in enumerate(registry.BOOTSTRAP):
                if await self.get(kind, entity_id) is None:
                    try:
                        await self.write_version(
                            kind, entity_id, spec, actor=None, owner_id=None, create=True
                        )
                        created_first = created_first or i == 0
                    except RidgelineError:  # another worker seeded it first
                        pass
            # Only the process that created the first bootstrap entity seeds the quotes, so two
            # workers starting on an empty database do not both insert the set.
            if created_first:
                await self._seed_quotes()
            self._seeded = True

    # ---- registry ----------------------------------------------------------------------------------
    async def get(self, kind: str, entity_id: str) -> Entity | None:
        e = registry_entities
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(_current().where(e.c.kind == kind, e.c.id == entity_id))).first()
        return Entity(row) if row else None

    async def list(self, kind: str) -> list[Entity]:
        e = registry_entities
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(_current().where(e.c.kind == kind).order_by(e.c.id))
            return [Entity(r) for r in rows]

    async def existing(self, kind: str, ids: list[str]) -> set[str]:
        if not ids:
            return set()
        e = registry_entities
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(sa.select(e.c.id).where(e.c.kind == kind, e.c.id.in_(ids)))
            return {r[0] for r in rows}

    async def write_version(
        self,
        kind: str,
        entity_id: str,
        spec: dict[str, Any],
        *,
        actor: str | None,
        owner_id: str | None,
        create: bool | None = None,
    ) -> Entity:
        """Store ``spec`` as the next version (1 for a new entity). ``create=True`` refuses an existing
        entity (409 ``<kind>_exists``), ``create=False`` a missing one (404), None takes either."""
        e, v = registry_entities, registry_versions
        at = now()
        try:
            async with self.db.begin() as conn:
                row = (
                    await conn.execute(
                        sa.select(e.c.current_version).where(e.c.kind == kind, e.c.id == entity_id)
                    )
                ).first()
                if row is not None and create is True:
                    raise RidgelineError(
                        409, f"catalog_{kind}_exists", f"{kind} {entity_id!r} already exists", id=entity_id
                    )
                if row is None and create is False:
                    raise RidgelineError(
                        404, f"catalog_{kind}_not_found", f"No {kind} {entity_id!r}", id=entity_id
                    )
                if row is None:
                    version = 1
                    await conn.execute(
                        e.insert().values(
                            kind=kind,
                            id=entity_id,
                            owner_id=owner_id,
                            current_version=1,
                            created_at=at,
                            updated_at=at,
                        )
                    )
                else:
                    version = row[0] + 1
                    # Guarded on the version read, so two concurrent writers cannot both take it.
                    done = await conn.execute(
                        e.update()
                        .where(e.c.kind == kind, e.c.id == entity_id, e.c.current_version == row[0])
                        .values(current_version=version, updated_at=at)
                    )
                    if done.rowcount != 1:
                        raise IntegrityError("concurrent registry write", None, Exception())
                await conn.execute(
                    v.insert().values(
                        kind=kind,
                        entity_id=entity_id,
                        version=version,
                        spec=spec,
                        created_by=actor,
                        created_at=at,
                    )
                )
        except IntegrityError:
            raise RidgelineError(
                409,
                "registry_write_conflict",
                f"{kind} {entity_id!r} was written concurrently; retry",
                id=entity_id,
            ) from None
        entity = await self.get(kind, entity_id)
        assert entity is not None
        return entity

    async def delete(self, kind: str, entity_id: str) -> bool:
        e, v = registry_entities, registry_versions
        async with self.db.begin() as conn:
            await conn.execute(v.delete().where(v.c.kind == kind, v.c.entity_id == entity_id))
            done = await conn.execute(e.delete().where(e.c.kind == kind, e.c.id == entity_id))
            return done.rowcount > 0

    async def owner_of(self, kind: str, entity_id: str) -> tuple[bool, str | None]:
        e = registry_entities
        async with self.db.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(e.c.owner_id).where(e.c.kind == kind, e.c.id == entity_id))
            ).first()
        return (row is not None, row[0] if row else None)

    # ---- policy rules --------------------------------------------------------------------------------
    async def create_rule(self, values: dict[str, Any]) -> dict[str, Any]:
        row = {"id": new_id("rule"), "created_at": now(), **values}
        try:
            async with self.db.begin() as conn:
                await conn.execute(policy_rules.insert().values(**row))
        except IntegrityError:
            raise RidgelineError(
                409,
                "policy_rule_exists",
                f"A policy rule named {values['name']!r} exists",
                name=values["name"],
            ) from None
        return rule_view(row)

    async def list_rules(self, *, enabled: bool | None, effect: str | None) -> list[dict[str, Any]]:
        q = sa.select(policy_rules).order_by(policy_rules.c.priority, policy_rules.c.name)
        if enabled is not None:
            q = q.where(policy_rules.c.enabled.is_(enabled))
        if effect is not None:
            q = q.where(policy_rules.c.effect == effect)
        async with self.db.engine.connect() as conn:
            return [rule_view(_row(r)) for r in await conn.execute(q)]

    # ---- quotes --------------------------------------------------------------------------------------
    async def _seed_quotes(self) -> None:
        async with self.db.begin() as conn:
            if (await conn.execute(sa.select(sa.func.count()).select_from(quotes))).scalar_one():
                return
            at = now()
            await conn.execute(
                quotes.insert(),
                [
                    {
                        "text": t,
                        "author": a,
                        "source": s,
                        "language": "en",
                        "tags": tags,
                        "is_active": True,
                        "created_at": at,
                        "updated_at": at,
                    }
                    for t, a, s, tags in QUOTES
                ],
            )

    async def quote(self, quote_id: int) -> dict[str, Any] | None:
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(sa.select(quotes).where(quotes.c.id == quote_id))).first()
        return quote_view(_row(row)) if row else None

    async def list_quotes(
        self, *, offset: int, limit: int, filters: list[Any], order: Any
    ) -> tuple[list[dict[str, Any]], int]:
        where = sa.and_(sa.true(), *filters)
        async with self.db.engine.connect() as conn:
            total = (
                await conn.execute(sa.select(sa.func.count()).select_from(quotes).where(where))
            ).scalar_one()
            rows = await conn.execute(
                sa.select(quotes).where(where).order_by(order, quotes.c.id).limit(limit).offset(offset)
            )
            return [quote_view(_row(r)) for r in rows], int(total)

    async def active_quote_ids(self) -> list[int]:
        async with self.db.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(quotes.c.id).where(quotes.c.is_active.is_(True)).order_by(quotes.c.id)
            )
            return [r[0] for r in rows]

    async def quote_summary(self) -> dict[str, Any]:
        async with self.db.engine.connect() as conn:
            total = (await conn.execute(sa.select(sa.func.count()).select_from(quotes))).scalar_one()
            active = (
                await conn.execute(
                    sa.select(sa.func.count()).select_from(quotes).where(quotes.c.is_active.is_(True))
                )
            ).scalar_one()
            authors = (
                await conn.execute(sa.select(sa.func.count(sa.distinct(quotes.c.author))))
            ).scalar_one()
            langs = await conn.execute(
                sa.select(quotes.c.language, sa.func.count())
                .group_by(quotes.c.language)
                .order_by(quotes.c.language)
            )
            tag_rows = await conn.execute(sa.select(quotes.c.tags))
            tags: dict[str, int] = {}
            for (row_tags,) in tag_rows:
                for t in row_tags or []:
                    tags[t] = tags.get(t, 0) + 1
        return {
            "total": int(total),
            "active": int(active),
            "inactive": int(total) - int(active),
            "authors": int(authors),
            "by_language": {lang: int(n) for lang, n in langs},
            "by_tag": dict(sorted(tags.items())),
        }

    async def create_quote(self, values: dict[str, Any]) -> dict[str, Any]:
        at = now()
        async with self.db.begin() as conn:
            result = await conn.execute(quotes.insert().values(**values, created_at=at, updated_at=at))
            quote_id = result.inserted_primary_key[0]
        got = await self.quote(int(quote_id))
        assert got is not None
        return got

    async def update_quote(self, quote_id: int, values: dict[str, Any]) -> dict[str, Any] | None:
        async with self.db.begin() as conn:
            done = await conn.execute(
                quotes.update().where(quotes.c.id == quote_id).values(**values, updated_at=now())
            )
            if done.rowcount == 0:
                return None
        return await self.quote(quote_id)

    # ---- voice ---------------------------------------------------------------------------------------
    async def record_wake_event(self, values: dict[str, Any]) -> dict[str, Any]:
        row = {"id": new_id("wake"), "received_at": now(), **values}
        async with self.db.begin() as conn:
            await conn.execute(wake_events.insert().values(**row))
        return wake_view(row)

    async def wake_stats(self) -> tuple[int, datetime | None]:
        async with self.db.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(sa.func.count(), sa.func.max(wake_events.c.received_at)))
            ).one()
        last = row[1]
        if isinstance(last, str):  # SQLite aggregates lose the column type
            last = datetime.fromisoformat(last)
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        return int(row[0]), last


def rule_view(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "created_at": iso(row["created_at"])}


def quote_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "tags": list(row.get("tags") or []),
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def wake_view(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "detected_at": iso(row["detected_at"]), "received_at": iso(row["received_at"])}


_STORES: weakref.WeakKeyDictionary[Any, CatalogStore] = weakref.WeakKeyDictionary()


async def catalog_of(svc: Any) -> CatalogStore:
    """The catalog store of a started :class:`~ridgeline.genai.api.service.GenaiService` (seeded)."""
    store = _STORES.get(svc)
    if store is None:
        store = _STORES[svc] = CatalogStore(svc.db)
    await store.ensure_seeded()
    return store


def caller(request: Any) -> tuple[str | None, bool]:
    """(user id, is superadmin) of the admitted principal."""
    from ridgeline.platform.auth import Role, current_principal

    p = current_principal(request)
    if p is None:
        return None, False
    return p.user_id, p.role is not None and p.role.at_least(Role.SUPERADMIN)


def _row(row: Any) -> dict[str, Any]:
    # Column names come back as quoted_name (a str subclass msgspec will not take as a key).
    return {str(k): v for k, v in row._mapping.items()}
