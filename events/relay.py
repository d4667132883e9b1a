"""The transactional outbox's relay. A write records the events it raises in its own domain's
outbox, in the write's own transaction (each store backend keeps the outbox beside its data),
so an event is recorded exactly when its write commits; the relay moves recorded events to the
bus and then forgets them. Delivery is at least once: a relay that stops between the two sends
the events again, and every handler is idempotent.

Every entry carries a claim: the writing request's from the moment it is recorded (it delivers
its own events right after the commit, so that its answer still follows their cascade), or a
relay pass's. A claim older than the lease is stale, and the next pass takes the entry again:
so go the events of a process that died, or of a request cut short, between commit and
delivery. A live claim is never taken, so two relays (several workers) do not send an entry
at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from events import DomainEvent, EventBus
from models import clock

logger = logging.getLogger("conduit.events.relay")

T_contra = TypeVar("T_contra", contravariant=True)
# The events a create records, made from what it created (they name its new id).
EventsOf = Callable[[T_contra], Sequence[DomainEvent]]

DEFAULT_LEASE = timedelta(seconds=30)
# Entries one claim takes at most: a pass claims again until the outbox has no stale entry.
CLAIM_LIMIT = 100


def no_events(_written: object) -> Sequence[DomainEvent]:
    return ()


class Outbox(Protocol):
    """A domain's recorded events, until sent: every store of a publishing domain is one."""

    async def claim_events(self, stale_before: datetime, limit: int) -> list[DomainEvent]:
        """Up to `limit` recorded events whose claim was made before `stale_before`, oldest
        first, each claimed anew (now) in the same step: a concurrent claim takes others."""

    async def forget_events(self, events: Sequence[DomainEvent]) -> None:
        """Remove the entries of `events` (they were sent); those gone already are skipped."""


class Relay:
    """Moves the events of the domains in `outboxes` to `bus`. A domain left out is relayed
    elsewhere (on AWS, a DynamoDB stream triggers aws_lambda.outbox)."""

    def __init__(
        self,
        outboxes: Mapping[str, Outbox],
        bus: EventBus,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        self._outboxes = outboxes
        self._bus = bus
        self.lease = lease

    @property
    def relays_any(self) -> bool:
        return bool(self._outboxes)

    async def deliver(self, events: Sequence[DomainEvent]) -> None:
        """Send events a request has just recorded (and so claimed), then forget them. The
        write has committed: a failure here fails nothing, it is logged and the entries stay,
        for a relay pass to send once the request's claim is stale."""
        try:
            await self.send(events)
        except Exception:
            logger.warning(
                "%d event(s) stay in the outbox for the relay", len(events), exc_info=True
            )

    async def send(self, events: Sequence[DomainEvent]) -> None:
        """Publish recorded events, then forget their entries; an error is raised, and what
        was not forgotten stays to be sent again. Events of a domain not relayed here are
        left alone."""
        for domain, recorded in _by_publisher(events).items():
            outbox = self._outboxes.get(domain)
            if outbox is not None:
                await self._send(outbox, recorded)

    async def relay_stale(self) -> int:
        """One pass: send every entry whose claim is stale, domain by domain; how many."""
        sent = 0
        for outbox in self._outboxes.values():
            while True:
                stale_before = clock.now() - self.lease
                claimed = await outbox.claim_events(stale_before, CLAIM_LIMIT)
                if claimed:
                    await self._send(outbox, claimed)
                    sent += len(claimed)
                if len(claimed) < CLAIM_LIMIT:
                    break
        return sent

    async def run(self, interval_seconds: float) -> None:
        """A pass every `interval_seconds`, the first one interval after the start, until
        cancelled; a failing pass (a database out of reach) is logged and the next one tries
        again."""
        while True:
            await asyncio.sleep(interval_seconds)
            try:
                sent = await self.relay_stale()
                if sent:
                    logger.info("relayed %d event(s) left in the outbox", sent)
            except Exception:
                logger.warning("an outbox relay pass failed", exc_info=True)

    async def _send(self, outbox: Outbox, events: Sequence[DomainEvent]) -> None:
        # The bus never raises for a consumer: what it cannot deliver it parks.
        for event in events:
            await self._bus.publish(event)
        await outbox.forget_events(events)


def _by_publisher(events: Sequence[DomainEvent]) -> dict[str, list[DomainEvent]]:
    grouped: dict[str, list[DomainEvent]] = {}
    for event in events:
        grouped.setdefault(event.publisher, []).append(event)
    return grouped
