"""Policy rules (superadmin), quotes (admin), the quote of the day (public, deterministic per day)
and voice (authenticated)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from ridgeline.genai.quotes_data import QUOTES
from tests.genai.catalog.conftest import ADMIN_ONLY, ANON, SUPER_ONLY, P, reason, refused

pytestmark = pytest.mark.db

RULE = {
    "name": "no-cloud-for-users",
    "effect": "deny",
    "subjects": ["role:user"],
    "actions": ["model.inference"],
}


def test_policy_rules(app, tokens) -> None:  # type: ignore[no-untyped-def]
    s = tokens["super"]
    r = app.post(P + "/v1/policy/rules", json=RULE, headers=s)
    assert r.status_code == 201, r.text
    rule = r.json()
    assert rule["resources"] == ["*"] and rule["priority"] == 100 and rule["enabled"] is True
    assert rule["created_by"] == tokens.ids["super"] and rule["id"].startswith("rule_")
    r = app.post(P + "/v1/policy/rules", json=RULE, headers=s)
    assert r.status_code == 409 and reason(r) == "policy_rule_exists"
    other = {
        **RULE,
        "name": "allow-admins",
        "effect": "allow",
        "subjects": ["role:admin"],
        "priority": 10,
        "enabled": False,
    }
    assert app.post(P + "/v1/policy/rules", json=other, headers=s).status_code == 201
    listed = app.get(P + "/v1/policy/rules", headers=s).json()
    assert [x["name"] for x in listed["rules"]] == ["allow-admins", "no-cloud-for-users"] and listed[
        "total"
    ] == 2
    assert [x["name"] for x in app.get(P + "/v1/policy/rules?effect=deny", headers=s).json()["rules"]] == [
        "no-cloud-for-users"
    ]
    assert [x["name"] for x in app.get(P + "/v1/policy/rules?enabled=false", headers=s).json()["rules"]] == [
        "allow-admins"
    ]
    for bad in (
        {**RULE, "effect": "maybe"},
        {**RULE, "subjects": []},
        {**RULE, "name": ""},
        {**RULE, "priority": -1},
    ):
        r = app.post(
            P + "/v1/policy/rules",
            json={**bad, "name": bad["name"] and "x"} if bad["name"] else bad,
            headers=s,
        )
        assert r.status_code == 422 and reason(r) == "invalid_request"
    refused(app, tokens, "POST", "/v1/policy/rules", SUPER_ONLY, json={**RULE, "name": "z"})
    refused(app, tokens, "GET", "/v1/policy/rules", SUPER_ONLY)
    assert app.get(P + "/v1/policy/rules", headers=s).json()["total"] == 2


def test_quotes_seeded_summary_and_list(app, tokens) -> None:  # type: ignore[no-untyped-def]
    a = tokens["admin"]
    summary = app.get(P + "/v1/quotes/summary", headers=a).json()
    assert summary["total"] == len(QUOTES) and summary["active"] == len(QUOTES) and summary["inactive"] == 0
    assert summary["authors"] == len({q[1] for q in QUOTES}) and summary["by_language"] == {"en": len(QUOTES)}
    assert summary["by_tag"]["craft"] == sum("craft" in q[3] for q in QUOTES)
    page1 = app.get(P + "/v1/quotes?page=1&page_size=7", headers=a).json()
    page3 = app.get(P + "/v1/quotes?page=3&page_size=7", headers=a).json()
    assert page1["total"] == len(QUOTES) and page1["pages"] == 3 and len(page1["items"]) == 7
    assert len(page3["items"]) == len(QUOTES) - 14
    assert [q["id"] for q in page1["items"]] == sorted(q["id"] for q in page1["items"])
    tagged = app.get(P + "/v1/quotes?tag=craft&page_size=100", headers=a).json()
    assert tagged["total"] == summary["by_tag"]["craft"] and all(
        "craft" in q["tags"] for q in tagged["items"]
    )
    found = app.get(P + "/v1/quotes?q=TWICE", headers=a).json()
    assert [q["text"] for q in found["items"]] == ["Measure twice, cut once."]
    by_author = app.get(P + "/v1/quotes?author=Ridgeline&page_size=100", headers=a).json()
    assert by_author["total"] == sum(q[1] == "Ridgeline" for q in QUOTES)
    desc = app.get(P + "/v1/quotes?sort_by=id&sort_order=desc&page_size=3", headers=a).json()
    assert [q["id"] for q in desc["items"]] == sorted((q["id"] for q in desc["items"]), reverse=True)
    assert desc["items"][0]["id"] == len(QUOTES)
    assert app.get(P + "/v1/quotes?page_size=1000", headers=a).status_code == 422
    assert app.get(P + "/v1/quotes?tag=Bad%20Tag", headers=a).status_code == 422
    like = app.get(P + "/v1/quotes?q=%25", headers=a).json()  # a LIKE wildcard is matched literally
    assert like["total"] == 0


def test_quotes_create_get_update(app, tokens) -> None:  # type: ignore[no-untyped-def]
    a = tokens["admin"]
    body = {
        "text": "Ship it when the tests say so.",
        "author": "Ridgeline",
        "tags": ["testing"],
        "language": "en",
    }
    r = app.post(P + "/v1/quotes", json=body, headers=a)
    assert r.status_code == 201, r.text
    q = r.json()
    assert q["text"] == body["text"] and q["is_active"] is True and q["source"] is None
    assert app.get(P + f"/v1/quotes/{q['id']}", headers=a).json() == q
    upd = {**body, "text": "Ship it when the tests agree.", "is_active": False, "language": "fr"}
    r = app.put(P + f"/v1/quotes/{q['id']}", json=upd, headers=a)
    assert r.status_code == 200 and r.json()["text"] == upd["text"] and r.json()["is_active"] is False
    assert r.json()["created_at"] == q["created_at"]
    inactive = app.get(P + "/v1/quotes?is_active=false", headers=a).json()
    assert [x["id"] for x in inactive["items"]] == [q["id"]]
    assert app.get(P + "/v1/quotes?language=fr", headers=a).json()["total"] == 1
    for path, method, kw in (
        (f"/v1/quotes/{10**9}", "GET", {}),
        (f"/v1/quotes/{10**9}", "PUT", {"json": body}),
    ):
        r = app.request(method, P + path, headers=a, **kw)
        assert r.status_code == 404 and reason(r) == "quote_not_found"
    assert app.post(P + "/v1/quotes", json={**body, "text": ""}, headers=a).status_code == 422
    assert app.get(P + f"/v1/quotes/{2**63}", headers=a).status_code == 422


def test_quote_roles(app, tokens) -> None:  # type: ignore[no-untyped-def]
    body = {"text": "x", "author": "y"}
    for method, path, kw in (
        ("GET", "/v1/quotes/summary", {}),
        ("GET", "/v1/quotes", {}),
        ("GET", "/v1/quotes/1", {}),
        ("POST", "/v1/quotes", {"json": body}),
        ("PUT", "/v1/quotes/1", {"json": body}),
    ):
        refused(app, tokens, method, path, ADMIN_ONLY, **kw)
    assert app.get(P + "/v1/quotes/summary", headers=tokens["super"]).status_code == 200
    assert app.get(P + "/v1/quotes/1", headers=tokens["admin"]).json()["text"] == QUOTES[0][0]


def _expected(day: dt.date, ids: list[int]) -> int:
    digest = hashlib.sha256(f"quote-of-the-day:{day.isoformat()}".encode()).hexdigest()
    return ids[int(digest[:16], 16) % len(ids)]


def test_quote_of_the_day_is_public_and_deterministic(app, tokens) -> None:  # type: ignore[no-untyped-def]
    r = app.get(P + "/v1/content/quote-of-the-day")  # anonymous
    assert r.status_code == 200
    today = dt.datetime.now(dt.UTC).date()
    assert r.json()["date"] == today.isoformat()
    assert app.get(P + "/v1/content/quote-of-the-day", headers=tokens["user"]).json() == r.json()
    ids = list(range(1, len(QUOTES) + 1))
    picks = set()
    for offset in range(10):
        day = dt.date(2026, 1, 1) + dt.timedelta(days=offset)
        got = app.get(P + f"/v1/content/quote-of-the-day?date={day.isoformat()}").json()
        assert got["date"] == day.isoformat() and got["quote"]["id"] == _expected(day, ids)
        picks.add(got["quote"]["id"])
    assert len(picks) > 1  # not one fixed quote
    # Deactivating the pick moves it to another active quote, the same way every time.
    day = dt.date(2026, 1, 1)
    chosen = _expected(day, ids)
    q = app.get(P + f"/v1/quotes/{chosen}", headers=tokens["admin"]).json()
    upd = {k: q[k] for k in ("text", "author", "source", "language", "tags")} | {"is_active": False}
    assert app.put(P + f"/v1/quotes/{chosen}", json=upd, headers=tokens["admin"]).status_code == 200
    got = app.get(P + f"/v1/content/quote-of-the-day?date={day.isoformat()}").json()
    assert got["quote"]["id"] == _expected(day, [i for i in ids if i != chosen])
    assert app.get(P + "/v1/content/quote-of-the-day?date=2026-13-01").status_code == 422


def test_voice(app, tokens) -> None:  # type: ignore[no-untyped-def]
    u = tokens["user"]
    h = app.get(P + "/voice/health", headers=u).json()
    assert h == {"status": "ok", "wake_events_recorded": 0, "last_event_at": None}
    body = {
        "wake_word": "hey ridgeline",
        "confidence": 0.93,
        "device_id": "kitchen-1",
        "detected_at": "2026-12-01T08:00:00Z",
    }
    r = app.post(P + "/voice/wake-events", json=body, headers=u)
    assert r.status_code == 201, r.text
    ev = r.json()
    assert (
        ev["accepted"] is True
        and ev["user_id"] == tokens.ids["user"]
        and ev["detected_at"] == "2026-12-01T08:00:00Z"
    )
    assert ev["id"].startswith("wake_") and ev["metadata"] == {}
    r = app.post(
        P + "/voice/wake-events", json={"wake_word": "hey", "confidence": 0.5}, headers=tokens["admin"]
    )
    assert r.status_code == 201
    h = app.get(P + "/voice/health", headers=u).json()
    assert h["wake_events_recorded"] == 2 and h["last_event_at"] is not None
    dt.datetime.fromisoformat(h["last_event_at"])
    for bad in (
        {**body, "confidence": 1.5},
        {**body, "wake_word": ""},
        {**body, "detected_at": "2026-12-01T08:00:00"},  # naive: refused
        {**body, "extra": 1},
    ):
        r = app.post(P + "/voice/wake-events", json=bad, headers=u)
        assert r.status_code == 422 and reason(r) == "invalid_request", bad
    refused(app, tokens, "POST", "/voice/wake-events", ANON, json=body)
    refused(app, tokens, "GET", "/voice/health", ANON)
