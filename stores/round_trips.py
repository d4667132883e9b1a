"""Counts the round trips each request makes to its stores (a budget the tests hold fixed)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


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
