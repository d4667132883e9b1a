"""One consumer domain's handlers, by the event type each takes, and delivering an event to
them once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar, cast

from events import DomainEvent

E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[DomainEvent], Awaitable[None]]


class NoHandler(LookupError):
    """A consumer received an event it has no handler for: its subscription and its handlers
    disagree, which must fail loudly rather than drop the event."""


class Handlers:
    def __init__(self) -> None:
        self._by_type: dict[type[DomainEvent], list[Handler]] = {}

    def on(self, event_type: type[E], handler: Callable[[E], Awaitable[None]]) -> Handlers:
        # The cast is sound: `deliver` passes a handler only events of exactly `event_type`.
        self._by_type.setdefault(event_type, []).append(cast(Handler, handler))
        return self

    @property
    def event_types(self) -> frozenset[type[DomainEvent]]:
        return frozenset(self._by_type)

    async def deliver(self, event: DomainEvent) -> None:
        """Run every handler of the event once, in order; the first failure propagates, and
        delivering again reruns them all (handlers are idempotent)."""
        handlers: Sequence[Handler] = self._by_type.get(type(event), ())
        if not handlers:
            raise NoHandler(f"no handler for {type(event).__name__}")
        for handler in handlers:
            await handler(event)
