"""``/ingest``: stream a daily-sales batch into the database (``POST /ingest/sales-daily``), delete
the sales of a range (``DELETE /ingest/sales-daily``) or of one batch (``DELETE /ingest/batches/{id}``).

The body is parsed block by block (:mod:`ridgeline.retail.records`) and each block validated with
polars on worker threads, while the previous block is written. Natural keys are resolved to ids
(creating stores/products when asked; each key is looked up once per request). Rows on dates where
the block's store x product box holds no stored row are fresh and go in by
:class:`ridgeline.retail.ingest_write.FreshWriter` (plain ``INSERT`` over column buffers on SQLite,
``COPY`` straight into the table on PostgreSQL); the others go in by one ``INSERT ... ON CONFLICT
DO UPDATE ... WHERE <a value differs>`` per block, which writes new and changed rows only and counts
them (:func:`ridgeline.retail.ingest_write.upsert_sales`). The whole request runs in one transaction:
a server error or an ``all_or_nothing`` rejection leaves the database as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

import polars as pl
import sqlalchemy as sa
from litestar import Controller, Request, delete, post
from litestar.params import JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncConnection

from ridgeline.platform.context import AppContext, Ctx
from ridgeline.platform.db import Database
from ridgeline.platform.errors import RidgelineError
from ridgeline.platform.openapi import raises
from ridgeline.platform.problems import NotFound
from ridgeline.retail import dates
from ridgeline.retail.api import store
from ridgeline.retail.api.schemas.sales import (
    HolidayCalendarIn,
    HolidayCalendarResult,
    IngestRowError,
    SalesBatchDeleteResult,
    SalesDailyIngestResponse,
    SalesDeleteResult,
)
from ridgeline.retail.ingest_write import SALES_KEYS, SALES_WRITE_COLUMNS, FreshWriter, upsert_sales
from ridgeline.retail.records import (
    OPTIONAL,
    PRODUCT_ATTRS,
    REJECT_SCHEMA,
    REQUIRED,
    STORE_ATTRS,
    Format,
    FormatError,
    RecordParser,
    unparsed_frame,
    validate_block,
)
from ridgeline.retail.settings import RetailSettings, retail_settings

MAX_JSON_BYTES = 64 << 20
IN_CHUNK = 900


@dataclass
class IngestTally:
    total_received: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    created_stores: int = 0
    created_products: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    max_errors: int = 1000
    values_truncated: bool = False
    batch_id: int = 0
    # Date range of the rows written (inserted or possibly updated), recorded on the batch.
    first_date: date | None = None
    last_date: date | None = None

    def wrote(self, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        d0, d1 = frame.get_column("date").min(), frame.get_column("date").max()
        self.first_date = d0 if self.first_date is None else min(self.first_date, d0)  # type: ignore[type-var]
        self.last_date = d1 if self.last_date is None else max(self.last_date, d1)  # type: ignore[type-var]

    def reject(self, frame: pl.DataFrame) -> None:
        if frame.height == 0:
            return
        self.rejected += frame.height
        room = self.max_errors - len(self.errors)
        if room > 0:
            listed = frame.sort("_row").head(room).rename({"_row": "row_index"})
            # Values are echoed at most ECHO_CHARS long (records.echo); say when one was cut.
            cut = listed.select(
                pl.any_horizontal(
                    [
                        pl.col(c).str.contains("…", literal=True)
                        for c in ("store_code", "sku", "date", "error_message")
                    ]
                ).any()
            ).item()
            self.values_truncated = self.values_truncated or bool(cut)
            self.errors.extend(listed.to_dicts())


async def ingest_sales(
    db: Database,
    chunks: AsyncIterator[bytes],
    fmt: Format,
    *,
    gzip: bool = False,
    create_missing: bool = False,
    all_or_nothing: bool = False,
    allow_returns: bool = False,
    max_errors: int = 1000,
    block_bytes: int = 4 << 20,
    limits: RetailSettings,
) -> tuple[IngestTally, float]:
    """Apply a streamed batch in one transaction; returns the tally and the duration in ms.

    Guards (``limits``: the ``RIDGELINE_RETAIL_*`` settings): decompressed size
    (413 ``body_too_large``), line length (400 ``line_too_long``), broken gzip (400
    ``invalid_gzip``) stop the whole request and store nothing; long fields (``field_too_long``) and
    dates outside the plausibility window (``implausible_date``) reject their row.
    """
    started = time.perf_counter()
    tally = IngestTally(max_errors=max_errors)
    json_cap = min(MAX_JSON_BYTES, limits.ingest_max_bytes)
    parser = RecordParser(
        fmt,
        gzip=gzip,
        block_bytes=block_bytes,
        max_bytes=json_cap if fmt == "json" else limits.ingest_max_bytes,
        max_line_bytes=limits.ingest_max_line_bytes,
    )
    window = limits.date_window()

    def prepare(raw: pl.DataFrame) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
        return prepare_block(
            raw,
            max_field_bytes=limits.ingest_max_field_bytes,
            date_window=window,
            allow_returns=allow_returns,
        )

    queue: asyncio.Queue[tuple[pl.DataFrame, list[pl.DataFrame]] | None] = asyncio.Queue(maxsize=2)

    async def prepared(
        blocks: Iterator[pl.DataFrame],
    ) -> AsyncIterator[tuple[pl.DataFrame, list[pl.DataFrame]]]:
        # One block at a time, each parsed and validated in one worker-thread call: a chunk can hold
        # the whole body (an in-process client sends it as one), and parsing all of it before
        # validating and writing the first block would leave nothing to overlap with the writes.
        def step() -> tuple[pl.DataFrame, list[pl.DataFrame]] | None:
            raw = next(blocks, None)
            return None if raw is None else prepare(raw)

        while (good := await asyncio.to_thread(step)) is not None:
            yield good

    async def produce() -> None:
        # Parsing and validation run on worker threads (polars releases the GIL) while the consumer
        # writes the previous block, so CPU work overlaps with database work.
        try:
            async for chunk in chunks:
                if fmt == "json" and parser.bytes_in + len(chunk) > json_cap:
                    raise RidgelineError(
                        413,
                        "payload_too_large",
                        f"JSON bodies are limited to {json_cap >> 20} MiB; "
                        "send larger batches as CSV or NDJSON, which are streamed",
                    )
                async for good in prepared(parser.feed(chunk)):
                    await queue.put(good)
            async for good in prepared(parser.finish()):
                await queue.put(good)
        except FormatError as exc:
            if fmt == "json" and exc.code == "body_too_large":
                raise RidgelineError(
                    413,
                    "payload_too_large",
                    f"JSON bodies are limited to {json_cap >> 20} MiB (decompressed); "
                    "send larger batches as CSV or NDJSON, which are streamed",
                ) from None
            raise  # a FormatError is an EngineError: rendered as raised
        finally:
            await queue.put(None)

    def finalize() -> None:
        # Runs inside the transaction: raising here rolls the whole batch back.
        tally.reject(unparsed_frame(parser.unparsed))
        tally.total_received = parser.rows_seen
        if tally.total_received == 0:
            raise RidgelineError(400, "empty_batch", "the body contains no records")
        tally.errors.sort(key=lambda e: e["row_index"])
        if all_or_nothing and tally.rejected:
            raise RidgelineError(
                422,
                "rows_rejected",
                f"{tally.rejected} of {tally.total_received} rows are invalid; with all_or_nothing=true "
                "nothing was stored",
                total_received=tally.total_received,
                rejected_count=tally.rejected,
                errors=tally.errors,
            )

    try:
        async with db.begin() as conn:
            await store.tune_for_bulk(conn)
            # The batch record is written in the same transaction: a batch that is rolled back leaves
            # no record, and every row this request writes names it.
            b = store.ingest_batches
            created = await conn.execute(b.insert().values(format=fmt, created_at=store.now_utc()))
            tally.batch_id = int(created.inserted_primary_key[0])
            writer = _BlockWriter(conn, tally, create_missing)
            producer = asyncio.create_task(produce())
            try:
                while (item := await queue.get()) is not None:
                    good, rejects = item
                    for frame in rejects:
                        tally.reject(frame)
                    await writer.apply(good)
            except BaseException:
                await writer.fresh.abandon()
                producer.cancel()
                while not queue.empty():  # let the producer's final put() complete
                    queue.get_nowait()
                with contextlib.suppress(BaseException):
                    await producer
                raise
            try:
                await producer  # re-raises a parse error
                finalize()
            except BaseException:
                await writer.fresh.abandon()
                raise
            await writer.fresh.finish()
            await conn.execute(
                b.update()
                .where(b.c.id == tally.batch_id)
                .values(
                    total_received=tally.total_received,
                    inserted_count=tally.inserted,
                    updated_count=tally.updated,
                    unchanged_count=tally.unchanged,
                    rejected_count=tally.rejected,
                    first_date=tally.first_date,
                    last_date=tally.last_date,
                )
            )
    except sa.exc.OperationalError as exc:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            raise RidgelineError(
                503,
                "database_busy",
                "another write holds the database; nothing from this batch was stored, retry it",
                headers={"Retry-After": "5"},
            ) from None
        raise
    return tally, (time.perf_counter() - started) * 1000.0


async def delete_sales(
    db: Database,
    *,
    store_id: int | None,
    product_id: int | None,
    start_date: date | None,
    end_date: date | None,
    dry_run: bool,
) -> dict[str, Any]:
    """Delete (or, with ``dry_run``, count) the sales rows of a store/product/date range.

    At least one filter is required (``DELETE /seeder/data`` wipes everything); the count and the
    delete run in one transaction, so the reported count is what was deleted.
    """
    if store_id is None and product_id is None and start_date is None and end_date is None:
        raise RidgelineError(
            400,
            "filter_required",
            "give at least one of store_id, product_id, start_date, end_date "
            "(DELETE /seeder/data?scope=facts removes every fact)",
        )
    dates.check_range(start_date, end_date, max_days=None)
    s = store.sales
    where = []
    if store_id is not None:
        where.append(s.c.store_id == store_id)
    if product_id is not None:
        where.append(s.c.product_id == product_id)
    if start_date is not None:
        where.append(s.c.date >= start_date)
    if end_date is not None:
        where.append(s.c.date <= end_date)
    summary = sa.select(sa.func.count(), sa.func.min(s.c.date), sa.func.max(s.c.date)).where(*where)
    async with db.begin() as conn:
        matched, first, last = (await conn.execute(summary)).one()
        deleted = 0
        if not dry_run and matched:
            deleted = (await conn.execute(s.delete().where(*where))).rowcount or 0
    verb = "Would delete" if dry_run else "Deleted"
    return {
        "dry_run": dry_run,
        "matched_count": int(matched),
        "deleted_count": int(deleted),
        "first_date": first,
        "last_date": last,
        "message": f"{verb} {int(matched):,} sales rows",
    }


async def delete_batch(db: Database, batch_id: int, *, dry_run: bool) -> dict[str, Any]:
    """Delete (or, with ``dry_run``, count) the sales rows that hold the values of one ingest batch.

    Those are the rows the batch inserted or updated and that no later batch (or seeder run) has
    overwritten since; rows it sent unchanged keep the batch that wrote them, and nothing else
    (other batches' rows, dimensions, holidays, inventory) is touched. Values a batch overwrote are
    not kept, so an updated row is deleted, not restored. 404 ``batch_not_found`` for an unknown id.
    """
    b, s = store.ingest_batches, store.sales
    async with db.begin() as conn:
        row = (await conn.execute(sa.select(b).where(b.c.id == batch_id))).first()
        if row is None:
            raise NotFound("batch", batch_id, message=f"ingest batch {batch_id} not found", batch_id=batch_id)
        where = [s.c.batch_id == batch_id]
        if row.first_date is not None and row.last_date is not None:
            # The batch's rows lie in the dates it wrote: a primary-key range, not a table scan
            # (batches recorded before migration 0026 have no range).
            where.append(s.c.date.between(row.first_date, row.last_date))
        summary = sa.select(sa.func.count(), sa.func.min(s.c.date), sa.func.max(s.c.date)).where(*where)
        matched, first, last = (await conn.execute(summary)).one()
        deleted = 0
        if not dry_run:
            if matched:
                deleted = (await conn.execute(s.delete().where(*where))).rowcount or 0
            if row.deleted_at is None:
                await conn.execute(b.update().where(b.c.id == batch_id).values(deleted_at=store.now_utc()))
    verb = "Would delete" if dry_run else "Deleted"
    return {
        "batch_id": batch_id,
        "dry_run": dry_run,
        "written_count": int(row.inserted_count + row.updated_count),
        "matched_count": int(matched),
        "deleted_count": int(deleted),
        "first_date": first,
        "last_date": last,
        "batch_created_at": row.created_at,
        "message": f"{verb} {int(matched):,} sales rows of ingest batch {batch_id}",
    }


def prepare_block(raw: pl.DataFrame, **checks: Any) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Validate a raw block and drop in-block duplicates (pure polars; runs on a worker thread)."""
    good, rejected = validate_block(raw, **checks)
    rejects = [rejected]
    # Duplicated natural keys inside one block: the last occurrence wins, earlier ones are rejected.
    # Distinct key hashes prove distinct keys, so the exact (5x dearer) pass runs only on a clash.
    keys = ["store_code", "sku", "date"]
    if good.select(pl.struct(keys).hash().n_unique()).item() == good.height:
        return good, rejects
    deduped = good.unique(subset=keys, keep="last", maintain_order=True)
    if deduped.height != good.height:
        dupes = good.join(deduped.select("_row"), on="_row", how="anti")
        rejects.append(
            dupes.select(
                "_row",
                "store_code",
                "sku",
                pl.col("date").cast(pl.String),
                pl.lit("duplicate_in_batch").alias("error_code"),
                pl.lit("a later record in the batch has the same store_code, sku and date").alias(
                    "error_message"
                ),
            ).cast(REJECT_SCHEMA)  # type: ignore[arg-type]
        )
    return deduped, rejects


class _Dimension:
    """Natural key -> id (and attributes) of one dimension as this request knows them, so that each
    key is looked up once per request rather than once per block."""

    def __init__(
        self, table: sa.Table, table_key: str, key_col: str, id_col: str, attrs: dict[str, str]
    ) -> None:
        self.table, self.table_key, self.key_col, self.id_col, self.attrs = (
            table,
            table_key,
            key_col,
            id_col,
            attrs,
        )
        self.cols = list(attrs.values())
        self.known = _dims_frame(table_key, self.cols, [])

    async def resolve(
        self, conn: AsyncConnection, good: pl.DataFrame, create_missing: bool
    ) -> tuple[pl.DataFrame, int]:
        """Map the block's keys to ids; create missing members (when allowed) and apply changed
        attributes. Returns (key_col -> id_col frame, number created)."""
        key, cols = self.table_key, self.cols
        given = (
            good.group_by(self.key_col, maintain_order=True)
            .agg([pl.col(src).drop_nulls().last().alias(dst) for src, dst in self.attrs.items()])
            .rename({self.key_col: key})
        )
        created = 0
        unseen = given.join(self.known.select(key), on=key, how="anti")
        if unseen.height:
            found = await _fetch_dims(conn, self.table, key, unseen[key].to_list(), cols)
            missing = unseen.join(found.select(key), on=key, how="anti")
            if missing.height and create_missing:
                now = store.now_utc()
                fresh = missing.with_columns(
                    pl.coalesce(pl.col("name"), pl.col(key)).alias("name"),
                    pl.lit(now).alias("created_at"),
                    pl.lit(now).alias("updated_at"),
                )
                stmt = store.upsert_statement(conn, self.table, [key], [])
                await conn.execute(stmt, fresh.to_dicts())
                created = missing.height
                found = await _fetch_dims(conn, self.table, key, unseen[key].to_list(), cols)
            self.known = pl.concat([self.known, found], how="vertical_relaxed")
        # Attribute changes for known members (only attributes the batch states).
        merged = given.join(self.known, on=key, how="inner", suffix="_old")
        changed_expr = pl.lit(False)
        for c in cols:
            changed_expr = changed_expr | (pl.col(c).is_not_null() & pl.col(c).ne_missing(pl.col(f"{c}_old")))
        changed = merged.filter(changed_expr)
        if changed.height:
            now = store.now_utc()
            new_values = changed.select(
                "id", key, *[pl.coalesce(pl.col(c), pl.col(f"{c}_old")).alias(c) for c in cols]
            )
            params = new_values.select(
                pl.col("id").alias("b_id"), *[pl.col(c).alias(f"b_{c}") for c in cols]
            ).to_dicts()
            stmt = (
                self.table.update()
                .where(self.table.c.id == sa.bindparam("b_id"))
                .values({c: sa.bindparam(f"b_{c}") for c in cols} | {"updated_at": now})
            )
            await conn.execute(stmt, params)
            self.known = pl.concat(
                [
                    self.known.join(new_values.select(key), on=key, how="anti"),
                    new_values.select(self.known.columns),
                ],
                how="vertical_relaxed",
            )
        ids = self.known.select(pl.col(key).alias(self.key_col), pl.col("id").alias(self.id_col))
        return ids, created


class _BlockWriter:
    """Writes the validated blocks of one request inside its transaction."""

    def __init__(self, conn: AsyncConnection, tally: IngestTally, create_missing: bool) -> None:
        self.conn, self.tally, self.create_missing = conn, tally, create_missing
        self.stores = _Dimension(store.stores, "code", "store_code", "store_id", STORE_ATTRS)
        self.products = _Dimension(store.products, "sku", "sku", "product_id", PRODUCT_ATTRS)
        self.fresh = FreshWriter(conn)
        self.calendar_dates = pl.Series("date", [], dtype=pl.Date)

    async def apply(self, good: pl.DataFrame) -> None:
        if good.height == 0:
            return
        conn, tally = self.conn, self.tally
        store_ids, created = await self.stores.resolve(conn, good, self.create_missing)
        tally.created_stores += created
        product_ids, created = await self.products.resolve(conn, good, self.create_missing)
        tally.created_products += created
        good = good.join(store_ids, on="store_code", how="left").join(product_ids, on="sku", how="left")
        unknown = good.filter(pl.col("store_id").is_null() | pl.col("product_id").is_null())
        if unknown.height:
            tally.reject(
                unknown.select(
                    "_row",
                    "store_code",
                    "sku",
                    pl.col("date").cast(pl.String),
                    pl.when(pl.col("store_id").is_null())
                    .then(pl.lit("unknown_store"))
                    .otherwise(pl.lit("unknown_product"))
                    .alias("error_code"),
                    pl.when(pl.col("store_id").is_null())
                    .then(
                        pl.format(
                            "store_code {} is not a known store (send create_missing=true to add it)",
                            "store_code",
                        )
                    )
                    .otherwise(
                        pl.format("sku {} is not a known product (send create_missing=true to add it)", "sku")
                    )
                    .alias("error_message"),
                )
            )
            good = good.filter(pl.col("store_id").is_not_null() & pl.col("product_id").is_not_null())
        if good.height == 0:
            return
        # Calendar rows for dates this request has not added yet (existing rows are kept).
        days = good.get_column("date").unique()
        unseen = days.filter(~days.is_in(self.calendar_dates.implode()))
        if unseen.len():
            await store.ensure_calendar(conn, unseen)
            self.calendar_dates = pl.concat([self.calendar_dates, unseen])
        await self._write_sales(good)
        await _write_holidays(conn, good, self.fresh)

    async def _write_sales(self, good: pl.DataFrame) -> None:
        tally = self.tally
        # Primary-key (date-major) order keeps B-tree inserts local.
        batch = (
            good.with_columns(pl.lit(tally.batch_id, dtype=pl.Int64).alias("batch_id"))
            .select(SALES_WRITE_COLUMNS)
            .cast({"store_id": pl.Int64, "product_id": pl.Int64})
            .sort(SALES_KEYS)
        )
        fresh, staged = await self.fresh.split(batch)
        tally.wrote(batch)
        if fresh.height:
            if await self.fresh.write(fresh):
                tally.inserted += fresh.height
            else:  # PostgreSQL: a concurrent writer stored some of these keys; classify them all
                staged = pl.concat([staged, fresh])
        if staged.height:
            await _classify_and_write(self.fresh, staged, tally)


async def _fetch_dims(
    conn: AsyncConnection, table: sa.Table, key: str, values: list[str], cols: list[str]
) -> pl.DataFrame:
    rows: list[Any] = []
    for start in range(0, len(values), IN_CHUNK):
        part = values[start : start + IN_CHUNK]
        q = sa.select(table.c.id, table.c[key], *[table.c[c] for c in cols]).where(table.c[key].in_(part))
        rows.extend((await conn.execute(q)).all())
    return _dims_frame(key, cols, rows)


def _dims_frame(key: str, cols: list[str], rows: list[Any]) -> pl.DataFrame:
    schema: dict[str, Any] = {"id": pl.Int64, key: pl.String}
    for c in cols:
        schema[c] = pl.Float64 if c in ("base_price", "base_cost") else pl.String
    if not rows:
        return pl.DataFrame(schema=schema)
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


async def _classify_and_write(fresh: FreshWriter, batch: pl.DataFrame, tally: IngestTally) -> None:
    """Rows whose dates already hold stored rows: new keys are inserted, changed rows updated and
    identical rows not written at all (they keep the batch, or the legacy NULL, that wrote their
    values), in one upsert (:func:`ridgeline.retail.ingest_write.upsert_sales`)."""
    inserted, updated = await upsert_sales(fresh, batch)
    tally.inserted += inserted
    tally.updated += updated
    tally.unchanged += batch.height - inserted - updated


async def _write_holidays(conn: AsyncConnection, good: pl.DataFrame, fresh: FreshWriter) -> None:
    """Store-local holidays stated by the rows: ``store_holiday`` names a public holiday,
    ``school_holiday`` true/false sets or clears the school holiday of that store and day."""
    stated = good.filter(pl.col("store_holiday").is_not_null() | pl.col("school_holiday").is_not_null())
    if stated.height == 0:
        return
    per_day = stated.group_by(["store_id", "date"]).agg(
        pl.col("store_holiday").drop_nulls().last(), pl.col("school_holiday").drop_nulls().last()
    )
    wanted = pl.concat(
        [
            per_day.filter(pl.col("store_holiday").is_not_null()).select(
                "store_id", "date", pl.lit("public").alias("kind"), pl.col("store_holiday").alias("name")
            ),
            per_day.filter(pl.col("school_holiday").fill_null(False)).select(
                "store_id", "date", pl.lit("school").alias("kind"), pl.lit("school holiday").alias("name")
            ),
        ]
    ).cast({"store_id": pl.Int64})
    cleared = (
        per_day.filter(pl.col("school_holiday").eq(False))
        .select("store_id", "date")
        .cast({"store_id": pl.Int64})
    )
    d0, d1 = per_day["date"].min(), per_day["date"].max()
    s0, s1 = per_day["store_id"].min(), per_day["store_id"].max()
    h = store.store_holidays
    kept = fresh.written(h, d0, d1)
    if kept is not None:  # a PostgreSQL first load: the table holds only what this request wrote
        old = pl.concat([pl.DataFrame(schema=store.STORE_HOLIDAY_SCHEMA), *kept]).filter(
            pl.col("store_id").is_between(s0, s1)
        )
    else:
        rows = (
            await conn.execute(
                sa.select(h.c.store_id, h.c.date, h.c.kind, h.c.name).where(
                    h.c.store_id.between(s0, s1), h.c.date.between(d0, d1)
                )
            )
        ).all()
        old = store.rows_frame(rows, store.STORE_HOLIDAY_SCHEMA)
    to_write = wanted.join(old, on=["store_id", "date", "kind", "name"], how="anti", nulls_equal=True)
    if to_write.height:
        # Keys not stored go in by the fresh-row path; renamed holidays are upserted.
        hkeys = ["store_id", "date", "kind"]
        renamed = to_write.join(old.select(hkeys), on=hkeys, how="semi")
        # Primary-key order keeps the B-tree inserts local.
        added = to_write.join(old.select(hkeys), on=hkeys, how="anti").sort(hkeys)
        if not await fresh.insert_by(h, added.select("store_id", "date", "kind", "name"), "kind"):
            renamed = to_write
        if renamed.height:
            await fresh.restore_key(h)  # ON CONFLICT needs it
            await store.bulk_upsert(conn, h, renamed, hkeys, ["name"])
    to_delete = old.filter(pl.col("kind") == "school").join(cleared, on=["store_id", "date"], how="semi")
    if to_delete.height:
        await fresh.restore_key(h)  # the rows this request wrote change: read the table from now on
        stmt = sa.delete(h).where(
            h.c.store_id == sa.bindparam("b_store"), h.c.date == sa.bindparam("b_date"), h.c.kind == "school"
        )
        await conn.execute(
            stmt,
            to_delete.select(pl.col("store_id").alias("b_store"), pl.col("date").alias("b_date")).to_dicts(),
        )


_CSV = ("text/csv", "application/csv", "text/plain")


_NDJSON = (
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "application/jsonlines",
)


def _format_of(request: Request[Any, Any, Any]) -> Format:
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype in _CSV:
        return "csv"
    if ctype in _NDJSON:
        return "ndjson"
    if ctype in ("application/json", ""):
        return "json"
    raise RidgelineError(
        415,
        "unsupported_media_type",
        f"Content-Type {ctype!r} is not accepted; send text/csv, application/x-ndjson or application/json",
    )


async def ingest_holidays(ctx: AppContext, body: HolidayCalendarIn) -> HolidayCalendarResult:
    """Upsert chain-wide holidays into the calendar (the seeder used to be the only way to set them)."""
    days = [h.date for h in body.holidays]
    counts: dict[date, int] = {}
    for d in days:
        counts[d] = counts.get(d, 0) + 1
    twice = sorted(d for d, n in counts.items() if n > 1)
    if twice:
        raise RidgelineError(
            422,
            "invalid_request",
            f"holidays: date(s) {', '.join(str(d) for d in twice[:5])} given twice",
        )
    lo, hi = retail_settings(ctx).date_window()
    outside = sorted(d for d in days if d < lo or d > hi)
    if outside:
        raise RidgelineError(
            400,
            "invalid_date_range",
            f"holidays: {len(outside)} date(s) outside the plausible range {lo} to {hi}, first {outside[0]}",
        )
    frame = store.calendar_frame(pl.Series("date", days, dtype=pl.Date))
    flags = pl.DataFrame(
        {
            "date": days,
            "__flag": [h.is_holiday for h in body.holidays],
            "__name": [h.name if h.is_holiday else None for h in body.holidays],
        },
        schema={"date": pl.Date, "__flag": pl.Boolean, "__name": pl.String},
    )
    frame = (
        frame.drop("is_holiday", "holiday_name")
        .join(flags, on="date")
        .rename({"__flag": "is_holiday", "__name": "holiday_name"})
    )
    async with ctx.db.begin() as conn:
        await store.upsert_calendar(conn, frame)
    n_on = sum(h.is_holiday for h in body.holidays)
    return HolidayCalendarResult(
        received=len(days), holidays=n_on, cleared=len(days) - n_on, first_date=min(days), last_date=max(days)
    )


class IngestController(Controller):
    path = "/ingest"
    tags = ["retail: ingest"]

    @post(
        "/sales-daily",
        summary="Batch upsert of daily sales by natural keys (store_code, sku, date)",
        description=(
            "Streams the body (CSV with a header line, NDJSON, or a JSON document "
            '`{"records": [...]}` up to 64 MiB; `Content-Encoding: gzip` accepted) and upserts every valid '
            "record with ON CONFLICT DO UPDATE. Valid records are stored and invalid ones reported in "
            "`errors`, unless `all_or_nothing=true`, which stores nothing when any record is invalid "
            "(422). Sending the same batch twice changes nothing the second time (all unchanged). "
            f"Required fields: {', '.join(REQUIRED)}. Optional: {', '.join(OPTIONAL)}."
        ),
        status_code=200,
        request_max_body_size=None,
        opt=raises(400, 413, 415),
    )
    async def sales_daily(
        self,
        ctx: Ctx,
        request: Request[Any, Any, Any],
        create_missing: Annotated[
            bool, Parameter(description="Create stores/products for unknown store codes/SKUs (else reject)")
        ] = False,
        all_or_nothing: Annotated[
            bool, Parameter(description="Store nothing (422) when any record is invalid")
        ] = False,
        allow_returns: Annotated[
            bool,
            Parameter(
                description="Take negative quantity and total_amount as returns (else invalid_quantity)"
            ),
        ] = False,
    ) -> SalesDailyIngestResponse:
        fmt = _format_of(request)
        encoding = (request.headers.get("content-encoding") or "").strip().lower()
        if encoding not in ("", "identity", "gzip"):
            raise RidgelineError(
                415, "unsupported_media_type", f"Content-Encoding {encoding!r} is not accepted"
            )

        async def chunks() -> AsyncIterator[bytes]:
            async for chunk in request.stream():
                if chunk:
                    yield chunk

        tally, ms = await ingest_sales(
            ctx.db,
            chunks(),
            fmt,
            limits=retail_settings(ctx),
            gzip=encoding == "gzip",
            create_missing=create_missing,
            all_or_nothing=all_or_nothing,
            allow_returns=allow_returns,
        )
        return SalesDailyIngestResponse(
            total_received=tally.total_received,
            processed_count=tally.inserted + tally.updated + tally.unchanged,
            inserted_count=tally.inserted,
            updated_count=tally.updated,
            unchanged_count=tally.unchanged,
            rejected_count=tally.rejected,
            created_stores=tally.created_stores,
            created_products=tally.created_products,
            errors=[IngestRowError(**e) for e in tally.errors],
            errors_truncated=tally.rejected > len(tally.errors),
            values_truncated=tally.values_truncated,
            duration_ms=round(ms, 3),
            batch_id=tally.batch_id,
        )

    @post(
        "/holidays",
        summary="Upsert the chain-wide holiday calendar",
        description=(
            "Flags (or, with is_holiday=false, clears) chain-wide holidays by date, with an optional "
            "name; the forecasting models read them as calendar features. Dates outside the ingest "
            "plausibility window are 400 invalid_date_range; a date given twice 422 invalid_request. "
            "An addition to contract 002."
        ),
        status_code=200,
        opt=raises(400),
    )
    async def holidays(self, ctx: Ctx, data: JSONBody[HolidayCalendarIn]) -> HolidayCalendarResult:
        return await ingest_holidays(ctx, data)

    @delete(
        "/sales-daily",
        summary="Delete the sales rows of a store/product/date range (dry_run by default)",
        description=(
            "Removes stored daily sales matching every given filter (at least one; 400 "
            "`filter_required` otherwise). `dry_run=true` (the default) only counts. Dimensions, "
            "store holidays and inventory are kept. An addition to contract 002."
        ),
        status_code=200,
        opt=raises(400),
    )
    async def delete_sales_daily(
        self,
        ctx: Ctx,
        store_id: Annotated[int | None, Parameter(ge=1, le=2**31 - 1, description="Store id")] = None,
        product_id: Annotated[int | None, Parameter(ge=1, le=2**31 - 1, description="Product id")] = None,
        start_date: Annotated[date | None, Parameter(description="First date (inclusive)")] = None,
        end_date: Annotated[date | None, Parameter(description="Last date (inclusive)")] = None,
        dry_run: Annotated[bool, Parameter(description="Count the rows, delete nothing")] = True,
    ) -> SalesDeleteResult:
        out = await delete_sales(
            ctx.db,
            store_id=store_id,
            product_id=product_id,
            start_date=start_date,
            end_date=end_date,
            dry_run=dry_run,
        )
        return SalesDeleteResult(**out)

    @delete(
        "/batches/{batch_id:int}",
        summary="Delete the sales rows of one ingest batch (dry_run by default)",
        description=(
            "An addition to contract 002. Removes the daily sales rows that still hold the values "
            "written by the ingest batch `batch_id` (the `batch_id` of a `POST /ingest/sales-daily` "
            "answer): rows it inserted or updated and no later batch or seeder run overwrote. Rows "
            "of other batches, rows stored before batches were recorded, dimensions, holidays and "
            "inventory are kept; an updated row is deleted, not restored to its earlier values. "
            "`dry_run=true` (the default) only counts. 404 `batch_not_found` for an unknown batch."
        ),
        status_code=200,
        opt=raises(404),
    )
    async def delete_batch(
        self,
        ctx: Ctx,
        batch_id: Annotated[int, Parameter(ge=1, le=2**31 - 1, description="Ingest batch id")],
        dry_run: Annotated[bool, Parameter(description="Count the rows, delete nothing")] = True,
    ) -> SalesBatchDeleteResult:
        return SalesBatchDeleteResult(**await delete_batch(ctx.db, batch_id, dry_run=dry_run))
