"""A span per SQL statement when tracing is on (telemetry/tracing.py): SQLAlchemy's cursor
events open and close it, the raw asyncpg reads (stores/sql/reads.py) open their own. Done
here rather than with opentelemetry-instrumentation-sqlalchemy and -asyncpg: those two would
trace the SQLAlchemy path twice (once per layer) and know nothing of the domain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from telemetry import tracing

# The execution option naming the domain an engine serves (SqlBackend sets it per domain:
# domains on one database share its pool but not their spans' attributes).
DOMAIN_OPTION = "conduit_domain"
_SPAN = "_conduit_span"


def for_domain(engine: AsyncEngine, domain: str) -> AsyncEngine:
    """`engine` (the same pool) with its statements' spans naming `domain`; `engine` itself
    while tracing is off: an engine with options of its own dispatches every statement's
    events through a joined listener list, some 200 more Python calls per page."""
    if tracing.current() is None:
        return engine
    return engine.execution_options(**{DOMAIN_OPTION: domain})


def domain_of(conn: AsyncConnection) -> str:
    return domain_of_engine(conn.engine)


def domain_of_engine(engine: AsyncEngine) -> str:
    return str(engine.get_execution_options().get(DOMAIN_OPTION, "-"))


def statement_kind(sql: str) -> str:
    """SELECT, INSERT, UPDATE, DELETE...: the statement's first word."""
    words = sql.lstrip().split(None, 1)
    return words[0].upper() if words else "-"


def trace_statements(engine: AsyncEngine) -> None:
    """Listen for the engine's statements if tracing is on as the engine is made."""
    if tracing.current() is None:
        return
    sync_engine = engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", _start)
    event.listen(sync_engine, "after_cursor_execute", _end)
    event.listen(sync_engine, "handle_error", _fail)


def _start(
    conn: Any, _cursor: Any, statement: str, _parameters: Any, context: Any, _many: bool
) -> None:
    tracer = tracing.current()
    if tracer is None or context is None:
        return
    from opentelemetry.trace import SpanKind  # loaded already, by whoever made the tracer

    domain = str(conn.get_execution_options().get(DOMAIN_OPTION, "-"))
    kind = statement_kind(statement)
    backend = conn.dialect.name
    attributes = tracing.store_attributes(kind, domain, backend)
    span = tracer.start_span(f"{backend} {kind}", kind=SpanKind.CLIENT, attributes=attributes)
    setattr(context, _SPAN, span)


def _end(
    _conn: Any, _cursor: Any, _statement: str, _parameters: Any, context: Any, _many: bool
) -> None:
    span = getattr(context, _SPAN, None)
    if span is not None:
        span.end()
        setattr(context, _SPAN, None)


def _fail(exception_context: Any) -> None:
    span = getattr(exception_context.execution_context, _SPAN, None)
    if span is not None:
        from opentelemetry.trace import Status, StatusCode

        error = exception_context.original_exception
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        span.end()
        setattr(exception_context.execution_context, _SPAN, None)
