"""Engines for the SQL stores: one per distinct database URL, each counting its round trips."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from stores.round_trips import record_round_trip

# How long a SQLite writer waits for another writer before giving up, in seconds.
SQLITE_BUSY_TIMEOUT = 30


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
    else:
        engine = create_async_engine(url, pool_pre_ping=True)
    event.listen(engine.sync_engine, "before_cursor_execute", _count)
    return engine


def insert_ignoring_duplicates(table: Table, dialect_name: str) -> Insert:
    """INSERT that silently skips a row whose key exists (idempotent writes)."""
    if dialect_name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers go on while one writer writes; NORMAL sync is safe under WAL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _count(*_args: Any) -> None:
    record_round_trip()
