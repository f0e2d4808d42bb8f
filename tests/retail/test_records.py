"""Streaming parsers and row validation (engine only)."""

from __future__ import annotations

import gzip

import polars as pl
import pytest

from ridgeline.retail.records import FormatError, RecordParser, validate_block

HEADER = b"date,store_code,sku,quantity,unit_price,total_amount,on_promotion,transactions,school_holiday\n"
ROWS = [
    b"2024-01-01,S1,A,3,1.5,,yes,2,1\n",
    b"2024-13-01,S1,A,3,1.5,,,,\n",
    b"2024-01-02,S1,A,-3,1.5,,,,\n",
    b"2024-01-03,,A,3,1.5,,,,\n",
    b"2024-01-04,S1,A,3.5,2,,,,\n",
    b"2024-01-05,S1,A,4,abc,,,,\n",
    b"2024-01-06,S1,A,4,2,,maybe,,\n",
    b"2024-01-07,S1,B,4,2,9.99,0,1.5,\n",
    b"2024-01-08,S1,B,4,2,,false,,no\n",
]


def parse(
    body: bytes, fmt: str = "csv", step: int | None = None, **kw: object
) -> tuple[pl.DataFrame, RecordParser]:
    p = RecordParser(fmt, **kw)  # type: ignore[arg-type]
    blocks: list[pl.DataFrame] = []
    step = step or len(body) or 1
    for i in range(0, len(body), step):
        blocks.extend(p.feed(body[i : i + step]))
    blocks.extend(p.finish())
    return pl.concat(blocks), p


def test_csv_rules_and_error_codes() -> None:
    raw, _ = parse(HEADER + b"".join(ROWS))
    good, bad = validate_block(raw)
    assert good["_row"].to_list() == [0, 8]
    first = good.row(0, named=True)
    assert first["total_amount"] == 4.5 and first["on_promotion"] is True and first["school_holiday"] is True
    assert good.row(1, named=True)["school_holiday"] is False
    codes = dict(zip(bad["_row"].to_list(), bad["error_code"].to_list(), strict=True))
    assert codes == {
        1: "invalid_date",
        2: "invalid_quantity",
        3: "missing_field",
        4: "invalid_quantity",
        5: "invalid_unit_price",
        6: "invalid_on_promotion",
        7: "invalid_transactions",
    }
    assert bad["error_message"].null_count() == 0


def test_chunk_boundaries_do_not_matter() -> None:
    body = HEADER + b"".join(ROWS) * 50
    whole, _ = parse(body)
    for step in (1, 7, 64, 1000):
        pieces, _ = parse(body, step=step, block_bytes=256)
        assert pieces.equals(whole)


def test_csv_header_problems_are_format_errors() -> None:
    with pytest.raises(FormatError, match="quantity"):
        parse(b"date,store_code,sku,unit_price\n2024-01-01,S1,A,1\n")
    with pytest.raises(FormatError, match="no header"):
        parse(b"")
    with pytest.raises(FormatError, match="repeats"):
        parse(b"date,store_code,sku,quantity,unit_price,sku\n")


def test_gzip_body() -> None:
    body = HEADER + b"".join(ROWS)
    plain, _ = parse(body)
    zipped, _ = parse(gzip.compress(body), step=10, gzip=True)
    assert zipped.equals(plain)
    with pytest.raises(FormatError, match="gzip"):
        parse(b"not gzip at all", gzip=True)


def test_ndjson_bad_lines_are_rejected_individually() -> None:
    body = (
        b'{"date":"2024-01-01","store_code":"S1","sku":"A","quantity":2,"unit_price":3.25}\n'
        b"{oops\n\n[1]\n"
        b'{"date":"2024-01-01","store_code":"S1","sku":"B","quantity":"2","unit_price":3.25,"on_promotion":true}\n'
    )
    raw, p = parse(body, "ndjson")
    good, bad = validate_block(raw)
    assert good["_row"].to_list() == [0, 3] and good["on_promotion"].to_list() == [False, True]
    assert [(i, c) for i, c, _ in p.unparsed] == [(1, "invalid_json"), (2, "invalid_record")]
    assert bad.height == 0


def test_json_document() -> None:
    body = (
        b'{"records":[{"date":"2024-01-01","store_code":"S1","sku":"A","quantity":2,"unit_price":3.25}, 5]}'
    )
    raw, p = parse(body, "json")
    assert raw.height == 1 and p.unparsed[0][:2] == (1, "invalid_record")
    with pytest.raises(FormatError):
        parse(b'{"rows": []}', "json")


def test_nested_json_values_are_rejected_not_crashing() -> None:
    body = (
        b'{"records":[{"date":"2024-01-01","store_code":"S1","sku":"A","quantity":[1],"unit_price":3.25},'
        b'{"date":"2024-01-01","store_code":"S1","sku":"A","quantity":true,"unit_price":{"x":1}},'
        b'{"date":"2024-01-02","store_code":"S1","sku":"A","quantity":2.0,"unit_price":0.001,"on_promotion":false}]}'
    )
    raw, _ = parse(body, "json")
    good, bad = validate_block(raw)
    assert good["_row"].to_list() == [2] and good["unit_price"].to_list() == [0.001]
    assert bad["error_code"].to_list() == ["invalid_quantity", "invalid_quantity"]
    assert "[1]" in bad["error_message"][0]
