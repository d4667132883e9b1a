"""Taking a consumer domain's events from its SQS queue, which an EventBridge rule fills with
envelopes (`detail-type`, `source`, `detail`) as message bodies. A message whose handling fails
stays on the queue: it comes back once its visibility timeout passes, and past the queue's
redrive policy (maxReceiveCount) SQS moves it to the dead-letter queue. The SQS-triggered
Lambda is aws_lambda/consumer.py; `drain` is the same for tests and local runs."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from events import wire
from events.handlers import Handlers

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger("conduit.events")
# SQS's own limit per receive.
MAX_MESSAGES_PER_RECEIVE = 10


async def handle_message(message_id: str, body: str, handlers: Handlers) -> bool:
    """Run the handlers on the message's event; False (logged) if it must come back."""
    try:
        await handlers.deliver(wire.from_json(body))
    except Exception:
        logger.warning("message %s failed; it will be delivered again", message_id, exc_info=True)
        return False
    return True


@dataclass(frozen=True)
class Drained:
    handled: int
    failed: int


async def drain(
    client: SQSClient, queue_url: str, handlers: Handlers, *, visibility_timeout: int = 30
) -> Drained:
    """Receive and handle messages until the queue gives none; delete each handled one. A
    failed message is hidden for `visibility_timeout` seconds: with 0 it comes back at once,
    so draining ends only when the redrive policy has moved it to the dead-letter queue."""
    handled = failed = 0
    while True:
        # boto3 blocks: its calls wait in a worker thread, not on the event loop.
        received = await asyncio.to_thread(
            client.receive_message,
            QueueUrl=queue_url,
            MaxNumberOfMessages=MAX_MESSAGES_PER_RECEIVE,
            VisibilityTimeout=visibility_timeout,
            WaitTimeSeconds=0,
        )
        messages = received.get("Messages", [])
        if not messages:
            return Drained(handled, failed)
        for message in messages:
            if await handle_message(message["MessageId"], message["Body"], handlers):
                await asyncio.to_thread(
                    client.delete_message,
                    QueueUrl=queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                )
                handled += 1
            else:
                failed += 1
