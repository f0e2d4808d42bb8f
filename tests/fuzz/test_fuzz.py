"""Every parser that takes a user file, fuzzed for a fixed time (coverage-guided, atheris), and every
crash the fuzzers found kept as a regression input. ``RIDGELINE_FUZZ_SECONDS`` sets the time per target
(default 8: CI's budget); longer runs: ``python -m tests.fuzz.targets TARGET -max_total_time=600``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.targets import TARGETS

CRASHES = Path(__file__).parent / "crashes"
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_fuzz_target_for_a_fixed_time(target: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    seconds = int(os.environ.get("RIDGELINE_FUZZ_SECONDS", "8"))
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz.targets",
            target,
            f"-max_total_time={seconds}",
            f"-artifact_prefix={tmp_path}/",
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=seconds + 240,
    )
    log = r.stderr.decode(errors="replace")
    found = sorted(p.name for p in tmp_path.glob("crash-*"))
    assert r.returncode == 0 and not found, f"{target}: {found}\n{log[-3000:]}"
    runs = re.search(r"Done (\d+) runs in", log)
    assert runs and int(runs.group(1)) > 100, log[-2000:]  # the fuzzer really ran to its time limit


@pytest.mark.parametrize("path", sorted(CRASHES.iterdir()), ids=lambda p: p.name)
def test_found_crashes_are_refused_cleanly(path: Path) -> None:
    """``<target>-<what>`` files: the input a fuzzer found, replayed through its target."""
    target = path.name.split("-", 1)[0]
    TARGETS[target](path.read_bytes())  # raises on a regression; the documented refusal passes
