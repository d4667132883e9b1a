"""The transactional outbox of a DynamoDB store (see events/relay.py): OUTBOX items in the
domain's own table, each put by the TransactWriteItems of the write that raised its event.
The table's stream (NEW_IMAGE) carries every new one to aws_lambda.outbox, which relays it on
AWS; a process with the in-process bus claims and sends them itself. Keys:

  OUTBOX / <occurred_at ms, 15 digits>#<event_id>   the event in its wire form (`event`) and
                                                    when it was claimed (`claimed_at`, ms)

One partition per table: the outbox holds only what has yet to be sent, and a Query reads it
oldest first."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from events import DomainEvent, wire
from models import clock
from stores.dynamodb._common import (
    DynamoTable,
    error_code,
    key,
    millis,
    put_action,
    query_all,
    to_item,
    transact,
    write_batches,
)

OUTBOX_PARTITION = "OUTBOX"


def entry_key(event: DomainEvent) -> dict[str, str]:
    return key(OUTBOX_PARTITION, f"{millis(event.occurred_at):015d}#{event.event_id}")


def entry_item(event: DomainEvent) -> dict[str, Any]:
    """The event's item, claimed by its writer (now)."""
    return {**entry_key(event), "event": wire.to_json(event), "claimed_at": millis(clock.now())}


def record_actions(table: DynamoTable, events: Sequence[DomainEvent]) -> list[dict[str, Any]]:
    """The TransactWriteItems actions that record `events` with the write they belong to."""
    return [put_action(table, entry_item(e)) for e in events]


def recorded_event(record: Mapping[str, Any]) -> DomainEvent | None:
    """The event a DynamoDB stream record (as Lambda receives it) shows recorded: None for a
    record of anything but a new outbox item. MalformedEvent if the item holds no event."""
    change = record.get("dynamodb", {})
    if record.get("eventName") != "INSERT" or change.get("Keys", {}).get("pk") != {
        "S": OUTBOX_PARTITION
    }:
        return None
    text = change.get("NewImage", {}).get("event", {}).get("S")
    if not isinstance(text, str):
        raise wire.MalformedEvent("an outbox item without its event")
    return wire.from_json(text)


class DynamoOutbox:
    """The outbox side of a DynamoDB store."""

    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    async def claim_events(self, stale_before: datetime, limit: int) -> list[DomainEvent]:
        """One Query of the stale items (the outbox holds only what is unsent), then each
        claimed by an UpdateItem conditioned on the claim read: of two relays claiming
        at once, one gets each item."""
        stale = await query_all(
            self._table,
            KeyConditionExpression="pk = :pk",
            FilterExpression="claimed_at < :stale",
            ExpressionAttributeValues=to_item(
                {":pk": OUTBOX_PARTITION, ":stale": millis(stale_before)}
            ),
            ConsistentRead=True,
        )
        now = millis(clock.now())
        claimed = await asyncio.gather(*(self._claim(item, now) for item in stale[:limit]))
        return [event for event in claimed if event is not None]

    async def record_alone(self, events: Sequence[DomainEvent]) -> None:
        """Record the events of a write that found nothing to change (its own transaction,
        conditioned on what it would change, was cancelled)."""
        if events and await transact(self._table, record_actions(self._table, events)):
            raise RuntimeError("DynamoDB cancelled recording events, which has no condition")

    async def forget_events(self, events: Sequence[DomainEvent]) -> None:
        keys = list({entry_key(e)["sk"]: entry_key(e) for e in events}.values())
        await write_batches(self._table, deletes=keys)

    async def _claim(self, item: Mapping[str, Any], now: int) -> DomainEvent | None:
        try:
            await self._table.call(
                "update_item",
                TableName=self._table.name,
                Key=to_item(key(item["pk"], item["sk"])),
                UpdateExpression="SET claimed_at = :now",
                ConditionExpression="claimed_at = :read",
                ExpressionAttributeValues=to_item({":now": now, ":read": item["claimed_at"]}),
            )
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return None  # claimed or sent by another relay meanwhile
            raise
        return wire.from_json(item["event"])
