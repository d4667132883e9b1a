"""The default bus: each subscribed consumer's handlers run in this process right after the
write, retried a few times; an event a consumer still cannot take is parked, never dropped.
Neither a failure nor the parking undoes the write, which has already happened."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial

from events import DomainEvent
from events.dead_letters import DeadLetter, DeadLetters, LoggedDeadLetters, describe
from events.handlers import Handlers
from events.retry import RetryPolicy
from events.subscriptions import consumers_of


class InProcessBus:
    def __init__(
        self,
        handlers: Mapping[str, Handlers],
        retry: RetryPolicy | None = None,
        dead_letters: DeadLetters | None = None,
    ) -> None:
        self._handlers = handlers
        self._retry = retry or RetryPolicy()
        self._dead_letters = dead_letters or LoggedDeadLetters()

    async def publish(self, event: DomainEvent) -> None:
        for consumer in consumers_of(type(event)):
            try:
                await self._retry.run(
                    partial(self._handlers[consumer].deliver, event),
                    f"{consumer} handling {type(event).__name__} {event.event_id}",
                )
            except Exception as error:
                await self._dead_letters.park(
                    DeadLetter(event, consumer, self._retry.attempts, describe(error))
                )
