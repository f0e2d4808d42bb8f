"""GET /dimensions/*: filters, case-insensitive search, pagination from 1, allow-listed sorting, 404s."""

from __future__ import annotations

import pytest

from .retail_testlib import post_csv

pytestmark = pytest.mark.db

BODY = (
    b"date,store_code,sku,quantity,unit_price,store_name,region,store_type,product_name,category,brand,base_price\n"
    b"2024-03-01,TEST-A,SKU-Z,1,1,Zulu Store,North,express,Alpha Widget,Dairy,Acme,3.0\n"
    b"2024-03-01,TEST-B,SKU-Y,1,1,Alpha Store,North,supermarket,Mike Widget,Dairy,Bolt,1.0\n"
    b"2024-03-01,TEST-C,SKU-X,1,1,Mike Store,South,express,Zulu Widget,Bakery,Acme,2.0\n"
    b"2024-03-01,OTHER-D,SKU-W,1,1,Delta Market,West,hypermarket,Wrench 100%_off,Tools,Core,9.0\n"
)


@pytest.fixture
def client(make_client):  # type: ignore[no-untyped-def]
    c = make_client()
    assert post_csv(c, BODY, create_missing=True).json()["inserted_count"] == 4
    return c


def codes(r) -> list[str]:  # type: ignore[no-untyped-def]
    assert r.status_code == 200, r.text
    return [s["code"] for s in r.json()["stores"]]


def skus(r) -> list[str]:  # type: ignore[no-untyped-def]
    assert r.status_code == 200, r.text
    return [p["sku"] for p in r.json()["products"]]


def test_store_filters_search_and_default_order(client) -> None:  # type: ignore[no-untyped-def]
    assert codes(client.get("/retail/dimensions/stores")) == ["OTHER-D", "TEST-A", "TEST-B", "TEST-C"]
    assert codes(client.get("/retail/dimensions/stores?region=North")) == ["TEST-A", "TEST-B"]
    assert codes(client.get("/retail/dimensions/stores?region=North&store_type=express")) == ["TEST-A"]
    assert codes(client.get("/retail/dimensions/stores?search=test-")) == ["TEST-A", "TEST-B", "TEST-C"]
    assert codes(client.get("/retail/dimensions/stores?search=ALPHA")) == ["TEST-B"]
    assert codes(client.get("/retail/dimensions/stores?region=Nowhere")) == []


def test_store_sorting_allow_list_and_fallback(client) -> None:  # type: ignore[no-untyped-def]
    names = lambda r: [s["name"] for s in r.json()["stores"]]  # noqa: E731
    q = "/retail/dimensions/stores?search=TEST"
    assert names(client.get(q + "&sort_by=name&sort_order=asc")) == [
        "Alpha Store",
        "Mike Store",
        "Zulu Store",
    ]
    assert names(client.get(q + "&sort_by=name&sort_order=desc")) == [
        "Zulu Store",
        "Mike Store",
        "Alpha Store",
    ]
    assert codes(client.get(q + "&sort_by=not_a_column&sort_order=desc")) == ["TEST-C", "TEST-B", "TEST-A"]
    assert codes(client.get(q + "&sort_by=name;drop table retail_store")) == ["TEST-A", "TEST-B", "TEST-C"]
    assert names(client.get(q + "&sort_by=name&sort_order=sideways")) == [
        "Alpha Store",
        "Mike Store",
        "Zulu Store",
    ]


def test_pagination_is_one_based(client) -> None:  # type: ignore[no-untyped-def]
    page1 = client.get("/retail/dimensions/stores?page=1&page_size=3").json()
    page2 = client.get("/retail/dimensions/stores?page=2&page_size=3").json()
    assert page1["total"] == page2["total"] == 4 and page1["page"] == 1 and page2["page"] == 2
    assert len(page1["stores"]) == 3 and [s["code"] for s in page2["stores"]] == ["TEST-C"]
    assert client.get("/retail/dimensions/stores?page=9").json()["stores"] == []
    for bad in ("page=0", "page_size=0", "page_size=101", "search=a"):
        r = client.get(f"/retail/dimensions/stores?{bad}")
        assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


def test_products_filters_search_sort(client) -> None:  # type: ignore[no-untyped-def]
    assert skus(client.get("/retail/dimensions/products?category=Dairy")) == ["SKU-Y", "SKU-Z"]
    assert skus(client.get("/retail/dimensions/products?brand=Acme")) == ["SKU-X", "SKU-Z"]
    assert skus(client.get("/retail/dimensions/products?search=widget&sort_by=name")) == [
        "SKU-Z",
        "SKU-Y",
        "SKU-X",
    ]
    assert skus(client.get("/retail/dimensions/products?search=SKU-&sort_by=base_price&sort_order=desc")) == [
        "SKU-W",
        "SKU-Z",
        "SKU-X",
        "SKU-Y",
    ]
    # LIKE wildcards in the search text are literals.
    assert skus(client.get("/retail/dimensions/products?search=100%25_")) == ["SKU-W"]
    assert skus(client.get("/retail/dimensions/products?search=0%25")) == ["SKU-W"]
    assert skus(client.get("/retail/dimensions/products?search=__")) == []


def test_get_by_id_and_missing_is_404_problem(client) -> None:  # type: ignore[no-untyped-def]
    first = client.get("/retail/dimensions/stores?search=TEST-A").json()["stores"][0]
    got = client.get(f"/retail/dimensions/stores/{first['id']}")
    assert got.status_code == 200 and got.json() == first
    product = client.get("/retail/dimensions/products?search=SKU-Z").json()["products"][0]
    assert client.get(f"/retail/dimensions/products/{product['id']}").json()["base_price"] == 3.0
    for path, reason in (("stores/9999", "store_not_found"), ("products/9999", "product_not_found")):
        r = client.get(f"/retail/dimensions/{path}")
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert body["status"] == 404 and body["reason_code"] == reason and body["request_id"]


def test_empty_tables_give_empty_lists(make_client) -> None:  # type: ignore[no-untyped-def]
    c = make_client()
    for path, key in (("stores", "stores"), ("products", "products")):
        r = c.get(f"/retail/dimensions/{path}?search=anything")
        assert r.status_code == 200 and r.json()[key] == [] and r.json()["total"] == 0
