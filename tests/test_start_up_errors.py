"""Every start-up failure a user can cause is one line on stderr, `conduit: configuration
error: …`, naming the variable and the fix, with exit status 2: `python -m server` (how every
server is started) checks before uvicorn starts."""

from __future__ import annotations

import sqlite3
import uuid
from contextlib import closing
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from app import create_app
from config import ConfigError, Environment, Settings
from tests import postgres
from tests.conftest import TEST_BACKENDS, run_python
from tests.live import free_port

# A server process started for each case: left out of `dev.py test --fast`.
pytestmark = pytest.mark.slow

PREFIX = "conduit: configuration error: "
PRODUCTION = {"CONDUIT_ENV": "production", "CONDUIT_JWT_SECRET": "s" * 48}


def refusal(env: dict[str, str]) -> str:
    """The one line `python -m server` stops with in `env`."""
    result = run_python("-m", "server", "--port", str(free_port()), env=env)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(PREFIX), lines[0]
    return lines[0].removeprefix(PREFIX)


def test_a_database_url_that_is_not_one() -> None:
    line = refusal({"CONDUIT_DATABASE_URL": "not-a-url"})
    assert line.startswith("CONDUIT_DATABASE_URL: ")
    assert "not a database URL" in line
    assert "use sqlite+aiosqlite:///FILE, postgresql+asyncpg://HOST/DB or dynamodb://TABLE" in line


def test_a_postgresql_server_out_of_reach() -> None:
    port = free_port()  # nothing listens there
    line = refusal(
        {"CONDUIT_ARTICLES_URL": f"postgresql+asyncpg://conduit:hunter2@127.0.0.1:{port}/db"}
    )
    assert line.startswith(f"CONDUIT_ARTICLES_URL: cannot reach PostgreSQL at 127.0.0.1:{port}")
    assert "start the server, or correct the host and port in CONDUIT_ARTICLES_URL" in line
    assert "hunter2" not in line


@pytest.mark.skipif("postgresql" not in TEST_BACKENDS, reason="PostgreSQL not selected")
def test_a_postgresql_database_that_does_not_exist() -> None:
    name = f"conduit_missing_{uuid.uuid4().hex[:12]}"
    line = refusal({"CONDUIT_DATABASE_URL": postgres.server_url(name)})
    assert line.startswith("CONDUIT_DATABASE_URL: PostgreSQL at ")
    assert f"has no database {name!r}: create it (createdb " in line
    assert "or correct the database name in CONDUIT_DATABASE_URL" in line


def test_a_sqlite_file_in_a_folder_that_does_not_exist(tmp_path: Path) -> None:
    folder = tmp_path / "not" / "there"
    line = refusal({"CONDUIT_DATABASE_URL": f"sqlite+aiosqlite:///{folder}/conduit.db"})
    assert line == (
        f"CONDUIT_DATABASE_URL names a SQLite file in {folder}, a folder that does not exist: "
        f"create it (mkdir -p {folder}) or name a file in an existing folder"
    )
    assert not (tmp_path / "not").exists()


def test_production_on_a_sqlite_file_never_made_leaves_none_behind(tmp_path: Path) -> None:
    database = tmp_path / "conduit.db"
    line = refusal({**PRODUCTION, "CONDUIT_DATABASE_URL": f"sqlite+aiosqlite:///{database}"})
    assert line.startswith(f"CONDUIT_DATABASE_URL names the SQLite file {database}, which does")
    assert "create it with `python -m stores.sql.migrate upgrade`" in line
    assert list(tmp_path.iterdir()) == []


def test_production_on_an_unmigrated_database_names_the_command(tmp_path: Path) -> None:
    database = tmp_path / "conduit.db"
    database.touch()  # there, but nobody migrated it
    line = refusal({**PRODUCTION, "CONDUIT_DATABASE_URL": f"sqlite+aiosqlite:///{database}"})
    assert line.startswith("the users database is unmigrated")
    assert line.endswith(
        "apply the migrations with `python -m stores.sql.migrate upgrade` "
        "(same CONDUIT_* settings), then start again"
    )
    with closing(sqlite3.connect(database)) as checked:  # checked, not migrated
        assert checked.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_the_app_started_another_way_leaves_no_sqlite_file_in_production(tmp_path: Path) -> None:
    """`uvicorn app:app` or an embedding host: the app's own start-up checks the same."""
    database = tmp_path / "conduit.db"
    settings = Settings(
        environment=Environment.PRODUCTION,
        database_url=f"sqlite+aiosqlite:///{database}",
        jwt_secret="s" * 48,
    )
    with (
        pytest.raises(ConfigError, match="CONDUIT_DATABASE_URL names the SQLite file"),
        TestClient(create_app(settings)),
    ):
        pass
    assert list(tmp_path.iterdir()) == []
