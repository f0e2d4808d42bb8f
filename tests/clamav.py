"""A private ClamAV daemon for the upload-scanning tests: ``clamd`` from Debian's packages
(scripts/clamav.sh) on a Unix socket in a temporary directory, with one signature of our own (the
EICAR test string, matched anywhere in a file). No signature database is downloaded: the official
one cannot be fetched here, and the tests need only a known signature to show that a flagged file
is refused and nothing of it stored."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

#: the EICAR anti-virus test string, assembled at run time so this source file is not itself flagged
EICAR = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*").encode()
SIGNATURE = "Ridgeline.Test.EICAR"


@dataclass
class Clamd:
    url: str
    process: subprocess.Popen[bytes]
    #: the name clamd reports for a match (it marks signatures outside its official database)
    signature: str = f"{SIGNATURE}.UNOFFICIAL"


def start_clamd(directory: Path, *, stream_max: str = "8M") -> Clamd:
    binary = shutil.which("clamd") or ("/usr/sbin/clamd" if os.path.exists("/usr/sbin/clamd") else None)
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("clamd is not installed: scripts/clamav.sh installs it")
        pytest.skip("clamd is not installed (scripts/clamav.sh)")
    db = directory / "db"
    db.mkdir(parents=True)
    (db / "ridgeline-test.ndb").write_text(f"{SIGNATURE}:0:*:{EICAR.hex()}\n")
    sock = directory / "clamd.sock"
    conf = directory / "clamd.conf"
    conf.write_text(
        f"DatabaseDirectory {db}\nLocalSocket {sock}\nForeground yes\nLogFile {directory / 'clamd.log'}\n"
        f"StreamMaxLength {stream_max}\nMaxThreads 4\n"
    )
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 60
    while not sock.exists():
        if proc.poll() is not None or time.monotonic() > end:
            proc.kill()
            log = (
                (directory / "clamd.log").read_text(errors="replace")[-2000:]
                if (directory / "clamd.log").exists()
                else ""
            )
            raise AssertionError(f"clamd did not start: {log}")
        time.sleep(0.05)
    return Clamd(url=f"unix://{sock}", process=proc)


def stop_clamd(clamd: Clamd) -> None:
    clamd.process.terminate()
    try:
        clamd.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        clamd.process.kill()
