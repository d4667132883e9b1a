"""Pieces every SQL store shares: connections that report an unreachable database as
StoreUnavailable, the ping, and newest-first windows."""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Hashable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Column, Select, Table, bindparam, exc, func, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from models.errors import Invalid
from models.pages import Window
from stores.errors import StoreUnavailable
from stores.sql.reads import ReadConnections, Reads, Row, among

# SQLSTATEs that mean "the server cannot serve now" rather than "this statement is wrong":
# class 08 (connection exception), class 53 (insufficient resources, such as too many
# connections), and 57P01-57P03 (shutting down, crashed, starting up).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P01", "57P02", "57P03")
# string_data_right_truncation: a value longer than its column (PostgreSQL; SQLite keeps it).
_TOO_LONG_SQLSTATE = "22001"
T = TypeVar("T")


class SqlStore:
    """Every SQL store reaches its database only through `_connect`, `_read` and `_begin`, so
    that a database out of reach surfaces as StoreUnavailable from every method alike."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._read_connections = (
            ReadConnections(engine) if engine.dialect.name == "postgresql" else None
        )
        # Every read is one statement, consistent on its own: in autocommit it goes without the
        # BEGIN and ROLLBACK around it, two of the four trips a pooled read made to PostgreSQL.
        self._reads = engine.execution_options(isolation_level="AUTOCOMMIT")

    def _connect(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection for reads (one statement each)."""
        return _reporting_unavailable(_checked_out(self._reads.connect()))

    async def _read(
        self, reads: Reads, shape: Hashable, params: Mapping[str, Any]
    ) -> Sequence[Row]:
        """Every row of one hot read (stores/sql/reads.py): on PostgreSQL on a connection of
        the engine's pool checked out for it alone (see ReadConnections), elsewhere through
        SQLAlchemy's execution."""
        if self._read_connections is None:
            async with self._connect() as conn:
                return await reads.fetch(conn, shape, params)
        with _reporting():
            return await self._read_connections.fetch(reads, shape, params)

    def _begin(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A connection in a transaction that commits when the block ends, and rolls back
        when it raises."""
        return _reporting_unavailable(_in_transaction(self._engine.connect()))

    async def ping(self) -> None:
        async with self._connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def _pages(
        self,
        windows: WindowedPages,
        keys: Sequence[int],
        window: Window,
        record: Callable[[Row], T],
    ) -> dict[int, list[T]]:
        """The window of each key's rows (see `WindowedPages`), as records by key."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        shape, params = windows.read_of(wanted, window)
        found: dict[int, list[T]] = {}
        for m in await self._read(windows.reads, shape, params):
            found.setdefault(m[windows.partition.name], []).append(record(m))
        return found


def is_unavailable(error: Exception) -> bool:
    """Whether `error` says the database is out of reach (retry later) rather than that the
    statement or the data is wrong (a bug, or a domain error such as a unique violation)."""
    # Refused or failed connects, asyncpg's connect timeout (TimeoutError is an OSError), and
    # SQLAlchemy's pool timeout: no connection came free in time.
    if isinstance(error, OSError | exc.TimeoutError):
        return True
    # PEP 249 keeps OperationalError for failures outside the program's control (SQLite's
    # "database is locked" after its busy timeout, a file that cannot be opened); a connection
    # invalidated on the way is one that dropped mid-statement.
    if isinstance(error, exc.DBAPIError) and (
        error.connection_invalidated or isinstance(error, exc.OperationalError)
    ):
        return True
    sqlstate = _sqlstate(error)
    return sqlstate is not None and sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


def _sqlstate(error: Exception) -> str | None:
    """The driver's own error carries the SQLSTATE: wrapped by SQLAlchemy, or raw from a read
    sent past it (stores/sql/reads.py)."""
    driver_error = error.orig if isinstance(error, exc.DBAPIError) else error
    sqlstate = getattr(driver_error, "sqlstate", None)
    return sqlstate if isinstance(sqlstate, str) else None


@asynccontextmanager
async def _checked_out(connection: AsyncConnection) -> AsyncIterator[AsyncConnection]:
    """`connection` checked out of its pool and always given back, even by a task cancelled
    meanwhile (by a deadline, or by graphql-core stopping a failed field's siblings). Cancelled
    while SQLAlchemy's own context manager checked a connection out and set its isolation
    level, the connection was lost: the pool counted it in use until the garbage collector
    found it."""
    try:
        await _uncancelled(connection.start())
    except asyncio.CancelledError:
        if connection.sync_connection is not None:
            await _uncancelled(connection.close())
        raise
    try:
        yield connection
    finally:
        await _uncancelled(connection.close())


@asynccontextmanager
async def _in_transaction(connection: AsyncConnection) -> AsyncIterator[AsyncConnection]:
    async with _checked_out(connection), connection.begin():
        yield connection


async def _uncancelled(work: Awaitable[Any]) -> None:
    """Await `work` to its end in a task of its own, even if this task is cancelled meanwhile;
    the cancel is raised once the work has ended."""
    task = asyncio.ensure_future(work)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        raise


@asynccontextmanager
async def _reporting_unavailable(
    opening: AbstractAsyncContextManager[AsyncConnection],
) -> AsyncIterator[AsyncConnection]:
    with _reporting():
        async with opening as conn:
            yield conn


@contextmanager
def _reporting() -> Iterator[None]:
    """A database out of reach as StoreUnavailable, a value too long for its column as
    Invalid; any other error as it is."""
    try:
        yield
    except Exception as error:
        if _sqlstate(error) == _TOO_LONG_SQLSTATE:
            raise Invalid.too_long_to_store() from None
        if not is_unavailable(error):
            raise
        raise StoreUnavailable(_cause(error)) from error


def _cause(error: Exception) -> str:
    # A DBAPIError's own text repeats the statement and its parameters (a password hash, say);
    # the driver's error alone says what went wrong.
    reason = error.orig if isinstance(error, exc.DBAPIError) else error
    return f"{type(reason).__name__}: {reason}"


@dataclass(frozen=True)
class _WindowShape:
    one_key: bool
    after: bool
    limited: bool


class WindowedPages:
    """One hot read (stores/sql/reads.py) for the window of each key's rows of `table` (those
    whose `partition` column holds it), newest first: for one key a range of its index; for
    several, each one's rows ranked newest first (ROW_NUMBER over the key's partition), the
    window's ranks kept. The rows come by key, newest first within each."""

    def __init__(self, table: Table, partition: Column[Any]) -> None:
        self.table = table
        self.partition = partition
        self.reads = Reads(self._statement)

    def read_of(self, keys: Sequence[int], window: Window) -> tuple[_WindowShape, dict[str, Any]]:
        """The shape and parameters of the read of `window` for each of `keys`."""
        shape = _WindowShape(
            one_key=len(keys) == 1, after=window.after is not None, limited=window.limit is not None
        )
        params: dict[str, Any] = {"keys": list(keys), "key": keys[0], "offset": window.offset}
        if window.limit is not None:
            params["limit"] = window.limit
        return shape, params | cursor_of(window)

    def _statement(self, dialect: str, shape: _WindowShape) -> Select[Any]:
        table, partition = self.table, self.partition
        newest, ident = table.c.created_at, table.c.id
        if shape.one_key:
            # `=`, not `= ANY`: the index on (key, created_at, id) hands its rows newest first.
            stmt = select(table).where(partition == bindparam("key", type_=BigInteger))
            if shape.after:
                stmt = older_than_cursor(stmt, newest, ident)
            stmt = stmt.order_by(newest.desc(), ident.desc()).offset(bindparam("offset"))
            return stmt.limit(bindparam("limit")) if shape.limited else stmt
        rank = (
            func.row_number()
            .over(partition_by=partition, order_by=(newest.desc(), ident.desc()))
            .label("rank")
        )
        within = select(table, rank).where(among(partition, "keys", dialect))
        if shape.after:
            within = older_than_cursor(within, newest, ident)
        ranked = within.subquery()
        offset = bindparam("offset", type_=BigInteger)
        stmt = select(ranked).where(ranked.c.rank > offset)
        if shape.limited:
            stmt = stmt.where(ranked.c.rank <= offset + bindparam("limit", type_=BigInteger))
        return stmt.order_by(ranked.c[partition.name], ranked.c.rank)


def older_than_cursor(
    stmt: Select[Any], created_at: Column[Any], ident: Column[Any]
) -> Select[Any]:
    """`stmt` kept to the rows older than the position in the parameters `cursor_of` gives."""
    # Each side bound with its column's type, so the instant goes through UtcDateTime.
    older = tuple_(
        bindparam("after_at", type_=created_at.type), bindparam("after_id", type_=ident.type)
    )
    return stmt.where(tuple_(created_at, ident) < older)


def cursor_of(window: Window) -> dict[str, Any]:
    """The parameters of `older_than_cursor` for the window's `after`, if it has one."""
    if window.after is None:
        return {}
    return {"after_at": window.after.created_at, "after_id": window.after.id}
