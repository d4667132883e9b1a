"""Live comments: the `Commented` and `CommentDeleted` events handed to the GraphQL subscribers
of their article as the relay publishes them. In this process only (the default), or through
a Redis pub/sub channel (CONDUIT_LIVE_URL=redis://...) to the subscribers of every process
listening on it, this one included.

Delivery never waits on a subscriber: each has a bounded queue, and one that lets it fill
(a client reading slower than comments arrive, or not at all) is dropped, its subscription
ended with `Overflowed`. Live events are a notice, not a record: an event published while
Redis is out of reach, or while a subscriber reconnects, is not sent again; a client that
resubscribes reads the comments it may have missed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

from config import LiveSettings
from events import CommentDeleted, Commented, DomainEvent, EventBus, wire

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger("conduit.events.live")

LiveEvent = Commented | CommentDeleted
# Events one subscriber may have waiting: far more than a reader keeping up ever has.
QUEUE_SIZE = 100
# A publish waits this long for Redis, then the event goes to no one: the write is done.
REDIS_TIMEOUT_SECONDS = 1.0
# Between attempts to listen again after the connection to Redis was lost.
RECONNECT_SECONDS = 1.0


class Overflowed(Exception):
    """The subscriber let QUEUE_SIZE events wait unread, and was dropped."""


class Subscriber:
    """The events of one article for one subscription, in the order they arrived."""

    def __init__(self, article_id: int, size: int = QUEUE_SIZE) -> None:
        self.article_id = article_id
        # None: the overflow mark, behind which nothing else is queued.
        self._queue: asyncio.Queue[LiveEvent | None] = asyncio.Queue(size + 1)
        self._size = size
        self._dropped = False

    def offer(self, event: LiveEvent) -> None:
        if self._dropped:
            return
        if self._queue.qsize() < self._size:
            self._queue.put_nowait(event)
            return
        self._dropped = True
        self._queue.put_nowait(None)

    async def next(self) -> LiveEvent:
        event = await self._queue.get()
        if event is None:
            raise Overflowed(f"more than {self._size} events waited unread")
        return event


class Fanout:
    """This process's subscribers, by article."""

    def __init__(self) -> None:
        self._by_article: dict[int, set[Subscriber]] = {}

    def deliver(self, event: LiveEvent) -> None:
        for subscriber in tuple(self._by_article.get(event.article_id, ())):
            subscriber.offer(event)

    @contextmanager
    def subscribe(self, article_id: int) -> Iterator[Subscriber]:
        subscriber = Subscriber(article_id)
        self._by_article.setdefault(article_id, set()).add(subscriber)
        try:
            yield subscriber
        finally:
            subscribers = self._by_article[article_id]
            subscribers.discard(subscriber)
            if not subscribers:
                del self._by_article[article_id]


class LiveBroker(Protocol):
    async def start(self) -> None:
        """Ready to deliver once this returns (the app's start waits for it)."""

    async def close(self) -> None: ...

    async def publish(self, event: LiveEvent) -> None:
        """Hand the event on; never raises, and never waits on a subscriber."""

    def subscribe(self, article_id: int) -> contextlib.AbstractContextManager[Subscriber]:
        """The article's events from now on, until the block exits."""


class InProcessBroker:
    def __init__(self) -> None:
        self._fanout = Fanout()

    async def start(self) -> None:
        return

    async def close(self) -> None:
        return

    async def publish(self, event: LiveEvent) -> None:
        self._fanout.deliver(event)

    def subscribe(self, article_id: int) -> contextlib.AbstractContextManager[Subscriber]:
        return self._fanout.subscribe(article_id)


class RedisBroker:
    """Every process publishes to one channel and listens to it: one Redis connection to
    listen and a pool to publish, however many subscribers; each process keeps the events of
    the articles its own subscribers watch."""

    def __init__(self, url: str, channel: str) -> None:
        from redis.asyncio import Redis

        self._redis: Redis = Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        # The listening connection waits for messages for as long as there are none.
        self._listener: Redis = Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
        self._channel = channel
        self._fanout = Fanout()
        self._listening: asyncio.Task[None] | None = None

    async def start(self) -> None:
        subscribed = asyncio.Event()
        self._listening = asyncio.create_task(self._listen(subscribed))
        # Not past a Redis that does not answer: the app starts, live events wait for it.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(REDIS_TIMEOUT_SECONDS * 5):
                await subscribed.wait()

    async def close(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
        await self._redis.aclose()
        await self._listener.aclose()

    async def publish(self, event: LiveEvent) -> None:
        from redis.exceptions import RedisError

        try:
            await self._redis.publish(self._channel, wire.to_json(event))
        except (RedisError, OSError) as error:
            logger.warning(
                "live event %s %s reached no subscriber: Redis: %s",
                type(event).__name__,
                event.event_id,
                error,
            )

    def subscribe(self, article_id: int) -> contextlib.AbstractContextManager[Subscriber]:
        return self._fanout.subscribe(article_id)

    async def _listen(self, subscribed: asyncio.Event) -> None:
        from redis.exceptions import RedisError

        while True:
            try:
                async with self._listener.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    subscribed.set()
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._deliver(message["data"])
            except (RedisError, OSError) as error:
                logger.warning("live events: listening on Redis failed, again soon: %s", error)
            await asyncio.sleep(RECONNECT_SECONDS)

    def _deliver(self, data: bytes) -> None:
        try:
            event = wire.from_json(data.decode())
        except (wire.MalformedEvent, UnicodeDecodeError) as error:
            logger.warning("live events: ignored a message on the channel: %s", error)
            return
        if isinstance(event, LiveEvent):
            self._fanout.deliver(event)


class LiveBus:
    """`bus`, and then the live events to `broker`: whether an event came from the request
    that wrote it or from a relay pass, its subscribers hear of it."""

    def __init__(self, bus: EventBus, broker: LiveBroker) -> None:
        self._bus = bus
        self._broker = broker

    async def publish(self, event: DomainEvent) -> None:
        await self._bus.publish(event)
        if isinstance(event, LiveEvent):
            await self._broker.publish(event)


def open_broker(settings: LiveSettings) -> LiveBroker:
    """Redis is imported only by a process that uses it."""
    if settings.url is None:
        return InProcessBroker()
    return RedisBroker(settings.url, settings.channel)
