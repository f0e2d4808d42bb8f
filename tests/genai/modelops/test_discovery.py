"""Hub discovery and downloads against a fake Hugging Face hub on loopback; the local model cache
when no hub is configured or the runtime profile is offline (fail closed)."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.genai.modelops.conftest import App, FakeServer
from tests.netutil import free_port

pytestmark = pytest.mark.db

MINILM = "sentence-transformers/all-MiniLM-L6-v2"


@pytest.fixture
def hub_app(make_app: Any, hub_server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setenv("MODELOPS_HF_BASE_URL", hub_server.url)
    # A gated file is held until the test opens the gate: the client must not give up first on a
    # loaded machine (30 s by default).
    monkeypatch.setenv("MODELOPS_HUB_TIMEOUT_S", "300")
    return make_app()


def test_without_a_hub_discovery_lists_the_local_cache(app: App) -> None:
    body = app.req("GET", "/v1/modelops/discovery/huggingface").json()
    assert body["mode"] == "local_cache" and body["remote_disabled_reason"] == "no_hub_configured"
    item = {i["source_id"]: i for i in body["items"]}[MINILM]
    assert item["source"] == "bundled" and item["task"] == "embeddings"
    weights = {f["path"]: f for f in item["files"]}["model.safetensors"]
    assert weights["sha256"] == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    assert (
        app.req("GET", "/v1/modelops/discovery/huggingface", params={"search": "nomatch"}).json()["items"]
        == []
    )
    one = app.req("GET", f"/v1/modelops/discovery/huggingface/{MINILM}").json()
    assert one["mode"] == "local_cache" and one["source_id"] == MINILM
    r = app.req("GET", "/v1/modelops/discovery/huggingface/acme/tiny-llm")
    assert r.status_code == 404 and r.json()["reason_code"] == "modelops_source_not_found"
    r = app.req("POST", "/v1/modelops/downloads", json={"source_id": "acme/tiny-llm"})
    assert r.status_code == 409 and r.json()["reason_code"] == "modelops_remote_disabled"
    assert r.json()["cause"] == "no_hub_configured"


def test_offline_profile_fails_closed_even_with_a_hub(
    hub_app: App, hub_server: FakeServer, hooks: Any
) -> None:
    async def offline(_conn: Any) -> bool:
        return True

    hooks.runtime_offline = offline
    body = hub_app.req("GET", "/v1/modelops/discovery/huggingface").json()
    assert body["mode"] == "local_cache" and body["remote_disabled_reason"] == "runtime_offline"
    r = hub_app.req("POST", "/v1/modelops/downloads", json={"source_id": "acme/tiny-llm"})
    assert r.status_code == 409 and r.json()["cause"] == "runtime_offline"
    assert hub_server.requests == []  # nothing was sent to the hub


def test_remote_search_and_detail(hub_app: App) -> None:
    body = hub_app.req(
        "GET", "/v1/modelops/discovery/huggingface", params={"search": "tiny", "task": "embeddings"}
    ).json()
    assert body["mode"] == "remote"
    assert [(i["source_id"], i["task"]) for i in body["items"]] == [("acme/tiny-embed", "embeddings")]
    one = hub_app.req("GET", "/v1/modelops/discovery/huggingface/acme/tiny-llm").json()
    assert one["task"] == "llm_inference" and one["license"] == "mit"
    files = {f["path"]: f for f in one["files"]}
    assert files["model.safetensors"]["lfs"] is True and files["model.safetensors"]["size"] == 1 << 20
    r = hub_app.req("GET", "/v1/modelops/discovery/huggingface/acme/nope")
    assert r.status_code == 404 and r.json()["reason_code"] == "modelops_source_not_found"


def test_download_verifies_and_registers_a_draft_model(
    hub_app: App, hub_server: FakeServer, settings: Any
) -> None:
    r = hub_app.req("POST", "/v1/modelops/downloads", json={"source_id": "acme/tiny-llm"})
    assert r.status_code == 202, r.text
    done = hub_app.wait_download(r.json()["id"])
    assert done["status"] == "succeeded", done
    total = sum(len(v) for v in hub_server.repos["acme/tiny-llm"]["files"].values())
    assert done["bytes_total"] == done["bytes_done"] == total and done["progress"] == 1.0
    assert {f["path"]: f["verified"] for f in done["files"]} == {
        "config.json": "git_blob_sha1",
        "model.safetensors": "sha256",
        "README.md": "git_blob_sha1",
    }
    target = Path(done["target_dir"])
    assert target == Path(settings.data_dir) / "genai" / "models" / "acme--tiny-llm" / "main"
    assert (target / "model.safetensors").read_bytes() == hub_server.repos["acme/tiny-llm"]["files"][
        "model.safetensors"
    ]
    m = hub_app.req("GET", f"/v1/modelops/models/{done['model_id']}").json()
    assert (m["lifecycle_state"], m["origin"], m["source"], m["task"]) == (
        "draft",
        "local",
        "huggingface",
        "llm_inference",
    )
    v = hub_app.req("POST", f"/v1/modelops/models/{m['id']}/validate").json()["validation"]
    assert v["status"] == "success" and {c["name"]: c["ok"] for c in v["checks"]}["hash_verified"] is True
    # the finished download is now part of the local cache
    listed = hub_app.req("GET", "/v1/modelops/downloads").json()["items"]
    assert [d["id"] for d in listed] == [done["id"]]


def test_interrupted_download_resumes_with_range(hub_app: App, hub_server: FakeServer) -> None:
    hub_server.cut_after["model.safetensors"] = 300_000
    first = hub_app.wait_download(
        hub_app.req("POST", "/v1/modelops/downloads", json={"source_id": "acme/tiny-llm"}).json()["id"]
    )
    assert first["status"] == "failed" and first["error"]["reason_code"] == "modelops_hub_unavailable"
    second = hub_app.wait_download(
        hub_app.req("POST", "/v1/modelops/downloads", json={"source_id": "acme/tiny-llm"}).json()["id"]
    )
    assert second["status"] == "succeeded", second
    assert second["resumed_bytes"] > 0
    ranges = [h.get("Range") for m, p, h in hub_server.requests if p.endswith("/model.safetensors")]
    assert ranges[0] is None and ranges[-1] is not None and ranges[-1].startswith("bytes=")
    offset = int(ranges[-1][6:].rstrip("-"))  # what the first attempt kept (whole chunks it received)
    assert 0 < offset <= 300_000 and second["resumed_bytes"] >= offset
    path = Path(second["target_dir"]) / "model.safetensors"
    assert (
        hashlib.sha256(path.read_bytes()).hexdigest()
        == hashlib.sha256(hub_server.repos["acme/tiny-llm"]["files"]["model.safetensors"]).hexdigest()
    )


def test_a_server_that_ignores_range_is_read_from_the_start(hub_app: App, hub_server: FakeServer) -> None:
    hub_server.cut_after["model.safetensors"] = 300_000
    first = hub_app.req("POST", "/v1/modelops/downloads", json={"source_id": "acme/tiny-llm"}).json()
    assert hub_app.wait_download(first["id"])["status"] == "failed"
    hub_server.ignore_range = True  # answers 200 with the whole file to a Range request
    second = hub_app.wait_download(
        hub_app.req("POST", "/v1/modelops/downloads", json={"source_id": "acme/tiny-llm"}).json()["id"]
    )
    assert second["status"] == "succeeded", second
    data = hub_server.repos["acme/tiny-llm"]["files"]["model.safetensors"]
    assert (Path(second["target_dir"]) / "model.safetensors").read_bytes() == data


def test_corrupt_file_fails_the_download(hub_app: App, hub_server: FakeServer) -> None:
    repo = hub_server.repos["acme/tiny-embed"]
    repo["served"]["model.safetensors"] = b"\1" * len(repo["files"]["model.safetensors"])
    done = hub_app.wait_download(
        hub_app.req("POST", "/v1/modelops/downloads", json={"source_id": "acme/tiny-embed"}).json()["id"]
    )
    assert done["status"] == "failed" and done["error"]["reason_code"] == "modelops_download_integrity"
    assert done["model_id"] is None


def test_download_refusals(hub_app: App, hub_server: FakeServer) -> None:
    r = hub_app.req("POST", "/v1/modelops/downloads", json={"source_id": "acme/nope"})
    assert r.status_code == 404 and r.json()["reason_code"] == "modelops_source_not_found"
    r = hub_app.req(
        "POST", "/v1/modelops/downloads", json={"source_id": "acme/tiny-llm", "files": ["nope.bin"]}
    )
    assert r.status_code == 422 and r.json()["reason_code"] == "invalid_request"
    hub_server.repos["acme/tiny-llm"]["no_hash"] = {"README.md"}
    r = hub_app.req(
        "POST", "/v1/modelops/downloads", json={"source_id": "acme/tiny-llm", "files": ["README.md"]}
    )
    assert r.status_code == 422 and r.json()["reason_code"] == "modelops_download_unverifiable"
    r = hub_app.req("GET", "/v1/modelops/downloads/dl_nope")
    assert r.status_code == 404 and r.json()["reason_code"] == "modelops_download_not_found"


def test_second_download_of_a_running_one_is_refused(hub_app: App, hub_server: FakeServer) -> None:
    gate = threading.Event()
    hub_server.gates["model.safetensors"] = gate
    first = hub_app.req("POST", "/v1/modelops/downloads", json={"source_id": "acme/tiny-embed"}).json()
    r = hub_app.req("POST", "/v1/modelops/downloads", json={"source_id": "acme/tiny-embed"})
    assert r.status_code == 409 and r.json()["reason_code"] == "modelops_download_in_progress"
    # config.json (first) is done while the weights wait at the gate: byte progress is visible (its
    # bytes count while they arrive, its verification is recorded just after: wait for both)
    now = hub_app.download_when(first["id"], lambda b: b["bytes_done"] > 0 and b["files"][0].get("verified"))
    assert now["status"] == "running" and now["bytes_done"] == len(b"{}")
    assert 0 < now["progress"] < 1 and now["files"][0]["verified"] == "git_blob_sha1"
    gate.set()
    done = hub_app.wait_download(first["id"])
    assert done["status"] == "succeeded", done


def test_a_running_download_is_cancelled_through_the_api(hub_app: App, hub_server: FakeServer) -> None:
    gate = threading.Event()
    hub_server.gates["model.safetensors"] = gate  # the weights wait here: the job is mid-download
    first = hub_app.req("POST", "/v1/modelops/downloads", json={"source_id": "acme/tiny-embed"}).json()
    now = hub_app.download_when(first["id"], lambda b: bool(b["files"][0].get("verified")))
    assert now["status"] == "running"
    r = hub_app.req("POST", f"/v1/modelops/downloads/{first['id']}/cancel")
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["job_state"]) == ("cancelled", "CANCELLED")
    assert r.json()["error"]["reason_code"] == "cancelled"
    got = hub_app.req("GET", f"/v1/modelops/downloads/{first['id']}").json()
    assert got["status"] == "cancelled" and got["model_id"] is None
    again = hub_app.req("POST", f"/v1/modelops/downloads/{first['id']}/cancel")  # idempotent
    assert again.status_code == 200 and again.json()["status"] == "cancelled"
    gate.set()
    # a cancelled download does not block a new one, which resumes the file already fetched
    r = hub_app.req("POST", "/v1/modelops/downloads", json={"source_id": "acme/tiny-embed"})
    assert r.status_code == 202, r.text
    second = hub_app.wait_download(r.json()["id"])
    assert second["status"] == "succeeded" and second["resumed_bytes"] == len(b"{}"), second
    r = hub_app.req("POST", f"/v1/modelops/downloads/{second['id']}/cancel")
    assert r.status_code == 409 and r.json()["reason_code"] == "modelops_download_finished"
    r = hub_app.req("POST", "/v1/modelops/downloads/dl_nope/cancel")
    assert r.status_code == 404 and r.json()["reason_code"] == "modelops_download_not_found"


def test_download_too_large(make_app: Any, hub_server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELOPS_HF_BASE_URL", hub_server.url)
    monkeypatch.setenv("MODELOPS_DOWNLOAD_MAX_BYTES", "1000")
    app = make_app()
    r = app.req("POST", "/v1/modelops/downloads", json={"source_id": "acme/tiny-llm"})
    assert r.status_code == 413 and r.json()["reason_code"] == "modelops_download_too_large"


def test_hub_down_is_503(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    app = make_app()
    r = app.req("GET", "/v1/modelops/discovery/huggingface")
    assert r.status_code == 503 and r.json()["reason_code"] == "modelops_hub_unavailable"


def test_a_download_left_running_by_an_ended_job_is_failed_not_blocking(
    hub_app: App, hub_server: FakeServer
) -> None:
    import sqlalchemy as sa

    from ridgeline.genai.api import modelops_store as ms

    first = hub_app.wait_download(
        hub_app.req("POST", "/v1/modelops/downloads", json={"source_id": "acme/tiny-embed"}).json()["id"]
    )

    async def leave_running() -> None:  # what a restart mid-download leaves behind
        async with hub_app.client.app.state["ctx"].db.begin() as conn:
            await conn.execute(
                sa.update(ms.downloads).where(ms.downloads.c.id == first["id"]).values(status="running")
            )

    hub_app.call(leave_running)
    got = hub_app.req("GET", f"/v1/modelops/downloads/{first['id']}").json()
    assert got["status"] == "failed" and got["error"]["reason_code"] == "modelops_download_failed"
    r = hub_app.req("POST", "/v1/modelops/downloads", json={"source_id": "acme/tiny-embed"})
    assert r.status_code == 202, r.text
    second = hub_app.wait_download(r.json()["id"])
    assert second["status"] == "succeeded", second


def test_a_bad_setting_stops_the_app_naming_the_variable(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ridgeline.platform.settings import SettingsError

    monkeypatch.setenv("MODELOPS_HUB_TIMEOUT_S", "soon")  # checked at start-up, not at first use
    with pytest.raises(SettingsError, match="MODELOPS_HUB_TIMEOUT_S"):
        make_app()
