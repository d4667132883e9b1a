"""The transactional outbox of a SQL store (see events/relay.py): its domain's `<domain>_outbox`
table, written in the transaction of each write that raises events, and claimed and emptied by
the relay. On PostgreSQL a claim skips the rows another claim has locked (FOR UPDATE SKIP
LOCKED), so workers relaying at once take different entries; SQLite has one writer at a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from events import DomainEvent, wire
from models import clock
from stores.sql._common import SqlStore


async def record(conn: AsyncConnection, outbox: Table, events: Sequence[DomainEvent]) -> None:
    """Record `events` in the transaction of `conn`, claimed by the writer (now)."""
    if not events:
        return
    now = clock.now()
    rows = [{"event_id": e.event_id, "event": wire.to_json(e), "claimed_at": now} for e in events]
    await conn.execute(insert(outbox), rows)


class SqlOutboxStore(SqlStore):
    """A SQL store of a domain that publishes events; `outbox` is its domain's table."""

    outbox: ClassVar[Table]

    async def claim_events(self, stale_before: datetime, limit: int) -> list[DomainEvent]:
        table = self.outbox
        stale = (
            select(table.c.event_id)
            .where(table.c.claimed_at < stale_before)
            .order_by(table.c.claimed_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        stmt = (
            update(table)
            .where(table.c.event_id.in_(stale))
            .values(claimed_at=clock.now())
            .returning(table.c.event)
        )
        async with self._begin() as conn:
            claimed = [wire.from_json(text) for text in (await conn.execute(stmt)).scalars()]
        return sorted(claimed, key=lambda e: e.occurred_at)

    async def forget_events(self, events: Sequence[DomainEvent]) -> None:
        if not events:
            return
        table = self.outbox
        async with self._begin() as conn:
            await conn.execute(
                delete(table).where(table.c.event_id.in_([e.event_id for e in events]))
            )
