"""Vector collections with SQL as the source of truth (SQLite or PostgreSQL), searched in process.

Ids, vectors (float32 bytes), metadata and optional texts live in ``ai_vectors``; ``ai_collections``
holds each collection's dimension, metric, row count and a version bumped in the same transaction as
every write. Search runs on an embedded HNSW index (:class:`ridgeline.ai.VectorIndex`) saved under
``<data dir>/ai/indexes/<name>.rvi`` with a marker ``{version, count}``: a file that is missing or whose
marker differs from the SQL row is rebuilt from the table (and saved) before it serves a query. Writes
made by this process are applied to its loaded index directly; writes from another process bump the
version, so this process rebuilds on its next query. BM25 indexes are built once per collection
version from the stored texts.

On PostgreSQL, pgvector is used when ``CREATE EXTENSION IF NOT EXISTS vector`` succeeds (probed once
at :meth:`VectorCollections.setup`, never assumed): vectors are mirrored into ``ai_vectors_pgv`` and
searched in SQL. Without it (Debian's PostgreSQL 15 has no pgvector package) PostgreSQL stores the
vectors and the search is in process, as on SQLite.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import numpy as np
import sqlalchemy as sa

from ridgeline.ai.keyword import KeywordIndex, reciprocal_rank_fusion
from ridgeline.ai.vectors.base import Hit, MetadataFilter, Metric, VectorStoreError, matches
from ridgeline.ai.vectors.hnsw import VectorIndex
from ridgeline.platform.db import Database, metadata

ai_collections = sa.Table(
    "ai_collections",
    metadata,
    sa.Column("name", sa.String(128), primary_key=True),
    sa.Column("dim", sa.Integer, nullable=False),
    sa.Column("metric", sa.String(8), nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
ai_vectors = sa.Table(
    "ai_vectors",
    metadata,
    sa.Column(
        "collection",
        sa.String(128),
        sa.ForeignKey("ai_collections.name", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("id", sa.String(255), primary_key=True),
    sa.Column("vector", sa.LargeBinary, nullable=False),
    sa.Column("metadata", sa.JSON, nullable=False),
    sa.Column("text", sa.Text, nullable=True),
    sa.Column("version", sa.BigInteger, nullable=False),
)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_PGV_TABLE = "ai_vectors_pgv"
_PGV_OPS = {"cosine": "<=>", "l2": "<->", "ip": "<#>"}
_WRITE_BATCH = 500


class CollectionInfo(msgspec.Struct, frozen=True):
    name: str
    dim: int
    metric: str
    version: int
    count: int


def _now() -> datetime:
    return datetime.now(UTC)


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise VectorStoreError(
            "invalid_collection_name", f"collection names are 1-128 of [A-Za-z0-9._-], got {name!r}"
        )


def _info(row: Any) -> CollectionInfo:
    m = row._mapping  # "count" would resolve to tuple.count as an attribute
    return CollectionInfo(m["name"], m["dim"], m["metric"], int(m["version"]), int(m["count"]))


def _pg_literal(vec: np.ndarray) -> str:
    return "[" + ",".join(repr(float(x)) for x in vec) + "]"


class VectorCollections:
    """Named vector collections on a :class:`~ridgeline.platform.db.Database`.

    Every method is async (SQL through the platform's async engine); index building and searching run
    on a worker thread so the event loop stays free.
    """

    def __init__(self, db: Database, index_dir: Path | None = None) -> None:
        self.db = db
        self.index_dir = Path(index_dir) if index_dir is not None else db.settings.data_dir / "ai" / "indexes"
        self.pgvector = False
        self._indexes: dict[str, VectorIndex] = {}
        self._keyword: dict[str, KeywordIndex] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._dirty: set[str] = set()

    async def setup(self) -> None:
        """Probe pgvector on PostgreSQL (``CREATE EXTENSION IF NOT EXISTS vector``) and create its table."""
        if self.db.backend != "postgresql":
            return
        try:
            async with self.db.begin() as conn:
                await conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
                await conn.execute(
                    sa.text(
                        f"CREATE TABLE IF NOT EXISTS {_PGV_TABLE} (collection varchar(128) NOT NULL, "
                        "id varchar(255) NOT NULL, embedding vector NOT NULL, PRIMARY KEY (collection, id))"
                    )
                )
            self.pgvector = True
        except Exception:  # no extension available, or no right to create it: search in process
            self.pgvector = False

    def _lock(self, name: str) -> asyncio.Lock:
        return self._locks.setdefault(name, asyncio.Lock())

    # -- collections -------------------------------------------------------------------------------

    async def create(self, name: str, dim: int, metric: Metric = "cosine") -> CollectionInfo:
        """Create the collection, or return it if it exists with the same dim and metric."""
        _check_name(name)
        if metric not in ("cosine", "l2", "ip") or dim <= 0:
            raise VectorStoreError(
                "invalid_collection", f"need dim > 0 and metric cosine|l2|ip, got {dim}, {metric}"
            )
        async with self.db.begin() as conn:
            row = (await conn.execute(sa.select(ai_collections).where(ai_collections.c.name == name))).first()
            if row is None:
                now = _now()
                await conn.execute(
                    ai_collections.insert().values(
                        name=name, dim=dim, metric=metric, version=0, count=0, created_at=now, updated_at=now
                    )
                )
                return CollectionInfo(name, dim, metric, 0, 0)
        info = _info(row)
        if info.dim != dim or info.metric != metric:
            raise VectorStoreError(
                "collection_mismatch", f"collection {name!r} exists with dim={info.dim} metric={info.metric}"
            )
        return info

    async def info(self, name: str) -> CollectionInfo | None:
        async with self.db.engine.connect() as conn:
            row = (await conn.execute(sa.select(ai_collections).where(ai_collections.c.name == name))).first()
        return None if row is None else _info(row)

    async def _require(self, name: str) -> CollectionInfo:
        info = await self.info(name)
        if info is None:
            raise VectorStoreError("collection_not_found", f"no vector collection named {name!r}")
        return info

    async def drop(self, name: str) -> bool:
        async with self._lock(name):
            async with self.db.begin() as conn:
                if self.pgvector:
                    await conn.execute(
                        sa.text(f"DELETE FROM {_PGV_TABLE} WHERE collection = :c"), {"c": name}
                    )
                await conn.execute(ai_vectors.delete().where(ai_vectors.c.collection == name))
                gone = (
                    await conn.execute(ai_collections.delete().where(ai_collections.c.name == name))
                ).rowcount
            self._indexes.pop(name, None)
            self._keyword.pop(name, None)
            self._dirty.discard(name)
            self._path(name).unlink(missing_ok=True)
            return bool(gone)

    # -- writes ------------------------------------------------------------------------------------

    async def upsert(
        self,
        name: str,
        ids: Sequence[str],
        vectors: np.ndarray,
        metadata: Sequence[Mapping[str, Any]] | None = None,
        texts: Sequence[str | None] | None = None,
    ) -> CollectionInfo:
        """Insert or replace rows (last occurrence wins within a call); one transaction, one version bump."""
        info = await self._require(name)
        vecs = np.asarray(vectors, dtype=np.float32)
        if vecs.ndim != 2 or vecs.shape != (len(ids), info.dim):
            raise VectorStoreError(
                "invalid_vectors", f"expected shape ({len(ids)}, {info.dim}), got {vecs.shape}"
            )
        if not np.isfinite(vecs).all():
            raise VectorStoreError("invalid_vectors", "vectors contain NaN or infinity")
        if info.metric == "cosine" and (np.linalg.norm(vecs, axis=1) == 0).any():
            raise VectorStoreError("invalid_vectors", "a zero vector has no cosine similarity")
        for seq, what in ((metadata, "metadata"), (texts, "texts")):
            if seq is not None and len(seq) != len(ids):
                raise VectorStoreError("length_mismatch", f"{len(ids)} ids but {len(seq)} {what}")
        last = {id_: i for i, id_ in enumerate(ids)}
        for id_ in last:
            if not isinstance(id_, str) or not id_ or len(id_) > 255:
                raise VectorStoreError("invalid_id", f"ids must be strings of 1-255 characters, got {id_!r}")
        async with self._lock(name):
            async with self.db.begin() as conn:
                version, count_before = await self._bump(conn, name)
                rows = [
                    {
                        "collection": name,
                        "id": id_,
                        "vector": vecs[i].astype("<f4").tobytes(),
                        "metadata": dict(metadata[i]) if metadata is not None else {},
                        "text": texts[i] if texts is not None else None,
                        "version": version,
                    }
                    for id_, i in last.items()
                ]
                insert = self._insert()
                for start in range(0, len(rows), _WRITE_BATCH):
                    stmt = insert(ai_vectors).values(rows[start : start + _WRITE_BATCH])
                    stmt = stmt.on_conflict_do_update(
                        index_elements=["collection", "id"],
                        set_={c: stmt.excluded[c] for c in ("vector", "metadata", "text", "version")},
                    )
                    await conn.execute(stmt)
                if self.pgvector:
                    await conn.execute(
                        sa.text(
                            f"INSERT INTO {_PGV_TABLE} (collection, id, embedding) VALUES (:c, :i, CAST(CAST(:e AS text) AS vector)) "
                            "ON CONFLICT (collection, id) DO UPDATE SET embedding = EXCLUDED.embedding"
                        ),
                        [{"c": name, "i": r["id"], "e": _pg_literal(vecs[last[r["id"]]])} for r in rows],
                    )
                count = await self._recount(conn, name)
            order = list(last.values())
            await self._apply(
                name,
                version,
                count_before,
                count,
                lambda idx: idx.upsert(list(last), vecs[order], [r["metadata"] for r in rows]),
            )
            return CollectionInfo(name, info.dim, info.metric, version, count)

    async def delete(self, name: str, ids: Sequence[str]) -> int:
        """Remove these ids; returns how many were present."""
        await self._require(name)
        unique = list(dict.fromkeys(ids))
        async with self._lock(name):
            async with self.db.begin() as conn:
                version, count_before = await self._bump(conn, name)
                removed = 0
                for start in range(0, len(unique), _WRITE_BATCH):
                    part = unique[start : start + _WRITE_BATCH]
                    res = await conn.execute(
                        ai_vectors.delete().where(ai_vectors.c.collection == name, ai_vectors.c.id.in_(part))
                    )
                    removed += res.rowcount
                    if self.pgvector:
                        await conn.execute(
                            sa.text(f"DELETE FROM {_PGV_TABLE} WHERE collection = :c AND id = ANY(:ids)"),
                            {"c": name, "ids": part},
                        )
                count = await self._recount(conn, name)
            await self._apply(name, version, count_before, count, lambda idx: idx.delete(unique))
            return removed

    def _insert(self) -> Any:
        if self.db.backend == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert

    async def _bump(self, conn: Any, name: str) -> tuple[int, int]:
        """Increment the version (this also locks the row on PostgreSQL); returns (new version, old count)."""
        await conn.execute(
            ai_collections.update()
            .where(ai_collections.c.name == name)
            .values(version=ai_collections.c.version + 1, updated_at=_now())
        )
        row = (
            await conn.execute(
                sa.select(ai_collections.c.version, ai_collections.c.count).where(
                    ai_collections.c.name == name
                )
            )
        ).one()
        return int(row._mapping["version"]), int(row._mapping["count"])

    async def _recount(self, conn: Any, name: str) -> int:
        count = (
            await conn.execute(
                sa.select(sa.func.count()).select_from(ai_vectors).where(ai_vectors.c.collection == name)
            )
        ).scalar_one()
        await conn.execute(ai_collections.update().where(ai_collections.c.name == name).values(count=count))
        return int(count)

    async def _apply(self, name: str, version: int, count_before: int, count: int, change: Any) -> None:
        """Apply this process's own write to its loaded index if that index was current before it."""
        self._keyword.pop(name, None)
        idx = self._indexes.get(name)
        if idx is None:
            return
        if idx.marker.get("version") == version - 1 and idx.count() == count_before:
            await asyncio.to_thread(change, idx)
            idx.marker = {"version": version, "count": count}
            if idx.count() == count:
                self._dirty.add(name)
                return
        self._indexes.pop(name, None)  # out of step: rebuilt from SQL on the next query

    # -- reads -------------------------------------------------------------------------------------

    def _path(self, name: str) -> Path:
        return self.index_dir / f"{name}.rvi"

    async def index(self, name: str) -> VectorIndex:
        """The collection's HNSW index, current with SQL (loaded from its file or rebuilt)."""
        info = await self._require(name)
        marker = {"version": info.version, "count": info.count}
        idx = self._indexes.get(name)
        if idx is not None and idx.marker == marker:
            return idx
        async with self._lock(name):
            info = await self._require(name)
            marker = {"version": info.version, "count": info.count}
            idx = self._indexes.get(name)
            if idx is not None and idx.marker == marker:
                return idx
            idx = await asyncio.to_thread(self._open_file, info, marker)
            if idx is None:
                idx = await self._rebuild(info, marker)
            self._indexes[name] = idx
            self._dirty.discard(name)
            return idx

    def _open_file(self, info: CollectionInfo, marker: dict[str, Any]) -> VectorIndex | None:
        path = self._path(info.name)
        if not path.exists():
            return None
        try:
            idx = VectorIndex(info.dim, info.metric, path)  # type: ignore[arg-type]
        except VectorStoreError:
            return None  # corrupt or from another dim/metric: rebuild
        return idx if idx.marker == marker and idx.count() == info.count else None

    async def _rebuild(self, info: CollectionInfo, marker: dict[str, Any]) -> VectorIndex:
        ids: list[str] = []
        blobs: list[bytes] = []
        metas: list[dict[str, Any]] = []
        async with self.db.engine.connect() as conn:
            result = await conn.stream(
                sa.select(ai_vectors.c.id, ai_vectors.c.vector, ai_vectors.c.metadata)
                .where(ai_vectors.c.collection == info.name)
                .order_by(ai_vectors.c.id)
            )
            async for row in result:
                ids.append(row.id)
                blobs.append(row.vector)
                metas.append(row.metadata)

        def build() -> VectorIndex:
            idx = VectorIndex(info.dim, info.metric)  # type: ignore[arg-type]
            if ids:
                vecs = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(ids), info.dim)
                idx.upsert(ids, vecs, metas)
            idx.marker = dict(marker)
            idx.save(self._path(info.name))
            return idx

        return await asyncio.to_thread(build)

    async def flush(self) -> None:
        """Save indexes changed by this process's writes since they were loaded (call at shutdown)."""
        for name in list(self._dirty):
            idx = self._indexes.get(name)
            if idx is not None:
                await asyncio.to_thread(idx.save, self._path(name))
            self._dirty.discard(name)

    async def search(
        self,
        name: str,
        query: np.ndarray,
        k: int = 10,
        *,
        filter: MetadataFilter | None = None,
        threshold: float | None = None,
    ) -> list[Hit]:
        if self.pgvector:
            return await self._pg_search(name, query, k, filter, threshold)
        idx = await self.index(name)
        return await asyncio.to_thread(idx.search, query, k, filter=filter, threshold=threshold)

    async def _pg_search(
        self, name: str, query: np.ndarray, k: int, flt: MetadataFilter | None, threshold: float | None
    ) -> list[Hit]:
        info = await self._require(name)
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        if q.shape != (info.dim,):
            raise VectorStoreError(
                "invalid_vectors", f"expected a query of shape ({info.dim},), got {q.shape}"
            )
        op = _PGV_OPS[info.metric]
        fetch = k if not flt else 4 * k
        while True:
            # exact ordering by pgvector's distance; filters apply in Python with a growing over-fetch
            sql = sa.text(
                f"SELECT p.id, v.metadata, p.embedding {op} CAST(CAST(:q AS text) AS vector) AS d FROM {_PGV_TABLE} p "
                "JOIN ai_vectors v ON v.collection = p.collection AND v.id = p.id "
                f"WHERE p.collection = :c ORDER BY p.embedding {op} CAST(CAST(:q AS text) AS vector), p.id LIMIT :n"
            )
            async with self.db.engine.connect() as conn:
                rows = (await conn.execute(sql, {"q": _pg_literal(q), "c": name, "n": fetch})).all()
            hits: list[Hit] = []
            for row in rows:
                meta = row.metadata if isinstance(row.metadata, dict) else msgspec.json.decode(row.metadata)
                if flt and not matches(meta, flt):
                    continue
                d = float(row.d)
                score = 1.0 - d if info.metric == "cosine" else -d
                if threshold is not None and score < threshold:
                    continue
                hits.append(Hit(id=row.id, score=score, metadata=meta))
            if len(hits) >= k or len(rows) < fetch:
                return hits[:k]
            fetch *= 4

    async def keyword_index(self, name: str) -> KeywordIndex:
        """BM25 over the collection's stored texts, built once per collection version."""
        info = await self._require(name)
        kw = self._keyword.get(name)
        if kw is not None and kw.version == info.version:
            return kw
        async with self.db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(ai_vectors.c.id, ai_vectors.c.text, ai_vectors.c.metadata)
                    .where(ai_vectors.c.collection == name, ai_vectors.c.text.is_not(None))
                    .order_by(ai_vectors.c.id)
                )
            ).all()
        kw = await asyncio.to_thread(
            KeywordIndex.build,
            [r.id for r in rows],
            [r.text for r in rows],
            [r.metadata for r in rows],
            version=info.version,
        )
        self._keyword[name] = kw
        return kw

    async def keyword_search(
        self, name: str, query: str, k: int = 10, *, filter: MetadataFilter | None = None
    ) -> list[Hit]:
        kw = await self.keyword_index(name)
        return kw.search(query, k, filter=filter)

    async def hybrid_search(
        self,
        name: str,
        query: str,
        query_vector: np.ndarray,
        k: int = 10,
        *,
        filter: MetadataFilter | None = None,
        threshold: float | None = None,
        fetch_k: int | None = None,
        rrf_k: int = 60,
    ) -> list[Hit]:
        """RRF of vector and BM25 results; the caller embeds the query once and passes the vector."""
        fetch = fetch_k if fetch_k is not None else max(4 * k, 20)
        by_vector = await self.search(name, query_vector, fetch, filter=filter, threshold=threshold)
        by_keyword = await self.keyword_search(name, query, fetch, filter=filter)
        return reciprocal_rank_fusion([by_vector, by_keyword], k=rrf_k, limit=k)
