"""A consumer domain on AWS Lambda: its SQS queue (see events.subscriptions) triggers this
handler with batches of messages, and it runs the domain's handlers (resolvers.cascades) on
each. CONDUIT_CONSUMER names the domain ("comments", "likes"); its store comes from the same
CONDUIT_* variables as the API's, and it opens no other (nor needs a JWT secret: it handles
no token).

    handler: aws_lambda.consumer.handler

The answer is a partial batch response (the event source mapping needs
`function_response_types = ["ReportBatchItemFailures"]`): only the failed messages go back to
the queue, to be delivered again after their visibility timeout and, past the queue's
maxReceiveCount, to be moved to its dead-letter queue."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable, Mapping
from typing import Any

import logs
from config import ConfigError, Settings
from events import sqs
from events.handlers import Handlers
from events.subscriptions import CONSUMERS
from resolvers import cascades
from stores.factory import OpenStores

CONSUMER_VARIABLE = "CONDUIT_CONSUMER"
BatchResponse = dict[str, list[dict[str, str]]]
# Each consumer's handlers, built on its own domain's store alone.
HANDLERS_OF: dict[str, Callable[[OpenStores], Handlers]] = {
    "comments": lambda opened: cascades.comments_consumer(opened.comments()),
    "likes": lambda opened: cascades.likes_consumer(opened.likes()),
}


def consumer_from_env(env: Mapping[str, str]) -> str:
    name = env.get(CONSUMER_VARIABLE, "").strip()
    if name not in CONSUMERS:
        raise ConfigError(
            f"{CONSUMER_VARIABLE}={name!r}: name the consumer domain this function serves, "
            f"one of {', '.join(CONSUMERS)}"
        )
    return name


class ContainerConsumer:
    """One consumer's handlers and its domain's store for as long as the container lives. The
    store is prepared on creation as the API's are: in development SQL databases are migrated
    and DynamoDB tables created; in production they are only checked."""

    def __init__(self, settings: Settings, consumer: str) -> None:
        # Connections belong to the event loop they were opened on: every batch of this
        # container runs on this one.
        self._loop = asyncio.new_event_loop()
        self._stores = OpenStores({consumer: settings.domain_urls()[consumer]}, settings.db_pool)
        try:
            migrate = not settings.is_production
            self._loop.run_until_complete(self._stores.prepare(migrate=migrate))
        except BaseException:
            # functools.cache keeps no failure: the container's next batch tries again, and
            # until the store is ready every batch fails whole, back to the queue.
            self.close()
            raise
        self._handlers = HANDLERS_OF[consumer](self._stores)

    def __call__(self, event: Mapping[str, Any]) -> BatchResponse:
        return self._loop.run_until_complete(self._handle(event.get("Records", [])))

    async def _handle(self, records: list[Mapping[str, Any]]) -> BatchResponse:
        failed: list[dict[str, str]] = []
        for record in records:
            message_id = record["messageId"]
            if not await sqs.handle_message(message_id, record.get("body", ""), self._handlers):
                failed.append({"itemIdentifier": message_id})
        return {"batchItemFailures": failed}

    def close(self) -> None:
        """Close the stores and the loop: for processes that build many, such as the tests."""
        try:
            self._loop.run_until_complete(self._stores.close())
        finally:
            self._loop.close()


@functools.cache
def _container_consumer() -> ContainerConsumer:
    settings = Settings.from_env(signs_tokens=False)
    logs.configure(settings)
    return ContainerConsumer(settings, consumer_from_env(os.environ))


def handler(event: Mapping[str, Any], context: object) -> BatchResponse:
    return _container_consumer()(event)
