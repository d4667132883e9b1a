"""The AWS bus: each event goes to an EventBridge bus, whose rules (one per consumer domain,
see events.subscriptions) route it to that consumer's SQS queue. Endpoint, region and
credentials come from the standard AWS settings (AWS_ENDPOINT_URL, AWS_DEFAULT_REGION, ...)."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import NoRegionError

from config import ConfigError
from events import DomainEvent, wire
from events.dead_letters import DeadLetter, DeadLetters, LoggedDeadLetters, describe
from events.retry import RetryPolicy

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

# Short timeouts: publishing happens while the request that wrote waits for its answer. One
# try per call: the bus's RetryPolicy does the retrying (refused entries included, which
# botocore would not retry), and a second layer of retries would multiply that wait.
_CLIENT_CONFIG = Config(
    connect_timeout=3, read_timeout=5, retries={"mode": "standard", "total_max_attempts": 1}
)


class PublishRefused(RuntimeError):
    """EventBridge answered but did not take the event (FailedEntryCount)."""


class EventBridgeBus:
    """An event EventBridge cannot take, even after retries, is parked (by default in the
    log); the write that raised it stands."""

    def __init__(
        self,
        bus_name: str,
        client: EventBridgeClient | None = None,
        retry: RetryPolicy | None = None,
        dead_letters: DeadLetters | None = None,
    ) -> None:
        self._bus_name = bus_name
        self._client = client if client is not None else _client()
        self._retry = retry or RetryPolicy()
        self._dead_letters = dead_letters or LoggedDeadLetters()

    async def publish(self, event: DomainEvent) -> None:
        entry: PutEventsRequestEntryTypeDef = {
            "EventBusName": self._bus_name,
            "Source": wire.source(type(event)),
            "DetailType": wire.detail_type(type(event)),
            "Detail": wire.detail_json(event),
            "Time": event.occurred_at,
        }
        try:
            await self._retry.run(
                partial(self._put, entry),
                f"publishing {type(event).__name__} {event.event_id} to {self._bus_name}",
            )
        except Exception as error:
            await self._dead_letters.park(
                DeadLetter(event, None, self._retry.attempts, describe(error))
            )

    async def _put(self, entry: PutEventsRequestEntryTypeDef) -> None:
        # boto3 blocks: the call waits in a worker thread, not on the event loop.
        response = await asyncio.to_thread(self._client.put_events, Entries=[entry])
        if response["FailedEntryCount"]:
            failed = response["Entries"][0]
            raise PublishRefused(
                f"{failed.get('ErrorCode', 'unknown error')}: {failed.get('ErrorMessage', '')}"
            )


def _client() -> EventBridgeClient:
    try:
        return boto3.session.Session().client("events", config=_CLIENT_CONFIG)
    except NoRegionError:
        raise ConfigError(
            "the EventBridge bus needs an AWS region: set AWS_DEFAULT_REGION"
        ) from None
