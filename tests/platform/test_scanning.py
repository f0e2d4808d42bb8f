"""The malware scanner client (platform/scanning.py) against a real ClamAV daemon (tests/clamav.py):
a flagged file, a clean one, one over the daemon's stream limit, a daemon that is not there."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ridgeline.platform.problems import EngineError, catalogue
from ridgeline.platform.scanning import SCAN_CODES, Scanner
from ridgeline.platform.settings import Settings, SettingsError
from tests.clamav import EICAR, start_clamd, stop_clamd

CODES = catalogue(*SCAN_CODES)


def _refusal(scanner: Scanner, data: bytes | Path) -> tuple[int, str] | None:
    try:
        asyncio.run(scanner.check(data, CODES))
    except EngineError as exc:
        return exc.status, exc.reason_code
    return None


def test_a_flagged_file_is_refused_and_a_clean_one_passes(clamd, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scanner = Scanner(clamd.url)
    assert scanner.scan(b"quarterly dock schedule\n" + EICAR + b"\n") == clamd.signature
    assert scanner.scan(b"quarterly dock schedule\n") is None
    on_disk = tmp_path / "report.txt"
    on_disk.write_bytes(b"x" * 300_000 + EICAR)  # past the client's first chunks: the whole file is sent
    assert _refusal(scanner, on_disk) == (422, "file_infected")
    on_disk.write_bytes(b"x" * 300_000)
    assert _refusal(scanner, on_disk) is None


def test_a_file_over_the_daemons_stream_limit_is_not_scannable(tmp_path: Path) -> None:
    small = start_clamd(tmp_path, stream_max="64K")
    try:
        scanner = Scanner(small.url)
        assert _refusal(scanner, b"a" * 200_000) == (413, "file_not_scannable")
        assert _refusal(scanner, b"a" * 1_000) is None
    finally:
        stop_clamd(small)


def test_a_daemon_that_is_not_there_fails_closed(tmp_path: Path) -> None:
    assert _refusal(Scanner(f"unix://{tmp_path / 'no.sock'}"), b"hello") == (503, "scanner_unavailable")
    assert _refusal(Scanner("tcp://127.0.0.1:9", timeout_s=2), b"hello") == (503, "scanner_unavailable")


@pytest.mark.parametrize("url", ["clamd.sock", "http://127.0.0.1:3310", "tcp://", "unix://"])
def test_a_bad_clamd_url_is_a_settings_error(url: str) -> None:
    with pytest.raises(SettingsError, match="RIDGELINE_CLAMD_URL"):
        Settings.from_env({"RIDGELINE_CLAMD_URL": url})


def test_clamd_urls_that_are_accepted() -> None:
    assert Settings.from_env({"RIDGELINE_CLAMD_URL": "unix:///run/clamav/clamd.ctl"}).clamd_url
    assert Settings.from_env({"RIDGELINE_CLAMD_URL": "tcp://clamav.internal:3310"}).clamd_url
