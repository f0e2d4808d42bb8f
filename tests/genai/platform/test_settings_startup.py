"""Every genai variable (control plane, execution proxy, ModelOps) is checked when ``ridgeline
serve`` starts: a bad value exits 2 with one line naming the variable, before anything listens."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

RIDGELINE = str(Path(sys.executable).with_name("ridgeline"))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GENAI_PROVIDER_TIMEOUT_S", "soon"),
        ("LLM_URL", "localhost:8000"),
        ("AGENT_EXECUTION_FALLBACK", "perhaps"),
        ("MODELOPS_OFFLINE", "maybe"),
        ("MODELOPS_DOWNLOAD_MAX_BYTES", "-5"),
    ],
)
def test_a_bad_variable_is_exit_2_naming_it(tmp_path, name, value):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENAI_", "MODELOPS_", "AGENT_", "LLM_"))}
    env.update({"RIDGELINE_DATA_DIR": str(tmp_path), name: value})
    r = subprocess.run([RIDGELINE, "serve", "--only", "genai", "--port", "1"], env=env, capture_output=True,
                       text=True, timeout=120)  # fmt: skip
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0], r.stderr
    assert not (tmp_path / "ridgeline.db").exists()  # refused before migrating anything
