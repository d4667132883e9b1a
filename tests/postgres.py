"""Throwaway PostgreSQL databases for tests: created with unique names, dropped afterwards.
The server is the machine's (127.0.0.1:5432, trust auth) unless CONDUIT_TEST_POSTGRES names
another admin URL."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import asyncpg

from config import DOMAINS
from stores.sql.backend import SqlBackend
from stores.sql.tables import METADATA_BY_DOMAIN

T = TypeVar("T")
ADMIN_DSN = os.environ.get("CONDUIT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def dsn(database: str) -> str:
    """The asyncpg DSN of `database` on the test server."""
    return f"{ADMIN_DSN.rsplit('/', 1)[0]}/{database}"


def server_url(database: str) -> str:
    """The SQLAlchemy URL of `database` on the test server."""
    return dsn(database).replace("postgresql://", "postgresql+asyncpg://", 1)


def is_available() -> bool:
    async def probe() -> None:
        conn = await asyncpg.connect(ADMIN_DSN, timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


async def _admin(statements: Sequence[str]) -> None:
    conn = await asyncpg.connect(ADMIN_DSN, timeout=10)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def fresh_databases(count: int, prefix: str = "conduit_test") -> Iterator[list[str]]:
    """`count` new empty databases (their names), dropped on exit even if still in use."""
    run = uuid.uuid4().hex[:10]
    names = [f"{prefix}_{run}_{i}" for i in range(count)]
    asyncio.run(_admin([f'CREATE DATABASE "{n}"' for n in names]))
    try:
        yield names
    finally:
        asyncio.run(_admin([f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)' for n in names]))


@dataclass(frozen=True)
class DatabaseSet:
    """One database per domain, as in production, so that a join across domains fails."""

    names: Mapping[str, str]

    def urls(self) -> dict[str, str]:
        return {domain: server_url(name) for domain, name in self.names.items()}


class DatabaseSets:
    """Database sets lent out again and again: each migrated once when first needed, emptied
    when given back, and all dropped by `close`. Creating a database takes a third of a second
    and emptying one over a fresh connection tens of milliseconds: too slow for every test. So
    the sets keep a connection to each database open, on an event loop of their own (callers
    may be inside another loop, or in none)."""

    def __init__(self) -> None:
        self._run = uuid.uuid4().hex[:10]
        self._made: list[DatabaseSet] = []
        self._idle: list[DatabaseSet] = []
        self._connections: dict[str, asyncpg.Connection] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def borrow(self) -> DatabaseSet:
        return self._idle.pop() if self._idle else self._call(self._make())

    def give_back(self, lent: DatabaseSet) -> None:
        self._call(self._empty(lent))
        self._idle.append(lent)

    def close(self) -> None:
        """Drop every database made, even one still in use."""
        self._call(self._drop_all())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def _call(self, work: Coroutine[object, object, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    async def _make(self) -> DatabaseSet:
        number = len(self._made)
        made = DatabaseSet({d: f"conduit_test_{self._run}_{number}_{d}" for d in DOMAINS})
        self._made.append(made)  # before creating: `close` then drops a half-made set too
        await _admin([f'CREATE DATABASE "{name}"' for name in made.names.values()])
        backend = SqlBackend(made.urls())
        try:
            await backend.prepare_schema(migrate=True)
        finally:
            await backend.close()
        for name in made.names.values():
            self._connections[name] = await asyncpg.connect(dsn(name), timeout=10)
            # A connection the test left open would make TRUNCATE wait forever: fail instead.
            await self._connections[name].execute("SET lock_timeout = '10s'")
        return made

    async def _empty(self, lent: DatabaseSet) -> None:
        await asyncio.gather(
            *(
                self._connections[name].execute(
                    f"TRUNCATE {', '.join(METADATA_BY_DOMAIN[domain].tables)} RESTART IDENTITY"
                )
                for domain, name in lent.names.items()
            )
        )

    async def _drop_all(self) -> None:
        for conn in self._connections.values():
            await conn.close()
        names = [name for made in self._made for name in made.names.values()]
        await _admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names])


async def wipe(database: str) -> None:
    """Make `database` empty again: no tables, no version tables."""
    conn = await asyncpg.connect(dsn(database), timeout=10)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()
