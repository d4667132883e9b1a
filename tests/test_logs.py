"""Logs: plain text while developing, one JSON object per line in production, a request id on
every line written for a request, and never a secret."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.testclient import TestClient

import logs
from app import create_app
from config import MIN_PRODUCTION_SECRET_LENGTH, Environment, LogFormat, Settings
from stores.sql.articles import SqlArticleStore
from tests.conftest import TEST_BACKENDS, run_python, separate_sqlite_files

JWT_SECRET = "jwt-secret-" + "q" * MIN_PRODUCTION_SECRET_LENGTH
DB_PASSWORD = "db-password-7f3a9c"
USER_PASSWORD = "user-password-5e1b"
ACCESS_FIELDS = {"method", "path", "status", "duration_ms", "round_trips"}


def production(directory: Path, log_format: LogFormat = LogFormat.JSON) -> Settings:
    base = separate_sqlite_files(directory)
    return Settings(
        environment=Environment.PRODUCTION,
        database_url=base.database_url,
        domain_url_overrides=base.domain_url_overrides,
        jwt_secret=JWT_SECRET,
        log_format=log_format,
    )


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, list[logging.Logger]]]:
    """A stream, and the loggers to point at it (restored afterwards)."""
    stream = io.StringIO()
    touched: list[logging.Logger] = []
    yield stream, touched
    for logger in touched:
        logger.handlers = [h for h in logger.handlers if getattr(h, "stream", None) is not stream]


def attach(settings: Settings, captured: tuple[io.StringIO, list[logging.Logger]]) -> None:
    stream, touched = captured
    logger = logging.getLogger("conduit")
    logger.addHandler(logs.handler(settings, stream))
    touched.append(logger)


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_production_writes_one_json_object_per_line_with_access_fields(
    tmp_path: Path, captured: tuple[io.StringIO, list[logging.Logger]]
) -> None:
    settings = production(tmp_path)
    attach(settings, captured)
    with TestClient(create_app(settings)) as http:
        response = http.get("/api/articles", headers={"X-Request-ID": "trace-0001"})
    lines = json_lines(captured[0])
    assert {line["logger"] for line in lines} >= {"conduit", "conduit.access"}
    for line in lines:
        assert {"time", "level", "logger", "message", "request_id"} <= set(line)
        assert line["time"].endswith("Z")
    [access] = [line for line in lines if line["logger"] == "conduit.access"]
    assert access["request_id"] == "trace-0001" == response.headers["x-request-id"]
    assert {k: access[k] for k in ("method", "path", "status", "level")} == {
        "method": "GET",
        "path": "/api/articles",
        "status": 200,
        "level": "INFO",
    }
    assert access["round_trips"] == int(response.headers["x-store-round-trips"]) > 0
    assert isinstance(access["duration_ms"], float)
    assert access["message"].startswith("GET /api/articles 200 ")


def test_lines_written_while_serving_a_request_carry_its_id(
    tmp_path: Path,
    captured: tuple[io.StringIO, list[logging.Logger]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = production(tmp_path)
    attach(settings, captured)

    async def noisy(self: SqlArticleStore) -> list[str]:
        logging.getLogger("conduit.anywhere").warning("written without naming the request")
        return []

    monkeypatch.setattr(SqlArticleStore, "all_tags", noisy)
    with TestClient(create_app(settings)) as http:
        request_id = http.get("/api/tags").headers["x-request-id"]
    [line] = [x for x in json_lines(captured[0]) if x["logger"] == "conduit.anywhere"]
    assert line["request_id"] == request_id
    assert not ACCESS_FIELDS & set(line)


def test_development_writes_plain_text(
    tmp_path: Path, captured: tuple[io.StringIO, list[logging.Logger]]
) -> None:
    settings = separate_sqlite_files(tmp_path)
    assert settings.log_format is LogFormat.TEXT
    attach(settings, captured)
    with TestClient(create_app(settings)) as http:
        http.get("/api/tags")
    text = captured[0].getvalue()
    assert " INFO conduit.access GET /api/tags 200 " in text
    assert "trips=" in text
    assert not text.lstrip().startswith("{")


def test_control_characters_in_a_text_line_are_escaped_so_no_line_can_be_forged(
    tmp_path: Path, captured: tuple[io.StringIO, list[logging.Logger]]
) -> None:
    settings = separate_sqlite_files(tmp_path)
    attach(settings, captured)
    forged = "2026-01-01 00:00:00,000 INFO conduit.access GET /admin 200 1.0ms trips=0"
    with TestClient(create_app(settings)) as http:
        http.get(f"/api/articles%0A{forged}%0D%00%1B[2J%E2%80%A8")
    [line] = [x for x in captured[0].getvalue().splitlines() if "conduit.access" in x]
    assert line.split(" conduit.access ", 1)[1].startswith(
        f"GET /api/articles\\n{forged}\\r\\x00\\x1b[2J\\u2028 404 "
    )
    for raw in ("\r", "\x00", "\x1b", "\u2028"):
        assert raw not in captured[0].getvalue()


def test_a_traceback_in_a_text_line_keeps_its_lines(
    tmp_path: Path, captured: tuple[io.StringIO, list[logging.Logger]]
) -> None:
    settings = separate_sqlite_files(tmp_path)
    stream, touched = captured
    logger = logging.getLogger("conduit.test_logs")
    logger.addHandler(logs.handler(settings, stream))
    touched.append(logger)
    try:
        raise ValueError("first\nsecond")
    except ValueError:
        logger.exception("failed on %r", "a\nb")
    head, *traceback = stream.getvalue().splitlines()
    assert head.endswith("failed on 'a\\nb'")
    assert traceback[0] == "Traceback (most recent call last):"
    assert traceback[-2:] == ["ValueError: first", "second"]


@pytest.mark.parametrize("log_format", list(LogFormat))
def test_secrets_never_reach_the_log(
    tmp_path: Path,
    captured: tuple[io.StringIO, list[logging.Logger]],
    monkeypatch: pytest.MonkeyPatch,
    log_format: LogFormat,
) -> None:
    settings = production(tmp_path, log_format)
    attach(settings, captured)

    async def leaky(self: SqlArticleStore) -> list[str]:
        raise RuntimeError(f"signing with {JWT_SECRET} failed")

    monkeypatch.setattr(SqlArticleStore, "all_tags", leaky)
    user = {"username": "jake", "email": "jake@example.com", "password": USER_PASSWORD}
    with TestClient(create_app(settings), raise_server_exceptions=False) as http:
        token = http.post("/api/users", json={"user": user}).json()["user"]["token"]
        http.post("/api/users/login", json={"user": {"email": user["email"], "password": "wrong"}})
        http.get("/api/user", headers={"Authorization": f"Token {token}"})
        http.get("/api/user", headers={"Authorization": f"Token {token}x"})
        login = (
            "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) {token} }"
        )
        variables = {"e": user["email"], "p": USER_PASSWORD}
        signed_in = http.post("/graphql", json={"query": login, "variables": variables})
        assert signed_in.json()["data"]["login"]["token"]
        assert http.get("/api/tags").status_code == 500
        assert http.post("/graphql", json={"query": "{ tags }"}).json()["errors"]
    text = captured[0].getvalue()
    assert "Traceback" in text  # the failures were logged, with their tracebacks
    assert text.count(logs.REDACTED) == 2  # ...and the secret in them masked
    for secret in (JWT_SECRET, USER_PASSWORD, token, "wrong", "Authorization"):
        assert secret not in text


@pytest.mark.parametrize("log_format", list(LogFormat))
def test_database_passwords_are_masked_wherever_they_appear(log_format: LogFormat) -> None:
    url = f"postgresql+asyncpg://conduit:{DB_PASSWORD}@db.example/conduit"
    settings = Settings(
        database_url=url,
        domain_url_overrides={"likes": "postgresql+asyncpg://likes@db.example/likes"},
        jwt_secret=JWT_SECRET,
        log_format=log_format,
    )
    assert set(logs.secrets_of(settings)) == {JWT_SECRET, DB_PASSWORD}
    stream = io.StringIO()
    logger = logging.getLogger("conduit.test_logs")
    logger.addHandler(logs.handler(settings, stream))
    try:
        try:
            raise OSError(f"connection to {url} refused")
        except OSError:
            logger.exception("store %s is down", url)
    finally:
        logger.handlers.clear()
    text = stream.getvalue()
    assert DB_PASSWORD not in text
    assert text.count(f"conduit:{logs.REDACTED}@db.example") == 2  # message and traceback


def test_short_values_are_not_masked_inside_ordinary_words() -> None:
    record = logging.LogRecord("conduit", logging.INFO, __file__, 1, "pass the pw", None, None)
    assert logs.TextFormatter(["pw", "pass"]).format(record).endswith("pass the pw")


UVICORN_DEFAULT = "uvicorn.config.LOGGING_CONFIG"
# What `--log-config uvicorn-log-config.json` gives uvicorn (in the supervisor, too).
OURS = "json.load(open('uvicorn-log-config.json'))"


@pytest.mark.parametrize("uvicorn_config", [UVICORN_DEFAULT, OURS])
def test_a_process_started_for_production_writes_only_json_even_for_uvicorn(
    tmp_path: Path, uvicorn_config: str
) -> None:
    """Uvicorn configures its loggers before it imports the app; the app then takes them over
    (and switches uvicorn's access log off, as `conduit.access` replaces it)."""
    script = (
        "import json, logging, logging.config, uvicorn.config;"
        f"logging.config.dictConfig({uvicorn_config});"
        "import app;"
        "logging.getLogger('uvicorn.error').info('Started server process');"
        "logging.getLogger('uvicorn.access').info('GET / 200');"
        "logging.getLogger('conduit').debug('not at the default level')"
    )
    env = {
        "CONDUIT_ENV": "production",
        "CONDUIT_JWT_SECRET": JWT_SECRET,
        "CONDUIT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/conduit.db",
    }
    result = run_python("-c", script, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    [line] = [json.loads(x) for x in result.stderr.splitlines()]
    assert (line["logger"], line["message"]) == ("uvicorn.error", "Started server process")
    assert line["request_id"] is None


@contextmanager
def _broken_users_table(url: str) -> Iterator[None]:
    """A column the store writes renamed, then named back (the database is lent to later
    tests): meanwhile a registration fails inside the database, with every parameter of its
    INSERT (the password's hash among them) at hand to log."""

    async def rename(old: str, new: str) -> None:
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text(f"ALTER TABLE users RENAME COLUMN {old} TO {new}"))
        finally:
            await engine.dispose()

    asyncio.run(rename("bio", "biography"))
    try:
        yield
    finally:
        asyncio.run(rename("biography", "bio"))


@pytest.mark.parametrize("backend", [b for b in TEST_BACKENDS if b != "dynamodb"])
def test_a_database_error_while_registering_logs_no_parameter(
    settings: Settings, captured: tuple[io.StringIO, list[logging.Logger]]
) -> None:
    attach(settings, captured)
    user = {"username": "jake", "email": "jake.secret@example.com", "password": USER_PASSWORD}
    with (
        TestClient(create_app(settings), raise_server_exceptions=False) as http,
        _broken_users_table(settings.domain_urls()["users"]),
    ):
        # 503 on SQLite, which reports most failures as OperationalError, 500 on PostgreSQL.
        assert http.post("/api/users", json={"user": user}).status_code in (500, 503)
        mutation = "mutation($u: RegisterInput!) { register(input: $u) { token } }"
        variables = {"u": user}
        answer = http.post("/graphql", json={"query": mutation, "variables": variables})
        assert answer.json()["errors"]
    text_logged = captured[0].getvalue()
    assert "column named bio" in text_logged or 'column "bio"' in text_logged  # logged
    for secret in ("$argon2", USER_PASSWORD, user["email"]):
        assert secret not in text_logged
