"""SQLite connections and WAL: the migrated file is already in WAL mode, and a connection that has to
switch it waits out other connections' locks instead of failing with "database is locked" (two
``ridgeline worker`` processes opening a freshly migrated database at once did, in CI)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from ridgeline.platform import db as dbmod
from ridgeline.platform.settings import Settings


def _mode(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])


def test_a_migrated_database_is_in_wal_mode(tmp_path: Path) -> None:
    settings = Settings.from_env({"RIDGELINE_DATA_DIR": str(tmp_path)})
    dbmod.upgrade(settings)
    assert _mode(tmp_path / "ridgeline.db") == "wal"


def test_the_switch_to_wal_waits_for_a_reader_to_finish(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with sqlite3.connect(path) as seed:
        seed.execute("CREATE TABLE t (x)")
    reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchall()  # a shared lock: no exclusive lock for anyone
    threading.Timer(0.3, lambda: reader.execute("COMMIT")).start()
    conn = sqlite3.connect(path, timeout=0, check_same_thread=False)  # no driver-side wait at all
    dbmod.sqlite_pragmas(conn)
    assert _mode(path) == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    conn.close()
    reader.close()


class _Cursor:
    """A cursor whose first two switches to WAL are refused at once, as SQLite does to a reader that
    would have to wait on another reader to become a writer."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.mode = "delete"
        self.last: Any = None

    def execute(self, sql: str) -> None:
        if sql == "PRAGMA journal_mode":
            self.last = (self.mode,)
        elif sql == "PRAGMA journal_mode=WAL":
            if self.refusals:
                self.refusals -= 1
                raise sqlite3.OperationalError("database is locked")
            self.mode = "wal"

    def fetchone(self) -> Any:
        return self.last

    def close(self) -> None:
        pass


class _Connection:
    def __init__(self, cursor: _Cursor) -> None:
        self._cursor = cursor

    def cursor(self) -> _Cursor:
        return self._cursor


def test_a_refused_switch_to_wal_is_retried() -> None:
    cursor = _Cursor(refusals=2)
    dbmod.sqlite_wal(_Connection(cursor))
    assert cursor.mode == "wal" and cursor.refusals == 0


def test_other_errors_of_the_switch_are_not_retried() -> None:
    class Broken(_Cursor):
        def execute(self, sql: str) -> None:
            if sql == "PRAGMA journal_mode=WAL":
                raise sqlite3.OperationalError("disk I/O error")
            super().execute(sql)

    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        dbmod.sqlite_wal(_Connection(Broken(refusals=0)))
