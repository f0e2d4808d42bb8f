"""Research (section 13, experimental): sessions, queries and findings persisted; BM25 search;
writes need the API key; a closed session refuses writes."""

from __future__ import annotations

import pytest

from tests.autopack.ops.conftest import KEY, close

pytestmark = pytest.mark.db


def test_session_lifecycle_persists_across_restart(make_ops_client) -> None:
    c = make_ops_client()
    body = {"topic": "rate limiting", "queries": ["fixed window vs sliding window"]}
    assert c.post("/research/sessions", json=body).status_code == 401
    r = c.post("/research/sessions", json=body, headers=KEY)
    assert r.status_code == 201 and r.json()["experimental"] is True
    sid = r.json()["session_id"]
    qid = r.json()["queries"][0]["query_id"]
    q2 = c.post(f"/research/sessions/{sid}/queries", json={"query": "redis INCR EXPIRE"}, headers=KEY)
    assert q2.status_code == 201
    f1 = {
        "title": "Fixed windows double at the boundary",
        "content": "A fixed window admits twice the limit across a boundary.",
        "query_id": qid,
        "confidence": 0.9,
    }
    f2 = {"title": "Redis counters", "content": "MULTI INCR EXPIRE keeps counts shared between workers."}
    assert c.post(f"/research/sessions/{sid}/findings", json=f1, headers=KEY).status_code == 201
    assert c.post(f"/research/sessions/{sid}/findings", json=f2, headers=KEY).status_code == 201
    bad = c.post(f"/research/sessions/{sid}/findings", json={**f2, "query_id": "nope"}, headers=KEY)
    assert bad.status_code == 404
    hits = c.get(f"/research/sessions/{sid}/search", params={"q": "redis workers"}).json()
    assert [h["title"] for h in hits] == ["Redis counters"] and hits[0]["score"] > 0
    close(c)
    c2 = make_ops_client()
    d = c2.get(f"/research/sessions/{sid}").json()
    assert [q["query"] for q in d["queries"]] == ["fixed window vs sliding window", "redis INCR EXPIRE"]
    assert [f["title"] for f in d["findings"]] == [f1["title"], f2["title"]]
    assert d["findings"][0]["query_id"] == qid
    listed = c2.get("/research/sessions").json()
    assert listed["total"] == 1 and listed["sessions"][0]["finding_count"] == 2
    r = c2.post(f"/research/sessions/{sid}/close", json={"conclusion": "use the shared store"}, headers=KEY)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    r = c2.post(f"/research/sessions/{sid}/queries", json={"query": "late"}, headers=KEY)
    assert r.status_code == 409 and r.json()["reason_code"] == "research_session_closed"
    assert c2.get("/research/sessions", params={"status": "active"}).json()["total"] == 0


def test_unknown_session_is_404(make_ops_client) -> None:
    c = make_ops_client()
    r = c.get("/research/sessions/nope")
    assert r.status_code == 404 and r.json()["reason_code"] == "research_session_not_found"
    r = c.post("/research/sessions/nope/queries", json={"query": "x"}, headers=KEY)
    assert r.status_code == 404
