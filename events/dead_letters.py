"""Events that could not be delivered, parked rather than dropped. A parked event is one JSON
line: the consumer it failed for (null when it reached no consumer), the attempts, the last
error, and the event in its wire form; `python -m events.replay` takes such lines back."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Protocol

from events import DomainEvent, wire

logger = logging.getLogger("conduit.events.dead_letter")


@dataclass(frozen=True)
class DeadLetter:
    event: DomainEvent
    consumer: str | None  # None: not delivered to any consumer (publishing failed)
    attempts: int
    error: str


class DeadLetters(Protocol):
    async def park(self, letter: DeadLetter) -> None: ...


class LoggedDeadLetters:
    """The default sink: the log, one ERROR line per parked event whose message is the JSON
    line itself, so the lines of this logger are the input of the replay command."""

    async def park(self, letter: DeadLetter) -> None:
        logger.error("%s", to_line(letter))


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def to_line(letter: DeadLetter) -> str:
    return json.dumps(
        {
            "consumer": letter.consumer,
            "attempts": letter.attempts,
            "error": letter.error,
            "event": wire.to_envelope(letter.event),
        }
    )


def from_line(line: str) -> DeadLetter:
    """Raise MalformedEvent unless `line` is what `to_line` writes."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as bad:
        raise wire.MalformedEvent(f"not JSON: {bad}") from None
    if not isinstance(record, dict):
        raise wire.MalformedEvent("a dead letter is a JSON object")
    consumer, attempts, error = record.get("consumer"), record.get("attempts"), record.get("error")
    if not (consumer is None or isinstance(consumer, str)):
        raise wire.MalformedEvent(f"consumer is not a name: {consumer!r}")
    if not isinstance(attempts, int) or not isinstance(error, str):
        raise wire.MalformedEvent("a dead letter names its attempts and error")
    return DeadLetter(wire.from_envelope(record.get("event")), consumer, attempts, error)
