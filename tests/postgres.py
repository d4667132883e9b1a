"""Throwaway PostgreSQL databases for tests: created with unique names, dropped afterwards.
The server is the machine's (127.0.0.1:5432, trust auth) unless CONDUIT_TEST_POSTGRES names
another admin URL."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import asyncpg

ADMIN_DSN = os.environ.get(
    "CONDUIT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def server_url(database: str) -> str:
    """The SQLAlchemy URL of `database` on the test server."""
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{database}"


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
