"""The backends the store contract runs against. Adding a backend is one entry in `BACKENDS`:
a name and an async context manager that yields fresh, empty, prepared `Stores` (one database
per domain, as in production) and releases everything on exit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config import DOMAINS
from stores.factory import OpenStores
from stores.protocols import Stores

BackendFactory = Callable[[Path], AbstractAsyncContextManager[Stores]]


@asynccontextmanager
async def _opened(urls_by_domain: dict[str, str]) -> AsyncIterator[Stores]:
    open_stores = OpenStores(urls_by_domain)
    try:
        await open_stores.prepare()
        yield open_stores.stores
    finally:
        await open_stores.close()


def sqlite(directory: Path) -> AbstractAsyncContextManager[Stores]:
    """Four separate SQLite files, so a join across domains cannot pass unnoticed."""
    return _opened({d: f"sqlite+aiosqlite:///{directory / d}.db" for d in DOMAINS})


def sqlite_one_file(directory: Path) -> AbstractAsyncContextManager[Stores]:
    """Every domain in one SQLite file: the embedded default (`conduit.db`)."""
    return _opened(dict.fromkeys(DOMAINS, f"sqlite+aiosqlite:///{directory}/conduit.db"))


BACKENDS: dict[str, BackendFactory] = {
    "sqlite": sqlite,
    "sqlite-one-file": sqlite_one_file,
}

# A fixed instant to build explicit, ordered creation times from (millisecond precision, like
# `models.clock.now()`, so every backend keeps it exactly).
BASE_TIME = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)


def at(milliseconds: int) -> datetime:
    return BASE_TIME + timedelta(milliseconds=milliseconds)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=sorted(BACKENDS))
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    factory = BACKENDS[request.param]
    async with factory(tmp_path) as opened:
        yield opened
