"""The outbox relay on AWS Lambda. Every domain table has a stream of new item images; an event
source mapping per table, filtered to new OUTBOX items (stores/dynamodb/outbox.py), triggers
this handler with batches of them in the order they were written, and it publishes each
item's event to the EventBridge bus (CONDUIT_EVENT_BUS), then deletes the item. The stores come
from the same CONDUIT_* variables as the API's (it handles no token, so needs no secret).

    handler: aws_lambda.outbox.handler

The answer is a partial batch response (`function_response_types =
["ReportBatchItemFailures"]`): the sequence number of the first record that failed, from which
Lambda sends the batch again, so an event is published at least once; past the mapping's
retries the batch's description goes to its on-failure queue. An item that holds no event
this code can read is logged at ERROR and skipped: no retry could send it."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping
from typing import Any

import logs
from config import ConfigError, Settings
from events.eventbridge import EventBridgeBus
from events.relay import Relay
from events.wire import MalformedEvent
from stores.dynamodb.outbox import recorded_event
from stores.factory import OpenStores

logger = logging.getLogger("conduit.events.relay")
BatchResponse = dict[str, list[dict[str, str]]]


class ContainerRelay:
    """The stores and the bus for as long as the container lives; the stores are prepared on
    creation as the API's are (in production, only checked)."""

    def __init__(self, settings: Settings) -> None:
        if settings.event_bus is None:
            raise ConfigError("CONDUIT_EVENT_BUS must name the EventBridge bus to relay to")
        self._loop = asyncio.new_event_loop()
        self._stores = OpenStores(settings.domain_urls(), settings.db_pool)
        try:
            self._loop.run_until_complete(self._stores.prepare(migrate=not settings.is_production))
        except BaseException:
            self.close()
            raise
        bus = EventBridgeBus(settings.event_bus.bus_name)
        self._relay = Relay(self._stores.stores.outboxes(), bus)

    def __call__(self, event: Mapping[str, Any]) -> BatchResponse:
        return self._loop.run_until_complete(self._handle(event.get("Records", [])))

    async def _handle(self, records: list[Mapping[str, Any]]) -> BatchResponse:
        for record in records:
            sequence_number = str(record.get("dynamodb", {}).get("SequenceNumber", ""))
            try:
                event = recorded_event(record)
                if event is not None:
                    await self._relay.send([event])
            except MalformedEvent:
                logger.exception("stream record %s holds no event; skipped", sequence_number)
            except Exception:
                logger.warning(
                    "stream record %s failed; it will be sent again", sequence_number, exc_info=True
                )
                return {"batchItemFailures": [{"itemIdentifier": sequence_number}]}
        return {"batchItemFailures": []}

    def close(self) -> None:
        """Close the stores and the loop: for processes that build many, such as the tests."""
        try:
            self._loop.run_until_complete(self._stores.close())
        finally:
            self._loop.close()


@functools.cache
def _container_relay() -> ContainerRelay:
    settings = Settings.from_env(signs_tokens=False)
    logs.configure(settings)
    return ContainerRelay(settings)


def handler(event: Mapping[str, Any], context: object) -> BatchResponse:
    return _container_relay()(event)
