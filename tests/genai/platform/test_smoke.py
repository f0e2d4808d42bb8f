import pytest

pytestmark = pytest.mark.db


def test_default_deployment_works_offline_of_everything(app):
    deps = app.ok("GET", "/v1/platform/deployments")["deployments"]
    assert [d["slug"] for d in deps] == ["local-default"]
    d = deps[0]
    assert d["is_active"] is True
    assert d["configuration_status"]["state"] == "ready", d["configuration_status"]
    r = app.ok(
        "POST",
        "/v1/models/generate",
        role="user",
        json={"prompt": "When does dock 4 open?", "system": "Dock 4 opens at 06:00. Dock 5 is closed."},
    )
    assert r["model"] == "ridgeline-extractive-1"
    assert "06:00" in r["text"]
