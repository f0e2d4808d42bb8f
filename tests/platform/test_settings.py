import subprocess
import sys
from pathlib import Path

import pytest

from ridgeline.platform.settings import Settings, SettingsError


def test_defaults_use_sqlite_under_var() -> None:
    s = Settings.from_env({})
    assert s.data_dir == Path("var")
    assert s.resolved_database_url.startswith("sqlite+aiosqlite:///")
    assert s.resolved_database_url.endswith("var/ridgeline.db")
    assert s.redis_url is None and s.only is None


def test_environment_values_are_typed() -> None:
    s = Settings.from_env(
        {
            "RIDGELINE_PORT": "9001",
            "RIDGELINE_WORKERS": "3",
            "RIDGELINE_SEED_DEFAULTS": "0",
            "RIDGELINE_ONLY": "sim",
        }
    )
    assert (s.port, s.workers, s.seed_defaults, s.only) == (9001, 3, False, "sim")


def test_plain_postgres_url_gets_async_driver() -> None:
    s = Settings.from_env({"RIDGELINE_DATABASE_URL": "postgresql://u:p@db:5432/x"})
    assert s.resolved_database_url == "postgresql+asyncpg://u:p@db:5432/x"
    assert not s.is_sqlite


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"RIDGELINE_PORT": "abc"}, "RIDGELINE_PORT"),
        ({"RIDGELINE_PORT": "70000"}, "RIDGELINE_PORT must be 1..65535"),
        ({"RIDGELINE_WORKERS": "0"}, "RIDGELINE_WORKERS"),
        ({"RIDGELINE_DATABASE_URL": "mysql://x/y"}, "RIDGELINE_DATABASE_URL"),
        ({"RIDGELINE_LOG_LEVEL": "LOUD"}, "RIDGELINE_LOG_LEVEL"),
        ({"RIDGELINE_ONLY": "weather"}, "RIDGELINE_ONLY must be one of"),
        ({"RIDGELINE_REDIS_URL": "http://x"}, "RIDGELINE_REDIS_URL"),
        ({"RIDGELINE_SIGNING_KEY_FILE": "/nonexistent/key.pem"}, "RIDGELINE_SIGNING_KEY_FILE"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], needle: str) -> None:
    with pytest.raises(SettingsError, match=needle):
        Settings.from_env(env)


def test_cli_reports_a_bad_setting_clearly(tmp_path: Path) -> None:
    env = {"RIDGELINE_PORT": "not-a-port", "RIDGELINE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "ridgeline.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "configuration error" in proc.stderr and "RIDGELINE_PORT" in proc.stderr
    assert "Traceback" not in proc.stderr
