"""Every parser that takes a user file, fuzzed for a fixed number of executions (coverage-guided,
atheris), and every crash the fuzzers found kept as a regression input. ``RIDGELINE_FUZZ_RUNS`` sets the
executions per target (default 2000: CI's budget); ``RIDGELINE_FUZZ_MAX_SECONDS`` (default 600) is only a
safety net against a hung target, not the budget, so a slow or loaded machine takes longer but checks as
much. Longer runs: ``python -m tests.fuzz.targets TARGET -max_total_time=600``."""

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
def test_fuzz_target_for_a_fixed_number_of_runs(target: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    runs = int(os.environ.get("RIDGELINE_FUZZ_RUNS", "2000"))
    cap_s = int(os.environ.get("RIDGELINE_FUZZ_MAX_SECONDS", "600"))
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.fuzz.targets",
            target,
            f"-runs={runs}",
            f"-max_total_time={cap_s}",
            f"-artifact_prefix={tmp_path}/",
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=cap_s + 240,
    )
    log = r.stderr.decode(errors="replace")
    found = sorted(p.name for p in tmp_path.glob("crash-*"))
    assert r.returncode == 0 and not found, f"{target}: {found}\n{log[-3000:]}"
    done = re.search(r"Done (\d+) runs in", log)
    assert done, log[-2000:]
    # Fewer than asked means the safety cap stopped it (a hang or a pathological slowdown), not that
    # the machine was busy.
    assert int(done.group(1)) >= runs, f"{target}: stopped at the {cap_s} s cap\n{log[-2000:]}"


@pytest.mark.parametrize("path", sorted(CRASHES.iterdir()), ids=lambda p: p.name)
def test_found_crashes_are_refused_cleanly(path: Path) -> None:
    """``<target>-<what>`` files: the input a fuzzer found, replayed through its target."""
    target = path.name.split("-", 1)[0]
    TARGETS[target](path.read_bytes())  # raises on a regression; the documented refusal passes
