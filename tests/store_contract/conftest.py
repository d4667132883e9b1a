"""The backends the store contract runs against. Adding a backend is one entry in `BACKENDS`:
a name and an async context manager that yields fresh, empty `Stores` at the latest migration
(one database per domain, as in production) and releases everything on exit. A name runs when
its part before any "-" is in CONDUIT_TEST_BACKENDS (see tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config import DOMAINS
from stores.factory import OpenStores
from stores.protocols import Stores
from tests import aws
from tests.conftest import TEST_BACKENDS, sqlite_urls
from tests.postgres import DatabaseSets


@dataclass(frozen=True)
class Room:
    """What a backend may use: a directory of the test's own, and the run's PostgreSQL
    databases (None unless the backend runs on PostgreSQL)."""

    directory: Path
    postgres: DatabaseSets | None


BackendFactory = Callable[[Room], AbstractAsyncContextManager[Stores]]


@asynccontextmanager
async def _opened(urls_by_domain: dict[str, str]) -> AsyncIterator[Stores]:
    open_stores = OpenStores(urls_by_domain)
    try:
        await open_stores.prepare(migrate=True)
        yield open_stores.stores
    finally:
        await open_stores.close()


def sqlite(room: Room) -> AbstractAsyncContextManager[Stores]:
    """Four separate SQLite files, so a join across domains cannot pass unnoticed."""
    return _opened(sqlite_urls(room.directory))


def sqlite_one_file(room: Room) -> AbstractAsyncContextManager[Stores]:
    """Every domain in one SQLite file: the embedded default (`conduit.db`)."""
    return _opened(dict.fromkeys(DOMAINS, f"sqlite+aiosqlite:///{room.directory}/conduit.db"))


@asynccontextmanager
async def postgresql(room: Room) -> AsyncIterator[Stores]:
    """Four PostgreSQL databases, lent for the test and emptied afterwards."""
    assert room.postgres is not None
    lent = room.postgres.borrow()
    try:
        async with _opened(lent.urls()) as stores:
            yield stores
    finally:
        room.postgres.give_back(lent)


@asynccontextmanager
async def dynamodb(room: Room) -> AsyncIterator[Stores]:
    """Four DynamoDB tables in moto's in-process AWS, created from their design on open."""
    with aws.in_process_aws():
        async with _opened(aws.fresh_table_urls()) as stores:
            yield stores


BACKENDS: dict[str, BackendFactory] = {
    "sqlite": sqlite,
    "sqlite-one-file": sqlite_one_file,
    "postgresql": postgresql,
    "dynamodb": dynamodb,
}


def _server(name: str) -> str:
    return name.partition("-")[0]


# A fixed instant to build explicit, ordered creation times from (millisecond precision, like
# `models.clock.now()`, so every backend keeps it exactly).
BASE_TIME = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)


def at(milliseconds: int) -> datetime:
    return BASE_TIME + timedelta(milliseconds=milliseconds)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# The embedded default's layout, every domain in one SQLite file, runs in the full suite: the
# fast run (`dev.py test --fast`) has the same stores on four files.
_SLOW = {"sqlite-one-file"}


@pytest.fixture(
    params=[
        pytest.param(name, marks=[pytest.mark.slow] if name in _SLOW else [])
        for name in sorted(BACKENDS)
        if _server(name) in TEST_BACKENDS
    ]
)
def store_backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[BackendFactory, Room]:
    # Resolved here, outside the test's event loop: the `postgres` fixture runs its own.
    name: str = request.param
    postgres = request.getfixturevalue("postgres") if _server(name) == "postgresql" else None
    return BACKENDS[name], Room(tmp_path, postgres)


@pytest.fixture
async def stores(store_backend: tuple[BackendFactory, Room]) -> AsyncIterator[Stores]:
    factory, room = store_backend
    async with factory(room) as opened:
        yield opened
