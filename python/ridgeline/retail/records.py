"""Daily-sales records: streaming parsers (CSV, NDJSON, JSON) and vectorised row validation.

A request body (or a file) arrives as byte chunks. :class:`RecordParser` cuts it into blocks of
whole lines (a few MB each) and parses every block with polars into a frame of string columns plus
``_row`` (the 0-based index of the record in the whole body). :func:`validate_block` then checks
and types every column with polars expressions, returning the good rows and the rejected rows with
a machine-readable ``error_code`` and a message. Nothing here touches a database, so the same code
validates a file for a program that never serves HTTP.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from datetime import date
from typing import Literal

import msgspec
import numpy as np
import polars as pl

from ridgeline.platform.problems import EngineError

Format = Literal["csv", "ndjson", "json"]

REQUIRED = ("date", "store_code", "sku", "quantity", "unit_price")
OPTIONAL = (
    "total_amount",
    "on_promotion",
    "is_open",
    "transactions",
    "store_holiday",
    "school_holiday",
    "store_name",
    "region",
    "city",
    "store_type",
    "product_name",
    "category",
    "brand",
    "base_price",
    "base_cost",
)
FIELDS = REQUIRED + OPTIONAL
STORE_ATTRS = {"store_name": "name", "region": "region", "city": "city", "store_type": "store_type"}
PRODUCT_ATTRS = {
    "product_name": "name",
    "category": "category",
    "brand": "brand",
    "base_price": "base_price",
    "base_cost": "base_cost",
}
MAX_CODE_LEN = 64
MAX_TEXT_LEN = 200
MAX_INT = 2**31 - 1
MAX_FIELD_BYTES = 1024  # any single field (the text fields have their own, smaller limit)
ECHO_CHARS = 64  # rejected values are echoed in messages and listings up to this length
INFLATE_PIECE = 1 << 20  # gzip output is produced at most this much at a time
TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")

STRING_SCHEMA = {name: pl.String for name in FIELDS}

#: Typed schema of a validated block (what :func:`validate_block` returns as good rows).
VALID_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "_row": pl.Int64,
    "date": pl.Date,
    "store_code": pl.String,
    "sku": pl.String,
    "quantity": pl.Int64,
    "unit_price": pl.Float64,
    "total_amount": pl.Float64,
    "on_promotion": pl.Boolean,
    "is_open": pl.Boolean,
    "transactions": pl.Int64,
    "store_holiday": pl.String,
    "school_holiday": pl.Boolean,
    "store_name": pl.String,
    "region": pl.String,
    "city": pl.String,
    "store_type": pl.String,
    "product_name": pl.String,
    "category": pl.String,
    "brand": pl.String,
    "base_price": pl.Float64,
    "base_cost": pl.Float64,
}
REJECT_SCHEMA = {
    "_row": pl.Int64,
    "store_code": pl.String,
    "sku": pl.String,
    "date": pl.String,
    "error_code": pl.String,
    "error_message": pl.String,
}


class FormatError(EngineError, ValueError):
    """The body as a whole cannot be read (bad header, broken CSV, bad JSON document, bad gzip)."""

    def __init__(self, message: str, code: str = "invalid_body", status: int = 400) -> None:
        super().__init__(status, code, message)
        self.code = code


def longest_line(block: bytes | bytearray | memoryview) -> int:
    """Length in bytes of the longest line of ``block`` (newline excluded; vectorised)."""
    arr = np.frombuffer(block, dtype=np.uint8)
    if arr.size == 0:
        return 0
    nl = np.flatnonzero(arr == 10)
    if nl.size == 0:
        return int(arr.size)
    gaps = np.diff(nl) - 1 if nl.size > 1 else np.zeros(1, dtype=np.int64)
    return int(max(nl[0], gaps.max(), arr.size - nl[-1] - 1))


class RecordParser:
    """Incremental parser: ``feed(chunk)`` and ``finish()`` yield blocks of raw string columns.

    Every yielded frame has the columns of :data:`FIELDS` (absent ones null) plus ``_row``. Rows that
    cannot be parsed at all (an NDJSON line that is not a JSON object) are collected in
    :attr:`unparsed` as (row index, error code, message).
    """

    def __init__(
        self,
        fmt: Format,
        *,
        block_bytes: int = 8 << 20,
        gzip: bool = False,
        max_bytes: int | None = None,
        max_line_bytes: int | None = None,
    ) -> None:
        self.fmt = fmt
        self.block_bytes = block_bytes
        self._buf = bytearray()
        self._rows = 0
        self._header: bytes | None = None
        self.unparsed: list[tuple[int, str, str]] = []
        self._gzip = gzip
        self._inflate = zlib.decompressobj(wbits=31) if gzip else None
        self.bytes_in = 0
        self.bytes_out = 0  # decompressed bytes
        self.max_bytes = max_bytes
        self.max_line_bytes = max_line_bytes

    @property
    def rows_seen(self) -> int:
        return self._rows

    def feed(self, chunk: bytes) -> Iterator[pl.DataFrame]:
        self.bytes_in += len(chunk)
        if self._inflate is None:
            yield from self._take(chunk)
            return
        # Inflate in bounded pieces so a small body that expands enormously is stopped at the cap
        # without ever being held whole.
        data = chunk
        while data:
            if self._inflate.eof:  # a further gzip member follows (concatenated members are valid)
                self._inflate = zlib.decompressobj(wbits=31)
            try:
                piece = self._inflate.decompress(data, INFLATE_PIECE)
            except zlib.error as exc:
                raise FormatError(f"body is not valid gzip: {exc}", "invalid_gzip") from None
            data = self._inflate.unconsumed_tail or (self._inflate.unused_data if self._inflate.eof else b"")
            yield from self._take(piece)

    def _take(self, piece: bytes) -> Iterator[pl.DataFrame]:
        self.bytes_out += len(piece)
        if self.max_bytes is not None and self.bytes_out > self.max_bytes:
            raise FormatError(
                f"the body exceeds {self.max_bytes} bytes{' once decompressed' if self._gzip else ''}",
                "body_too_large",
                413,
            )
        self._buf += piece
        if self.fmt == "json":
            return
        limit = self.max_line_bytes
        if len(self._buf) < self.block_bytes:
            if limit is not None and len(self._buf) > limit and self._buf.rfind(b"\n") < 0:
                self._line_too_long()
            return
        cut = self._buf.rfind(b"\n")
        if cut < 0:
            if limit is not None and len(self._buf) > limit:
                self._line_too_long()
            return
        block = bytes(self._buf[: cut + 1])
        del self._buf[: cut + 1]
        if limit is not None and (len(self._buf) > limit or longest_line(block) > limit):
            self._line_too_long()
        yield from self._block(block)

    def _line_too_long(self) -> None:
        raise FormatError(
            f"a line after record {self._rows} is longer than {self.max_line_bytes} bytes",
            "line_too_long",
        )

    def finish(self) -> Iterator[pl.DataFrame]:
        if self._inflate is not None:
            try:
                tail = self._inflate.flush()
            except zlib.error as exc:
                raise FormatError(f"body is not valid gzip: {exc}", "invalid_gzip") from None
            if not self._inflate.eof:
                # No end-of-member (and so no CRC check): a cut-off upload. Nothing may be stored.
                raise FormatError("gzip body is truncated (no end of the gzip member)", "invalid_gzip")
            yield from self._take(tail)
        if (
            self.fmt != "json"
            and self.max_line_bytes is not None
            and longest_line(self._buf) > self.max_line_bytes
        ):
            self._line_too_long()
        block = bytes(self._buf)
        self._buf.clear()
        if self.fmt == "json":
            yield from self._json_document(block)
            return
        if block.strip() or (self.fmt == "csv" and self._header is None):
            yield from self._block(block)

    # -- formats ----------------------------------------------------------------------------------

    def _block(self, block: bytes) -> Iterator[pl.DataFrame]:
        if self.fmt == "csv":
            frame = self._csv(block)
        else:
            frame = self._ndjson(block)
        if frame is not None and frame.height:
            yield frame

    def _csv(self, block: bytes) -> pl.DataFrame | None:
        if self._header is None:
            if block.startswith(b"\xef\xbb\xbf"):
                block = block[3:]
            nl = block.find(b"\n")
            header = block if nl < 0 else block[: nl + 1]
            block = b"" if nl < 0 else block[nl + 1 :]
            names = [
                h.strip().strip('"').lower() for h in header.decode("utf-8", "replace").strip().split(",")
            ]
            if not header.strip() or not any(names):
                raise FormatError("CSV body has no header line")
            missing = [f for f in REQUIRED if f not in names]
            if missing:
                raise FormatError(
                    f"CSV header lacks required column(s): {', '.join(missing)}; "
                    f"required: {', '.join(REQUIRED)}; optional: {', '.join(OPTIONAL)}"
                )
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise FormatError(f"CSV header repeats column(s): {', '.join(dupes)}")
            self._header = (",".join(names) + "\n").encode()
        if not block.strip():
            return None
        try:
            df = pl.read_csv(
                io.BytesIO(self._header + block),
                infer_schema=False,
                has_header=True,
            )
        except Exception as exc:
            raise FormatError(f"CSV rows after record {self._rows} cannot be parsed: {exc}") from None
        return self._normalise(df)

    def _ndjson(self, block: bytes) -> pl.DataFrame | None:
        if not block.strip():
            return None
        try:
            df = pl.read_ndjson(io.BytesIO(block), schema=STRING_SCHEMA)
        except Exception:
            # Some line is not a JSON object: parse line by line and reject just those lines.
            return self._records(self._split_lines(block))
        return self._normalise(df)

    def _split_lines(self, block: bytes) -> list[object]:
        records: list[object] = []
        for line in block.split(b"\n"):
            if not line.strip():
                continue
            try:
                records.append(msgspec.json.decode(line))
            except msgspec.DecodeError as exc:
                records.append(_Bad("invalid_json", f"line is not valid JSON: {exc}"))
        return records

    def _json_document(self, body: bytes) -> Iterator[pl.DataFrame]:
        if not body.strip():
            raise FormatError('JSON body is empty; send {"records": [...]} or an array of records')
        try:
            doc = msgspec.json.decode(body)
        except msgspec.DecodeError as exc:
            raise FormatError(f"body is not valid JSON: {exc}") from None
        if isinstance(doc, dict) and isinstance(doc.get("records"), list):
            records = doc["records"]
        elif isinstance(doc, list):
            records = doc
        else:
            raise FormatError('JSON body must be {"records": [...]} or an array of record objects')
        step = 100_000
        for start in range(0, len(records), step):
            frame = self._records(records[start : start + step])
            if frame is not None and frame.height:
                yield frame

    def _records(self, records: list[object]) -> pl.DataFrame | None:
        good: list[dict[str, object]] = []
        rows: list[int] = []
        for i, rec in enumerate(records):
            idx = self._rows + i
            if isinstance(rec, dict):
                good.append({k: _scalar(v) for k, v in rec.items() if k in FIELDS})
                rows.append(idx)
            elif isinstance(rec, _Bad):
                self.unparsed.append((idx, rec.code, rec.message))
            else:
                self.unparsed.append((idx, "invalid_record", "record is not a JSON object"))
        self._rows += len(records)
        if not good:
            return None
        df = pl.from_dicts(good, schema=STRING_SCHEMA, strict=False)
        return df.with_columns(pl.Series("_row", rows, dtype=pl.Int64))

    def _normalise(self, df: pl.DataFrame) -> pl.DataFrame:
        n = df.height
        cols = []
        for name in FIELDS:
            if name in df.columns:
                cols.append(pl.col(name).cast(pl.String))
            else:
                cols.append(pl.lit(None, dtype=pl.String).alias(name))
        out = df.select(cols).with_columns(
            pl.int_range(self._rows, self._rows + n, dtype=pl.Int64).alias("_row")
        )
        self._rows += n
        return out


def _scalar(value: object) -> str | None:
    """A JSON value as the string a CSV cell would hold (nested values stay visible as JSON)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return msgspec.json.encode(value).decode()


class _Bad:
    __slots__ = ("code", "message")

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message


def _text(col: str) -> pl.Expr:
    stripped = pl.col(col).str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped)


def echo(col: str) -> pl.Expr:
    """A sent value as echoed back: at most :data:`ECHO_CHARS` characters, then an ellipsis."""
    c = pl.col(col)
    return pl.when(c.str.len_chars() > ECHO_CHARS).then(c.str.slice(0, ECHO_CHARS) + "…").otherwise(c)


def validate_block(
    raw: pl.DataFrame,
    *,
    max_field_bytes: int = MAX_FIELD_BYTES,
    date_window: tuple[date, date] | None = None,
    allow_returns: bool = False,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split a raw block into (valid rows typed as :data:`VALID_SCHEMA`, rejected rows with reasons).

    Rules: ``date`` is ``YYYY-MM-DD``; ``store_code``/``sku`` are non-empty (<= 64 chars);
    ``quantity`` is a whole number >= 0; ``unit_price`` and ``total_amount`` are finite and >= 0
    (``total_amount`` defaults to quantity x unit_price); ``transactions`` is a whole number >= 0;
    booleans accept true/false, yes/no, y/n, t/f, 1/0 (an empty ``on_promotion`` means false, an
    empty ``school_holiday`` means "not stated" and leaves stored holidays alone). Money is rounded to
    cents and prices to 4 decimals. No field is longer than ``max_field_bytes`` (``field_too_long``)
    and the date lies in ``date_window`` (inclusive; ``implausible_date``). The first failing rule
    names the row's error; values are echoed truncated to :data:`ECHO_CHARS` characters.
    """
    # Parse every typed column once; the checks below refer to these.
    blank_cols = (
        "date",
        "store_code",
        "sku",
        "quantity",
        "unit_price",
        "total_amount",
        "transactions",
        "on_promotion",
        "is_open",
        "school_holiday",
        "base_price",
        "base_cost",
    )
    # Each of these columns is stripped once (``__st_<col>``) and parsed from that: stripping the
    # same column for the blank test and again for the parse cost a third of the validation.
    raw = raw.with_columns([pl.col(c).str.strip_chars().alias(f"__st_{c}") for c in blank_cols])

    def st(col: str) -> pl.Expr:
        return pl.col(f"__st_{col}")

    def num(col: str) -> pl.Expr:  # a number, or null when it does not parse
        return st(col).cast(pl.Float64, strict=False)

    def boolean(col: str) -> pl.Expr:  # true/false words, else null
        low = st(col).str.to_lowercase()
        return (
            pl.when(low.is_in(TRUE_WORDS)).then(True).when(low.is_in(FALSE_WORDS)).then(False).otherwise(None)
        )

    raw = raw.with_columns(
        num("quantity").alias("__qty"),
        num("unit_price").alias("__price"),
        num("total_amount").alias("__total"),
        num("transactions").alias("__trans"),
        num("base_price").alias("__base_price"),
        num("base_cost").alias("__base_cost"),
        st("date").str.to_date("%Y-%m-%d", strict=False).alias("__date"),
        boolean("on_promotion").alias("__promo"),
        boolean("is_open").alias("__open"),
        boolean("school_holiday").alias("__school"),
        # Blank: null or only whitespace.
        *[(st(c).is_null() | (st(c).str.len_bytes() == 0)).alias(f"__blank_{c}") for c in blank_cols],
    )
    qty, price, total, trans = pl.col("__qty"), pl.col("__price"), pl.col("__total"), pl.col("__trans")
    base_price, base_cost, date = pl.col("__base_price"), pl.col("__base_cost"), pl.col("__date")

    def blank(col: str) -> pl.Expr:
        return pl.col(f"__blank_{col}")

    def bad_number(expr: pl.Expr, col: str, whole: bool, signed: bool = False) -> pl.Expr:
        invalid = expr.is_null() | ~expr.is_finite()
        if not signed:
            invalid = invalid | (expr < 0)
        if whole:
            invalid = invalid | (expr != expr.floor()) | (expr.abs() > MAX_INT)
        return ~blank(col) & invalid

    # Returns: a negative quantity (and total) is a return, taken only when the batch says so.
    qty_rule = "a whole number" if allow_returns else "a whole number >= 0"
    total_rule = "a number" if allow_returns else "a number >= 0"

    too_long = [
        (pl.col(c).str.strip_chars().str.len_chars() > MAX_TEXT_LEN, c)
        for c in (
            "store_holiday",
            "store_name",
            "region",
            "city",
            "store_type",
            "product_name",
            "category",
            "brand",
        )
    ]
    longest = pl.max_horizontal([pl.col(c).str.len_bytes().fill_null(0) for c in FIELDS])
    too_long_field = pl.coalesce(
        *[pl.when(pl.col(c).str.len_bytes() > max_field_bytes).then(pl.lit(c)) for c in FIELDS]
    )
    if date_window is not None:
        lo, hi = date_window
        implausible = (date < pl.lit(lo)) | (date > pl.lit(hi))
    else:
        implausible = pl.lit(False)
    checks: list[tuple[pl.Expr, str, pl.Expr]] = [
        (
            longest > max_field_bytes,
            "field_too_long",
            pl.format("{} is longer than {} bytes", too_long_field, pl.lit(max_field_bytes)),
        ),
        (blank("date"), "missing_field", pl.lit("date is required")),
        (blank("store_code"), "missing_field", pl.lit("store_code is required")),
        (blank("sku"), "missing_field", pl.lit("sku is required")),
        (blank("quantity"), "missing_field", pl.lit("quantity is required")),
        (blank("unit_price"), "missing_field", pl.lit("unit_price is required")),
        (
            date.is_null(),
            "invalid_date",
            pl.format("date {} is not a valid YYYY-MM-DD date", echo("date")),
        ),
        (
            implausible,
            "implausible_date",
            pl.format(
                "date {} is outside the plausible range {} to {}",
                pl.col("__date").cast(pl.String),
                pl.lit(str(date_window[0]) if date_window else ""),
                pl.lit(str(date_window[1]) if date_window else ""),
            ),
        ),
        (
            st("store_code").str.len_chars() > MAX_CODE_LEN,
            "invalid_store_code",
            pl.lit(f"store_code is longer than {MAX_CODE_LEN} characters"),
        ),
        (
            st("sku").str.len_chars() > MAX_CODE_LEN,
            "invalid_sku",
            pl.lit(f"sku is longer than {MAX_CODE_LEN} characters"),
        ),
        (
            bad_number(qty, "quantity", True, allow_returns),
            "invalid_quantity",
            pl.format(f"quantity {{}} is not {qty_rule}", echo("quantity")),
        ),
        (
            bad_number(price, "unit_price", False),
            "invalid_unit_price",
            pl.format("unit_price {} is not a number >= 0", echo("unit_price")),
        ),
        (
            bad_number(total, "total_amount", False, allow_returns),
            "invalid_total_amount",
            pl.format(f"total_amount {{}} is not {total_rule}", echo("total_amount")),
        ),
        (
            bad_number(trans, "transactions", True),
            "invalid_transactions",
            pl.format("transactions {} is not a whole number >= 0", echo("transactions")),
        ),
        (
            ~blank("on_promotion") & pl.col("__promo").is_null(),
            "invalid_on_promotion",
            pl.format("on_promotion {} is not a boolean", echo("on_promotion")),
        ),
        (
            ~blank("is_open") & pl.col("__open").is_null(),
            "invalid_is_open",
            pl.format("is_open {} is not a boolean", echo("is_open")),
        ),
        (
            ~blank("school_holiday") & pl.col("__school").is_null(),
            "invalid_school_holiday",
            pl.format("school_holiday {} is not a boolean", echo("school_holiday")),
        ),
        (
            bad_number(base_price, "base_price", False),
            "invalid_base_price",
            pl.format("base_price {} is not a number >= 0", echo("base_price")),
        ),
        (
            bad_number(base_cost, "base_cost", False),
            "invalid_base_cost",
            pl.format("base_cost {} is not a number >= 0", echo("base_cost")),
        ),
    ]
    checks += [
        (cond, "invalid_text", pl.lit(f"{c} is longer than {MAX_TEXT_LEN} characters"))
        for cond, c in too_long
    ]

    # Only the (cheap) code is computed for every row; messages only for the rejected few.
    code: pl.Expr = pl.lit(None, dtype=pl.String)
    for cond, err, _ in reversed(checks):
        code = pl.when(cond.fill_null(False)).then(pl.lit(err)).otherwise(code)
    flagged = raw.with_columns(code.alias("error_code"))

    bad = flagged.filter(pl.col("error_code").is_not_null())
    if bad.height:
        message: pl.Expr = pl.lit(None, dtype=pl.String)
        for cond, _, msg in reversed(checks):
            message = pl.when(cond.fill_null(False)).then(msg).otherwise(message)
        rejected = bad.select(
            "_row",
            echo("store_code"),
            echo("sku"),
            echo("date"),
            "error_code",
            message.alias("error_message"),
        )
    else:
        rejected = pl.DataFrame(schema=REJECT_SCHEMA)
    good = flagged.filter(pl.col("error_code").is_null()).select(
        "_row",
        date.alias("date"),
        pl.when(st("store_code") == "")
        .then(None)
        .otherwise(st("store_code"))
        .alias("store_code"),  # as _text()
        pl.when(st("sku") == "").then(None).otherwise(st("sku")).alias("sku"),
        qty.cast(pl.Int64).alias("quantity"),
        price.round(4).alias("unit_price"),
        pl.coalesce(total, qty * price).round(2).alias("total_amount"),
        pl.col("__promo").fill_null(False).alias("on_promotion"),
        pl.col("__open").alias("is_open"),  # empty: not stated (read as open)
        trans.cast(pl.Int64).alias("transactions"),
        _text("store_holiday").alias("store_holiday"),
        pl.col("__school").alias("school_holiday"),
        _text("store_name").alias("store_name"),
        _text("region").alias("region"),
        _text("city").alias("city"),
        _text("store_type").alias("store_type"),
        _text("product_name").alias("product_name"),
        _text("category").alias("category"),
        _text("brand").alias("brand"),
        base_price.round(4).alias("base_price"),
        base_cost.round(4).alias("base_cost"),
    )
    return good, rejected


def unparsed_frame(items: list[tuple[int, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "_row": [i for i, _, _ in items],
            "store_code": [None] * len(items),
            "sku": [None] * len(items),
            "date": [None] * len(items),
            "error_code": [c for _, c, _ in items],
            "error_message": [m for _, _, m in items],
        },
        schema=REJECT_SCHEMA,
    )
