"""Approvals (section 6): outcomes under AUTO_APPROVE_BUILD113, server-side risk, timeout that
survives a restart, the audit trail, Telegram notification and the verified webhook."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.autopack.ops.conftest import KEY, call, close, ops_of

pytestmark = pytest.mark.db

SMALL = {"decision_info": {"type": "refactor", "files_affected": ["src/app.py"]}}
CRITICAL = {
    "run_id": "r1",
    "phase_id": "p1",
    "deletion_info": {"net_deletion": 900, "files_removed": ["src/a.py"]},
}


def test_auto_approve_default_approves_and_audits(make_ops_client) -> None:
    c = make_ops_client()
    r = c.post("/approval/request", json={"run_id": "r1", "phase_id": "p1", **SMALL})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "approved" and body["decision_source"] == "auto"
    assert body["risk_class"] == "low"
    s = c.get(f"/approval/status/{body['approval_id']}").json()
    assert [(e["action"], e["outcome"]) for e in s["audit"]] == [
        ("requested", "approved"),
        ("decided", "approved"),
    ]


def test_risk_comes_from_rules_not_payload(make_ops_client) -> None:
    c = make_ops_client()
    claimed_low = {**CRITICAL, "decision_info": {"risk_level": "low"}}
    body = c.post("/approval/request", json=claimed_low).json()
    assert body["risk_class"] == "critical"
    assert body["status"] == "pending"  # critical waits for a human even with auto-approve on
    audit = c.get(f"/approval/status/{body['approval_id']}").json()["audit"]
    assert audit[0]["detail"]["claimed_risk"] == "low"
    claimed_critical = {"decision_info": {"risk_level": "critical", "files_affected": ["README.md"]}}
    assert c.post("/approval/request", json=claimed_critical).json()["risk_class"] == "low"


def test_protected_path_is_rejected_by_policy(make_ops_client) -> None:
    c = make_ops_client()
    body = c.post("/approval/request", json={"deletion_info": {"files_removed": [".git/config"]}}).json()
    assert body["status"] == "rejected" and body["decision_source"] == "policy"


def test_auto_approve_off_goes_pending_and_operator_decides(make_ops_client, ops_env) -> None:
    ops_env(AUTO_APPROVE_BUILD113="false")
    c = make_ops_client()
    body = c.post("/approval/request", json=SMALL).json()
    assert body["status"] == "pending" and body["deadline_at"] is not None
    pending = c.get("/approval/pending").json()
    assert pending["count"] == 1 and pending["pending"][0]["approval_id"] == body["approval_id"]
    aid = body["approval_id"]
    r = c.post(f"/approval/decide/{aid}", params={"approved": "true", "user_id": "alice"})
    assert r.status_code == 401  # the operator decision needs the API key
    r = c.post(f"/approval/decide/{aid}", params={"approved": "true", "user_id": "alice"}, headers=KEY)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert r.json()["decided_by"].startswith("user:alice via api_key:")
    again = c.post(f"/approval/decide/{aid}", params={"approved": "false"}, headers=KEY)
    assert again.status_code == 409 and again.json()["reason_code"] == "approval_already_decided"
    assert c.get("/approval/pending").json()["count"] == 0


def test_unknown_approval_is_404(make_ops_client) -> None:
    c = make_ops_client()
    r = c.get("/approval/status/nope")
    assert r.status_code == 404 and r.json()["reason_code"] == "approval_not_found"


def test_timeout_resolves_after_restart(make_ops_client, ops_env) -> None:
    ops_env(AUTO_APPROVE_BUILD113="false", APPROVAL_TIMEOUT_MINUTES="5")
    c = make_ops_client()
    aid = c.post("/approval/request", json=SMALL).json()["approval_id"]
    close(c)
    # The next process starts 10 minutes later: start-up resolves what expired while it was down.
    import ridgeline.autopack.api.ops_service as ops_service

    real = ops_service._now
    ops_service._now = lambda: real() + timedelta(minutes=10)
    try:
        c2 = make_ops_client()
        s = c2.get(f"/approval/status/{aid}").json()
    finally:
        ops_service._now = real
    assert s["status"] == "rejected" and s["decision_source"] == "timeout"
    assert s["audit"][-1]["actor"] == "system:timeout"


def test_timeout_default_approve_but_critical_always_rejects(make_ops_client, ops_env) -> None:
    ops_env(AUTO_APPROVE_BUILD113="false", APPROVAL_DEFAULT_ON_TIMEOUT="approve")
    c = make_ops_client()
    ops = ops_of(c)
    small = c.post("/approval/request", json=SMALL).json()["approval_id"]
    crit = c.post("/approval/request", json=CRITICAL).json()["approval_id"]
    real = ops.clock
    ops.clock = lambda: real() + timedelta(hours=1)
    assert call(c, ops.approvals.expire_due) == 2
    assert c.get(f"/approval/status/{small}").json()["status"] == "approved"
    assert c.get(f"/approval/status/{crit}").json()["status"] == "rejected"


def _telegram(fake_server):  # type: ignore[no-untyped-def]
    def reply(path: str, headers: dict[str, str], body: bytes):  # type: ignore[no-untyped-def]
        if path.endswith("/sendMessage"):
            return 200, {"ok": True, "result": {"message_id": 77, "chat": {"id": 4242}}}
        return 200, {"ok": True, "result": True}

    return fake_server(reply)


def test_telegram_notification_and_webhook(make_ops_client, ops_env, fake_server) -> None:
    tg = _telegram(fake_server)
    ops_env(
        AUTO_APPROVE_BUILD113="false",
        TELEGRAM_BOT_TOKEN="123:abc",
        TELEGRAM_CHAT_ID="4242",
        TELEGRAM_API_BASE=tg.url,
        TELEGRAM_WEBHOOK_SECRET="hook-secret-1",
    )
    c = make_ops_client()
    body = c.post("/approval/request", json=CRITICAL).json()
    assert body["telegram_status"] == "sent"
    sent = tg.requests[0]
    assert sent["path"] == "/bot123:abc/sendMessage"
    msg = json.loads(sent["body"])
    buttons = msg["reply_markup"]["inline_keyboard"][0]
    aid = body["approval_id"]
    assert [b["callback_data"] for b in buttons] == [f"approve:{aid}", f"reject:{aid}"]
    assert msg["chat_id"] == "4242"

    update = {
        "update_id": 1,
        "callback_query": {
            "id": "cq1",
            "from": {"id": 9, "username": "bob"},
            "message": {"message_id": 77, "chat": {"id": 4242}},
            "data": f"reject:{aid}",
        },
    }
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
        r = c.post("/telegram/webhook", json=update, headers=headers)
        assert r.status_code == 401 and r.json()["reason_code"] == "telegram_secret_invalid"
    assert c.get(f"/approval/status/{aid}").json()["status"] == "pending"
    r = c.post("/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "hook-secret-1"})
    assert r.status_code == 200 and r.json()["handled"] is True
    s = c.get(f"/approval/status/{aid}").json()
    assert (
        s["status"] == "rejected" and s["decided_by"] == "telegram:bob" and s["decision_source"] == "telegram"
    )
    paths = [q["path"].rsplit("/", 1)[1] for q in tg.requests]
    assert paths == ["sendMessage", "answerCallbackQuery", "editMessageText"]


def test_webhook_ignores_other_chats(make_ops_client, ops_env, fake_server) -> None:
    tg = _telegram(fake_server)
    ops_env(
        AUTO_APPROVE_BUILD113="false",
        TELEGRAM_BOT_TOKEN="1:x",
        TELEGRAM_CHAT_ID="4242",
        TELEGRAM_API_BASE=tg.url,
        TELEGRAM_WEBHOOK_SECRET="s3cret",
    )
    c = make_ops_client()
    aid = c.post("/approval/request", json=SMALL).json()["approval_id"]
    update = {
        "callback_query": {
            "id": "x",
            "message": {"message_id": 1, "chat": {"id": 1}},
            "data": f"approve:{aid}",
        }
    }
    r = c.post("/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
    assert r.status_code == 200 and r.json()["handled"] is False
    assert c.get(f"/approval/status/{aid}").json()["status"] == "pending"


def test_webhook_refused_without_configured_secret(make_ops_client) -> None:
    c = make_ops_client()
    r = c.post("/telegram/webhook", json={}, headers={"X-Telegram-Bot-Api-Secret-Token": ""})
    assert r.status_code == 403 and r.json()["reason_code"] == "telegram_webhook_not_configured"


def test_telegram_down_keeps_request_pending(make_ops_client, ops_env) -> None:
    ops_env(
        AUTO_APPROVE_BUILD113="false",
        TELEGRAM_BOT_TOKEN="1:x",
        TELEGRAM_CHAT_ID="1",
        TELEGRAM_API_BASE="http://127.0.0.1:9",
    )
    c = make_ops_client()
    body = c.post("/approval/request", json=SMALL).json()
    assert body["status"] == "pending" and body["telegram_status"] == "failed"


def test_governance_flow(make_ops_client) -> None:
    c = make_ops_client()
    r = c.post(
        "/governance/requests",
        json={"run_id": "r", "requested_paths": ["migrations/001.sql"], "justification": "schema"},
    )
    assert r.status_code == 201
    rid = r.json()["request_id"]
    assert r.json()["risk_level"] == "high"
    assert [g["request_id"] for g in c.get("/governance/pending").json()["pending"]] == [rid]
    r = c.post(f"/governance/approve/{rid}", params={"approved": "false", "user_id": "carol"})
    assert r.status_code == 200 and r.json()["status"] == "denied" and r.json()["decided_by"] == "carol"
    assert r.json()["audit"][-1] == {**r.json()["audit"][-1], "actor": "carol", "outcome": "denied"}
    again = c.post(f"/governance/approve/{rid}", params={"approved": "true", "user_id": "dave"})
    assert again.status_code == 409 and again.json()["reason_code"] == "governance_already_decided"
    missing = c.post("/governance/approve/nope", params={"approved": "true", "user_id": "dave"})
    assert missing.status_code == 404 and missing.json()["reason_code"] == "governance_request_not_found"
    assert c.get("/governance/pending").json()["count"] == 0


def test_timeout_edits_the_telegram_message(make_ops_client, ops_env, fake_server) -> None:
    tg = _telegram(fake_server)
    ops_env(
        AUTO_APPROVE_BUILD113="false",
        TELEGRAM_BOT_TOKEN="1:x",
        TELEGRAM_CHAT_ID="4242",
        TELEGRAM_API_BASE=tg.url,
    )
    c = make_ops_client()
    aid = c.post("/approval/request", json=SMALL).json()["approval_id"]
    ops = ops_of(c)
    real = ops.clock
    ops.clock = lambda: real() + timedelta(days=1)
    assert c.get(f"/approval/status/{aid}").json()["status"] == "rejected"
    edit = json.loads(tg.requests[-1]["body"])
    assert tg.requests[-1]["path"].endswith("/editMessageText") and edit["message_id"] == 77
    assert "timed out" in edit["text"]


def test_bad_ops_setting_stops_start_up(make_ops_client, ops_env) -> None:
    from ridgeline.platform.settings import SettingsError

    ops_env(APPROVAL_TIMEOUT_MINUTES="0")
    with pytest.raises(SettingsError, match="APPROVAL_TIMEOUT_MINUTES"):
        make_ops_client()


def test_nul_and_oversized_inputs_are_422(make_ops_client) -> None:
    # PostgreSQL refuses NUL in text, and the columns are bounded: both are refused before any query.
    c = make_ops_client()
    assert c.post("/approval/request", json={"run_id": "r\x00"}).status_code == 422
    assert c.post("/approval/request", json={"run_id": "r" * 201}).status_code == 422
    r = c.post("/governance/requests", json={"justification": "a\x00b"})
    assert r.status_code == 422 and r.json()["reason_code"] == "invalid_request"
    rid = c.post("/governance/requests", json={"requested_paths": ["x"]}).json()["request_id"]
    r = c.post(f"/governance/approve/{rid}", params={"approved": "true", "user_id": "a\x00"})
    assert r.status_code == 422
    assert c.get("/approval/status/a%00b").status_code == 422
