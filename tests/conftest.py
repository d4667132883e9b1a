"""Shared fixtures: an app on empty, migrated databases, one per domain as in production (so a
cross-domain join cannot pass unnoticed), and small clients for REST and GraphQL.

Every API test runs once per backend in CONDUIT_TEST_BACKENDS (default
"sqlite,postgresql,dynamodb"; the test ids name it). PostgreSQL databases come from the
machine's server (see tests/postgres.py): a run that needs it and cannot reach it fails, it
never skips silently. DynamoDB tables live in a moto server the run starts (tests/aws.py)."""

from __future__ import annotations

import asyncio
import atexit
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from app import create_app
from config import DOMAINS, RateLimits, Settings
from stores.sql.backend import SqlBackend
from tests import aws
from tests import postgres as postgres_server

PROJECT = Path(__file__).resolve().parents[1]
BACKENDS = ("sqlite", "postgresql", "dynamodb")
_names = count(1)


def _selected_backends() -> list[str]:
    raw = os.environ.get("CONDUIT_TEST_BACKENDS", ",".join(BACKENDS))
    chosen = [name.strip() for name in raw.split(",") if name.strip()]
    if not chosen or not set(chosen) <= set(BACKENDS):
        raise pytest.UsageError(
            f"CONDUIT_TEST_BACKENDS={raw!r}: use a comma-separated choice of {', '.join(BACKENDS)}"
        )
    return chosen


TEST_BACKENDS = _selected_backends()


def run_python(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """This interpreter, run with `args` in the project root, with the `CONDUIT_*` variables of
    `env` and no others (none of the caller's leak in)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CONDUIT_")}
    environment.update(env)
    return subprocess.run(  # noqa: S603 - our own interpreter; arguments from the tests
        [sys.executable, *args],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def settings_for(urls: Mapping[str, str], unused: str) -> Settings:
    """Settings that name a database for every domain; `unused` is CONDUIT_DATABASE_URL. Rate
    limits are off: a suite sends all its requests from one address (tests/test_rate_limits.py
    sets its own)."""
    return Settings(
        database_url=unused, domain_url_overrides=dict(urls), rate_limits=RateLimits.off()
    )


def sqlite_urls(directory: Path) -> dict[str, str]:
    return {d: f"sqlite+aiosqlite:///{directory / d}.db" for d in DOMAINS}


def separate_sqlite_files(directory: Path) -> Settings:
    """Four SQLite files in `directory`, one per domain, empty and at the latest migration."""
    directory.mkdir(parents=True, exist_ok=True)
    for domain in DOMAINS:
        shutil.copyfile(_migrated_sqlite_files() / f"{domain}.db", directory / f"{domain}.db")
    return settings_for(sqlite_urls(directory), f"sqlite+aiosqlite:///{directory}/unused.db")


@functools.cache
def _migrated_sqlite_files() -> Path:
    """Migrated once per run and copied for each app: migrating from nothing would cost more
    than most tests do."""
    directory = Path(tempfile.mkdtemp(prefix="conduit-schema-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)

    async def migrate() -> None:
        backend = SqlBackend(sqlite_urls(directory))
        try:
            await backend.prepare_schema(migrate=True)
        finally:
            await backend.close()  # the last connection out folds SQLite's WAL into the file

    asyncio.run(migrate())
    return directory


@dataclass
class Api:
    """A test client that speaks both REST and GraphQL to one running app."""

    http: TestClient
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, username: str | None) -> dict[str, str]:
        return {} if username is None else {"Authorization": f"Token {self.tokens[username]}"}

    def register(
        self,
        username: str | None = None,
        password: str = "password123",  # noqa: S107 - sample data, not a secret
    ) -> str:
        """Register a user through REST and remember their token; returns the username."""
        name = username or f"user{next(_names)}"
        response = self.http.post(
            "/api/users",
            json={"user": {"username": name, "email": f"{name}@example.com", "password": password}},
        )
        assert response.status_code == 201, response.text
        self.tokens[name] = response.json()["user"]["token"]
        return name

    def publish(self, author: str, title: str = "A title", tags: list[str] | None = None) -> str:
        """Publish an article through REST; returns its slug."""
        response = self.http.post(
            "/api/articles",
            json={
                "article": {
                    "title": title,
                    "description": "About it",
                    "body": "The body",
                    "tagList": tags or [],
                }
            },
            headers=self.auth(author),
        )
        assert response.status_code == 201, response.text
        slug: str = response.json()["article"]["slug"]
        return slug

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, as_user: str | None = None
    ) -> dict[str, Any]:
        """POST a GraphQL operation; returns the whole response body (data and errors)."""
        headers = {} if as_user is None else {"Authorization": f"Bearer {self.tokens[as_user]}"}
        response = self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


@pytest.fixture(scope="module", params=TEST_BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database the module's API tests run on: each test runs once per selected backend."""
    name: str = request.param
    return name


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A run that needs PostgreSQL and cannot reach it fails before it starts."""
    if any(_needs_postgres(item) for item in items) and not postgres_server.is_available():
        raise pytest.UsageError(
            f"PostgreSQL is unreachable at {postgres_server.ADMIN_DSN}: start it (or name another "
            "server in CONDUIT_TEST_POSTGRES), or set CONDUIT_TEST_BACKENDS=sqlite to test on "
            "SQLite only"
        )


def _needs_postgres(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    params = callspec.params.values() if callspec else ()
    uses = getattr(item, "fixturenames", ())
    return "postgres" in uses or any(str(p).startswith("postgresql") for p in params)


# The default database (CONDUIT_DATABASE_URL unset) and SQLite's files beside it.
DEFAULT_DATABASE_FILES = ("conduit.db", "conduit.db-journal", "conduit.db-wal", "conduit.db-shm")


def _default_database_files() -> dict[Path, tuple[int, int]]:
    """Size and modification time of each default database file in the checkout."""
    found: dict[Path, tuple[int, int]] = {}
    for directory in {PROJECT, Path.cwd()}:
        for name in DEFAULT_DATABASE_FILES:
            if (path := directory / name).exists():
                found[path] = (path.stat().st_size, path.stat().st_mtime_ns)
    return found


@pytest.fixture(scope="session", autouse=True)
def checkout_left_alone() -> Iterator[None]:
    """No test writes into the checkout: a run that creates or changes ./conduit.db (the
    default database, which a developer's `dev.py serve` may be using) fails at its end."""
    before = _default_database_files()
    yield
    after = _default_database_files()
    changed = sorted(str(p) for p in set(before) | set(after) if before.get(p) != after.get(p))
    assert not changed, f"the test run created or changed {', '.join(changed)}"


@pytest.fixture(scope="session")
def postgres() -> Iterator[postgres_server.DatabaseSets]:
    """The run's PostgreSQL databases, all dropped when it ends."""
    sets = postgres_server.DatabaseSets()
    yield sets
    sets.close()


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """A moto server for the run, which every AWS client of this process (and of the servers
    it starts) reaches through the standard AWS settings."""
    with aws.moto_server() as endpoint:
        settings = {**aws.FAKE_AWS, "AWS_ENDPOINT_URL": endpoint}
        saved = {name: os.environ.get(name) for name in settings}
        os.environ.update(settings)
        try:
            yield endpoint
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@contextmanager
def _databases(backend: str, directory: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    if backend == "sqlite":
        yield separate_sqlite_files(directory)
        return
    if backend == "dynamodb":
        request.getfixturevalue("aws_endpoint")
        yield settings_for(aws.fresh_table_urls(), f"sqlite+aiosqlite:///{directory}/unused.db")
        return
    sets: postgres_server.DatabaseSets = request.getfixturevalue("postgres")
    lent = sets.borrow()
    try:
        yield settings_for(lent.urls(), f"sqlite+aiosqlite:///{directory}/unused.db")
    finally:
        sets.give_back(lent)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Empty databases at the latest migration, for one test."""
    with _databases(backend, tmp_path, request) as settings:
        yield settings


@pytest.fixture(scope="module")
def module_settings(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Settings]:
    """Databases of the module's own, for a module-scoped app whose data several tests read."""
    with _databases(backend, tmp_path_factory.mktemp("module"), request) as settings:
        yield settings


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as http:
        yield Api(http)


@pytest.fixture
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with minimal cost, for API tests that register many users (the real cost is
    ~0.1 s per hash); hashes stay real Argon2id, so verification still works end to end."""
    from argon2 import PasswordHasher

    from auth import passwords

    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )
