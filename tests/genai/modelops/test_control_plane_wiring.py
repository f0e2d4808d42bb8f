"""ModelOps and the control plane wired together (ridgeline.genai.runtime.install_modelops_hooks): a
model bound in a real deployment cannot be deleted, usage names the deployment, and test-runtimes
lists the control plane's provider instances."""

from __future__ import annotations

import pytest

from tests.genai.modelops.conftest import App
from tests.genai.modelops.test_models import bundled

pytestmark = pytest.mark.db


def _active_bundled(app: App) -> str:
    mid = bundled(app)["id"]
    assert app.req("POST", f"/v1/modelops/models/{mid}/register").status_code == 200
    assert app.req("POST", f"/v1/modelops/models/{mid}/validate").json()["validation"]["status"] == "success"
    r = app.req("POST", f"/v1/modelops/models/{mid}/activate")
    assert r.status_code == 200, r.text
    return mid


def test_a_model_bound_in_a_deployment_cannot_be_deleted(app: App) -> None:
    mid = _active_bundled(app)
    providers = app.req("GET", "/v1/platform/providers").json()["providers"]
    by_slug = {p["slug"]: p["id"] for p in providers}
    emb = {"id": by_slug["ridgeline-local-embeddings"]}
    bindings = {
        "llm_inference": {"provider_id": by_slug["ridgeline-extractive-chat"]},
        "embeddings": {"provider_id": emb["id"]},
        "vector_store": {"provider_id": by_slug["ridgeline-embedded-vector-index"]},
    }
    dep = app.req("POST", "/v1/platform/deployments", json={"slug": "wired", "bindings": bindings})
    assert dep.status_code == 201, dep.text
    did = dep.json()["deployment"]["id"]
    r = app.req(
        "PUT",
        f"/v1/platform/deployments/{did}/bindings/embeddings",
        json={"provider_id": emb["id"], "resources": [{"id": mid}], "default_resource_id": mid},
    )
    assert r.status_code == 200, r.text
    r = app.req("DELETE", f"/v1/modelops/models/{mid}")
    assert r.status_code == 409 and r.json()["reason_code"] == "modelops_model_bound", r.text
    usage = app.req("GET", f"/v1/modelops/models/{mid}/usage").json()
    assert "wired" in str(usage)
    runtimes = app.req("GET", f"/v1/modelops/models/{mid}/test-runtimes")
    assert runtimes.status_code == 200, runtimes.text
