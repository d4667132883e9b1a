"""Hot reads at close to their SQL's cost. Each read's statement is built once per shape (which
filters it has, never their values) and compiled once per dialect. On PostgreSQL it is then
sent on the asyncpg connection of a pooled connection checked out for it alone (see
ReadConnections), as a prepared statement, its
parameters and results put through the same column types SQLAlchemy would apply: SQLAlchemy's
execution of a statement costs about 10x the statement itself in CPU (bench/statement_cost.py).
Elsewhere (SQLite) SQLAlchemy executes it as usual.

A shape with a list of values takes them as one parameter: `= ANY($n)` on PostgreSQL, an
expanding IN elsewhere (see `among`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import BigInteger, ColumnElement, Dialect, Select, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import Pool, PoolProxiedConnection
from sqlalchemy.types import TypeEngine
from sqlalchemy.util.concurrency import greenlet_spawn

from stores.round_trips import record_round_trip, statement_sent
from stores.sql import spans
from telemetry import tracing

Row = Mapping[str, Any]


def among(
    column: ColumnElement[Any],
    name: str,
    dialect_name: str,
    item_type: type[TypeEngine[Any]] = BigInteger,
) -> ColumnElement[bool]:
    """`column` is one of the values (integers, unless `item_type` says otherwise) passed as
    the list parameter `name`."""
    if dialect_name == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(item_type)))
    return column.in_(bindparam(name, expanding=True))


@dataclass(frozen=True)
class _Compiled:
    sql: str
    compiled: Any
    positions: tuple[str, ...]
    bind: Mapping[str, Callable[[Any], Any] | None]
    keys: tuple[str, ...]
    results: tuple[Callable[[Any], Any] | None, ...]

    def arguments(self, params: Mapping[str, Any]) -> list[Any]:
        values = self.compiled.construct_params(params)
        return [
            value if (process := self.bind[name]) is None else process(value)
            for name, value in ((n, values[n]) for n in self.positions)
        ]

    def rows(self, records: Sequence[Any]) -> Sequence[Row]:
        """asyncpg's records are mappings by column name already: only a column whose type
        converts its values (an aware datetime, say) needs a copy of its rows."""
        if not any(self.results):
            return records
        return [
            {
                key: value if process is None else process(value)
                for key, value, process in zip(self.keys, record, self.results, strict=True)
            }
            for record in records
        ]


class Reads:
    """The statements of one read, one per shape, each built by `build(dialect_name, shape)`
    the first time it is asked for."""

    def __init__(self, build: Callable[[str, Any], Select[Any]]) -> None:
        self._build = build
        self._statements: dict[tuple[str, Hashable], Select[Any]] = {}
        self._compiled: dict[tuple[str, Hashable], _Compiled] = {}

    async def fetch(
        self, conn: AsyncConnection, shape: Hashable, params: Mapping[str, Any]
    ) -> Sequence[Row]:
        """Every row of the read of `shape` with `params`, as mappings by column key."""
        dialect = conn.dialect
        if dialect.name != "postgresql":
            statement = self._statement(dialect.name, shape)
            return [dict(m) for m in (await conn.execute(statement, params)).mappings()]
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None  # a checked-out connection has its driver's
        database = conn.engine.url.database
        return await self.fetch_on(driver, dialect, database, spans.domain_of(conn), shape, params)

    async def fetch_on(
        self,
        driver: asyncpg.Connection,
        dialect: Dialect,
        database: str | None,
        domain: str,
        shape: Hashable,
        params: Mapping[str, Any],
    ) -> Sequence[Row]:
        """The same on PostgreSQL, on an asyncpg connection of `database` (serving `domain`,
        which its span names when tracing is on)."""
        key = (dialect.name, shape)
        compiled = self._compiled.get(key)
        if compiled is None:
            statement = self._statement(dialect.name, shape)
            compiled = self._compiled[key] = _compile(statement, dialect)
        arguments = compiled.arguments(params)
        record_round_trip()
        statement_sent(database, compiled.sql, tuple(arguments))
        tracer = tracing.current()
        if tracer is None:
            return compiled.rows(await driver.fetch(compiled.sql, *arguments))
        # Past SQLAlchemy, so past its cursor events: this read's span is made here.
        with tracing.store_call(tracer, "SELECT", domain, dialect.name):
            return compiled.rows(await driver.fetch(compiled.sql, *arguments))

    def _statement(self, dialect_name: str, shape: Hashable) -> Select[Any]:
        key = (dialect_name, shape)
        statement = self._statements.get(key)
        if statement is None:
            statement = self._statements[key] = self._build(dialect_name, shape)
        return statement


class ReadConnections:
    """The hot reads' own way to the pooled connections of one PostgreSQL engine: checked out
    of SQLAlchemy's pool itself (its checkout events and limits as ever), and given back to it,
    without an AsyncConnection around them. That wrapper cost about 100 us of CPU per read
    (a greenlet hop each way, the isolation level set and reset, and the task shielding each
    checkout and each return from a cancel, bench/statement_cost.py); here a read costs one
    hop and one shielded task. A read runs outside any transaction and leaves nothing behind
    on its connection; one stopped midway (cancelled by its deadline, or cut off) is discarded,
    as SQLAlchemy discards a connection cancelled mid-call, and the pool opens another."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.dialect = engine.dialect
        self.database = engine.url.database
        self.domain = spans.domain_of_engine(engine)
        self._pool = engine.sync_engine.pool

    async def fetch(
        self, reads: Reads, shape: Hashable, params: Mapping[str, Any]
    ) -> Sequence[Row]:
        pooled = await _checked_out(self._pool)
        try:
            driver = pooled.driver_connection
            assert driver is not None  # a checked-out connection has its driver's
            rows = await reads.fetch_on(
                driver, self.dialect, self.database, self.domain, shape, params
            )
        except asyncpg.PostgresError:
            pooled.close()  # the database refused the statement: the connection is sound
            raise
        except BaseException:
            pooled.invalidate()
            raise
        pooled.close()
        return rows


async def _checked_out(pool: Pool) -> PoolProxiedConnection:
    """A connection of `pool`, checked out to its end even if this task is cancelled meanwhile
    (and then given back before the cancel is raised): a checkout that opens a connection
    waits on the database."""
    task = asyncio.ensure_future(greenlet_spawn(pool.connect))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if not task.cancelled() and task.exception() is None:
            task.result().close()
        raise


def _compile(statement: Select[Any], dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    positions = tuple(compiled.positiontup or ())
    columns = list(statement.selected_columns)
    return _Compiled(
        sql=compiled.string,
        compiled=compiled,
        positions=positions,
        bind={n: compiled.binds[n].type.bind_processor(dialect) for n in positions},
        keys=tuple(str(c.key) for c in columns),
        results=tuple(c.type.result_processor(dialect, None) for c in columns),
    )
