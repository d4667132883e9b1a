"""Counts the round trips each request makes to its stores (a budget the tests hold fixed),
and tells whoever watches each SQL statement sent (the query-plan tests and the benchmark's
floor capture what the stores really send)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SentStatement:
    database: str | None
    sql: str
    parameters: tuple[Any, ...]


_watchers: list[Callable[[SentStatement], None]] = []


@dataclass
class RoundTrips:
    count: int = 0


_current: ContextVar[RoundTrips | None] = ContextVar("store_round_trips", default=None)


def start_counting() -> RoundTrips:
    counter = RoundTrips()
    _current.set(counter)
    return counter


def record_round_trip() -> None:
    """Called by a backend once per request it sends to its database."""
    counter = _current.get()
    if counter is not None:
        counter.count += 1


def statement_sent(database: str | None, sql: str, parameters: tuple[Any, ...]) -> None:
    """Called by the SQL stores for every statement, as they send it."""
    for watch in _watchers:
        watch(SentStatement(database, sql, parameters))


@contextmanager
def watching_statements() -> Iterator[list[SentStatement]]:
    """Every SQL statement any store sends while the block runs, in order."""
    sent: list[SentStatement] = []
    _watchers.append(sent.append)
    try:
        yield sent
    finally:
        _watchers.remove(sent.append)
