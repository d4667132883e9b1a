"""Hot reads at close to their SQL's cost. Each read's statement is built once per shape (which
filters it has, never their values) and compiled once per dialect. On PostgreSQL it is then
sent on the pooled connection's own asyncpg connection, as a prepared statement, its
parameters and results put through the same column types SQLAlchemy would apply: SQLAlchemy's
execution of a statement costs about 10x the statement itself in CPU (bench/statement_cost.py).
Elsewhere (SQLite) SQLAlchemy executes it as usual.

A shape with a list of values takes them as one parameter: `= ANY($n)` on PostgreSQL, an
expanding IN elsewhere (see `among`)."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Dialect, Select, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

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
        key = (dialect.name, shape)
        statement = self._statements.get(key)
        if statement is None:
            statement = self._statements[key] = self._build(dialect.name, shape)
        if dialect.name != "postgresql":
            return [dict(m) for m in (await conn.execute(statement, params)).mappings()]
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _compile(statement, dialect)
        arguments = compiled.arguments(params)
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None  # a checked-out connection has its driver's
        record_round_trip()
        statement_sent(conn.engine.url.database, compiled.sql, tuple(arguments))
        tracer = tracing.current()
        if tracer is None:
            return compiled.rows(await driver.fetch(compiled.sql, *arguments))
        # Past SQLAlchemy, so past its cursor events: this read's span is made here.
        with tracing.store_call(tracer, "SELECT", spans.domain_of(conn), dialect.name):
            return compiled.rows(await driver.fetch(compiled.sql, *arguments))


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
