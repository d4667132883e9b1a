"""Events as JSON, in the shape of an EventBridge envelope (`detail-type`, `source`, `detail`),
so that what the EventBridge bus sends, what SQS delivers and what a dead letter holds are read
by the same code. `detail` carries every field, `event_id` and `occurred_at` included, because
EventBridge gives the envelope an `id` and `time` of its own."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, get_type_hints

from events import EVENT_TYPES, DomainEvent
from models.clock import isoformat_ms

SOURCE_PREFIX = "conduit."
_BY_DETAIL_TYPE = {t.__name__: t for t in EVENT_TYPES}


class MalformedEvent(ValueError):
    """The JSON is not an event this code knows: it cannot be handled, only parked."""


def detail_type(event_type: type[DomainEvent]) -> str:
    return event_type.__name__


def source(event_type: type[DomainEvent]) -> str:
    """`conduit.<domain>`: the domain that publishes the event."""
    return SOURCE_PREFIX + event_type.publisher


def detail(event: DomainEvent) -> dict[str, Any]:
    return {f.name: _plain(getattr(event, f.name)) for f in fields(event)}


def detail_json(event: DomainEvent) -> str:
    return json.dumps(detail(event))


def to_envelope(event: DomainEvent) -> dict[str, Any]:
    kind = type(event)
    return {"detail-type": detail_type(kind), "source": source(kind), "detail": detail(event)}


def to_json(event: DomainEvent) -> str:
    return json.dumps(to_envelope(event))


def from_json(text: str) -> DomainEvent:
    try:
        envelope = json.loads(text)
    except json.JSONDecodeError as error:
        raise MalformedEvent(f"not JSON: {error}") from None
    return from_envelope(envelope)


def from_envelope(envelope: object) -> DomainEvent:
    if not isinstance(envelope, dict):
        raise MalformedEvent("an event is a JSON object")
    name = envelope.get("detail-type")
    kind = _BY_DETAIL_TYPE.get(name) if isinstance(name, str) else None
    if kind is None:
        raise MalformedEvent(f"unknown detail-type {name!r}")
    if envelope.get("source") != source(kind):
        raise MalformedEvent(
            f"{kind.__name__} comes from {source(kind)!r}, not {envelope.get('source')!r}"
        )
    payload = envelope.get("detail")
    if not isinstance(payload, dict):
        raise MalformedEvent(f"{kind.__name__}: detail is not a JSON object")
    hints = get_type_hints(kind)
    names = {f.name for f in fields(kind)}
    if set(payload) != names:
        raise MalformedEvent(
            f"{kind.__name__} has the fields {sorted(names)}, not {sorted(payload)}"
        )
    values: dict[str, Any] = {n: _typed(kind, n, hints[n], payload[n]) for n in names}
    return kind(**values)


def _plain(value: object) -> object:
    return isoformat_ms(value) if isinstance(value, datetime) else value


def _typed(kind: type[DomainEvent], name: str, expected: type, value: object) -> object:
    if expected is datetime:
        moment = _moment(value)
        if moment is not None:
            return moment
    # bool is an int to Python, never an id to us.
    elif isinstance(value, expected) and not isinstance(value, bool):
        return value
    raise MalformedEvent(f"{kind.__name__}.{name} is not a {expected.__name__}: {value!r}")


def _moment(value: object) -> datetime | None:
    """An ISO 8601 instant with its offset (a local time would be ambiguous)."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return None if moment.tzinfo is None else moment.astimezone(UTC)
