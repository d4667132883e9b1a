"""Engines for the SQL stores: one per distinct database URL, each counting its round trips.
A statement's parameters never appear in an error's message (hide_parameters): they hold
password hashes, emails and bodies, and the message reaches the log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Insert, Table, event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from config import PoolSize
from stores.round_trips import record_round_trip, statement_sent
from stores.sql import spans

# How long a SQLite writer waits for another writer before giving up (StoreUnavailable, a
# 503), in seconds: as long as PostgreSQL may take to hand out a connection, below.
SQLITE_BUSY_TIMEOUT = 5
# How long PostgreSQL may take to accept a new connection, and how long a request waits for a
# pooled one to come free, in seconds: a database that is down or overwhelmed then answers
# StoreUnavailable (503) within seconds instead of holding every request for minutes.
PG_CONNECT_TIMEOUT = 3
PG_POOL_TIMEOUT = 5
DEFAULT_POOL = PoolSize()


def create_engine(url: str, pool: PoolSize = DEFAULT_POOL) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT}, hide_parameters=True
        )
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
    else:
        engine = create_async_engine(
            url,
            pool_size=pool.size,
            max_overflow=pool.max_overflow,
            pool_timeout=PG_POOL_TIMEOUT,
            connect_args={"timeout": PG_CONNECT_TIMEOUT},
            hide_parameters=True,
        )
        # Connections pooled before a database restart are replaced on checkout, so the server
        # recovers by itself once the database is back. (Not pool_pre_ping: its ping costs three
        # round trips, BEGIN and ROLLBACK around it, before every use of a pooled connection.)
        event.listen(engine.sync_engine, "checkout", _replace_if_closed)
    event.listen(engine.sync_engine, "before_cursor_execute", _count)
    spans.trace_statements(engine)
    return engine


def insert_ignoring_duplicates(table: Table, dialect_name: str) -> Insert:
    """INSERT that silently skips a row whose key exists (idempotent writes)."""
    if dialect_name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


def _replace_if_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """The driver sees the database close a connection (a restart, an idle timeout) as it
    happens, so a closed one is found here without a round trip. One that breaks while in use
    fails its request (503), and the pool then replaces every connection older than that."""
    if dbapi_connection.driver_connection.is_closed():
        raise exc.DisconnectionError("the database closed this pooled connection")


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers go on while one writer writes; NORMAL sync is safe under WAL.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _count(
    conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
) -> None:
    record_round_trip()
    statement_sent(conn.engine.url.database, statement, tuple(parameters or ()))
