"""SQL-backed vector collections (ridgeline.platform.vectors): SQL is the source of truth, the HNSW
file is rebuilt when missing or stale. Runs on SQLite here and on PostgreSQL in CI (``db``)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import pytest

from ridgeline.ai.vectors.base import VectorStoreError
from ridgeline.platform import db as dbmod
from ridgeline.platform.vectors import VectorCollections

pytestmark = pytest.mark.db


def _vecs(n: int, d: int = 16, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def run(settings: Any, body: Callable[[dbmod.Database], Awaitable[None]]) -> None:
    dbmod.upgrade(settings)

    async def main() -> None:
        database = dbmod.Database(settings)
        try:
            await body(database)
        finally:
            await database.dispose()

    asyncio.run(main())


def test_upsert_search_delete_round_trip(settings) -> None:  # type: ignore[no-untyped-def]
    x = _vecs(300)

    async def body(database: dbmod.Database) -> None:
        cols = VectorCollections(database)
        await cols.setup()
        await cols.create("kb1", 16)
        ids = [f"d{i}" for i in range(300)]
        meta = [{"part": i % 3} for i in range(300)]
        info = await cols.upsert("kb1", ids, x, meta, texts=[f"text {i}" for i in range(300)])
        assert (info.version, info.count) == (1, 300)
        hits = await cols.search("kb1", x[17], 3)
        assert hits[0].id == "d17" and hits[0].score == pytest.approx(1.0, abs=1e-5)
        hits = await cols.search("kb1", x[17], 5, filter={"part": 1})
        assert len(hits) == 5 and all(h.metadata["part"] == 1 for h in hits)
        assert [h.id for h in await cols.search("kb1", x[17], 5, threshold=0.999)] == ["d17"]
        # replace d17 with d18's vector and new metadata
        info = await cols.upsert("kb1", ["d17"], x[18:19], [{"part": "moved"}])
        assert (info.version, info.count) == (2, 300)
        top = await cols.search("kb1", x[18], 2)
        assert {h.id for h in top} == {"d17", "d18"}
        assert (await cols.search("kb1", x[0], 1, filter={"part": "moved"}))[0].id == "d17"
        assert await cols.delete("kb1", ["d17", "d17", "nope"]) == 1
        assert (await cols.info("kb1")).count == 299  # type: ignore[union-attr]
        assert all(h.id != "d17" for h in await cols.search("kb1", x[18], 5))

    run(settings, body)


def test_index_file_rebuilt_when_missing_or_stale(settings) -> None:  # type: ignore[no-untyped-def]
    x = _vecs(200, seed=1)

    async def body(database: dbmod.Database) -> None:
        cols = VectorCollections(database)
        await cols.create("kb", 16)
        await cols.upsert("kb", [f"d{i}" for i in range(200)], x)
        await cols.search("kb", x[0], 1)  # builds and saves the file
        path = cols.index_dir / "kb.rvi"
        assert path.exists()

        # a second process (fresh object) loads the saved file: same answers, no rebuild needed
        other = VectorCollections(database)
        assert [h.id for h in await other.search("kb", x[5], 3)] == [
            h.id for h in await cols.search("kb", x[5], 3)
        ]

        # the other process writes: SQL moves on, our in-memory index is stale and is rebuilt
        await other.upsert("kb", ["new"], x[7:8] * -1.0)
        hits = await cols.search("kb", -x[7], 1)
        assert hits[0].id == "new"
        # the file on disk is behind SQL too (the writer did not flush): a third process rebuilds
        third = VectorCollections(database)
        assert (await third.search("kb", -x[7], 1))[0].id == "new"

        # a deleted file is rebuilt from SQL
        path.unlink()
        fourth = VectorCollections(database)
        assert (await fourth.index("kb")).count() == 201
        assert path.exists()

        # a corrupt file is rebuilt too
        path.write_bytes(b"not an index")
        fifth = VectorCollections(database)
        assert (await fifth.search("kb", x[3], 1))[0].id == "d3"

        # flush saves this process's own writes; a new process then loads them without a rebuild
        await cols.upsert("kb", ["d0"], x[9:10])
        await cols.search("kb", x[9], 1)
        await cols.flush()
        saved = VectorCollections(database)
        idx = saved._open_file(await saved._require("kb"), {"version": 3, "count": 201})
        assert idx is not None and idx.count() == 201

    run(settings, body)


def test_keyword_index_is_built_once_per_version(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(database: dbmod.Database) -> None:
        cols = VectorCollections(database)
        await cols.create("docs", 16)
        texts = ["freight route planning", "robot battery life", "weekly store sales"]
        await cols.upsert("docs", ["a", "b", "c"], _vecs(3), texts=texts)
        kw1 = await cols.keyword_index("docs")
        assert await cols.keyword_index("docs") is kw1  # same version: not rebuilt
        assert (await cols.keyword_search("docs", "battery"))[0].id == "b"
        await cols.upsert("docs", ["d"], _vecs(1, seed=5), texts=["battery recycling"])
        kw2 = await cols.keyword_index("docs")
        assert kw2 is not kw1 and len(kw2) == 4
        fused = await cols.hybrid_search("docs", "battery", _vecs(1, seed=5)[0], 2)
        assert {h.id for h in fused} == {"b", "d"}

    run(settings, body)


def test_collection_guards(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(database: dbmod.Database) -> None:
        cols = VectorCollections(database)
        await cols.create("c", 8)
        assert (await cols.create("c", 8)).dim == 8  # idempotent
        for call, reason in [
            (cols.create("c", 9), "collection_mismatch"),
            (cols.create("../etc", 8), "invalid_collection_name"),
            (cols.search("missing", np.ones(8, np.float32)), "collection_not_found"),
            (cols.upsert("c", ["a"], np.ones((1, 7), np.float32)), "invalid_vectors"),
            (cols.upsert("c", ["a"], np.zeros((1, 8), np.float32)), "invalid_vectors"),
            (cols.upsert("c", [""], np.ones((1, 8), np.float32)), "invalid_id"),
        ]:
            with pytest.raises(VectorStoreError) as err:
                await call
            assert err.value.reason_code == reason
        await cols.upsert("c", ["a"], np.ones((1, 8), np.float32))
        assert await cols.drop("c") is True
        assert await cols.info("c") is None
        assert await cols.drop("c") is False

    run(settings, body)


def test_pgvector_is_detected_not_assumed(settings) -> None:  # type: ignore[no-untyped-def]
    async def body(database: dbmod.Database) -> None:
        cols = VectorCollections(database)
        await cols.setup()
        if database.backend == "sqlite":
            assert cols.pgvector is False
        else:
            import sqlalchemy as sa

            async with database.engine.connect() as conn:
                have = (
                    await conn.execute(sa.text("SELECT count(*) FROM pg_extension WHERE extname = 'vector'"))
                ).scalar_one()
            assert cols.pgvector is bool(have)
        await cols.create("p", 4)
        await cols.upsert("p", ["a", "b"], np.eye(4, dtype=np.float32)[:2], [{"k": 1}, {"k": 2}])
        hits = await cols.search("p", np.array([1, 0.1, 0, 0], np.float32), 2, filter={"k": 2})
        assert [h.id for h in hits] == ["b"]

    run(settings, body)
