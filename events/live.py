"""Live comments: the `Commented` and `CommentDeleted` events handed to the GraphQL subscribers
of their article as the relay publishes them, and `ArticleDeleted`, which ends them. In this
process only (the default), or through a Redis pub/sub channel (CONDUIT_LIVE_URL=redis://...)
or a PostgreSQL LISTEN/NOTIFY channel (postgresql://...) to the subscribers of every process
listening on it, this one included.

Delivery never waits on a subscriber: each has a bounded queue, and one that lets it fill
(a client reading slower than comments arrive, or not at all) is dropped, its subscription
ended with `Overflowed`. Live events are a notice, not a record: an event published while
the channel's server is out of reach, or while a subscriber reconnects, is not sent again; a
client that resubscribes reads the comments it may have missed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar, Protocol

from config import LiveSettings
from events import ArticleDeleted, CommentDeleted, Commented, DomainEvent, EventBus, wire

logger = logging.getLogger("conduit.events.live")

LiveEvent = Commented | CommentDeleted | ArticleDeleted
# Events one subscriber may have waiting: far more than a reader keeping up ever has.
QUEUE_SIZE = 100
# A publish waits this long for Redis or PostgreSQL, then the event goes to no one: the write
# is done.
TIMEOUT_SECONDS = 1.0
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


class SharedChannel(ABC):
    """What the brokers whose processes meet on one channel of a server have in common: each
    process publishes every event there and listens to it (one connection, however many
    subscribers, opened again a second after it is lost), and keeps the events of the
    articles its own subscribers watch. A subclass connects to its server."""

    server: ClassVar[str]

    def __init__(self, channel: str, failures: tuple[type[Exception], ...]) -> None:
        self._channel = channel
        # What the server's client raises for a server out of reach or gone.
        self._failures: tuple[type[Exception], ...] = (*failures, OSError, TimeoutError)
        self._fanout = Fanout()
        self._listening: asyncio.Task[None] | None = None

    async def start(self) -> None:
        tried = asyncio.Event()
        self._listening = asyncio.create_task(self._listen(tried))
        # Until the first try listening has come out either way, or a server that does not
        # answer has had its time: the app starts anyway, and live events wait for the server.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(TIMEOUT_SECONDS * 5):
                await tried.wait()

    async def close(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
        await self._disconnect()

    async def publish(self, event: LiveEvent) -> None:
        try:
            async with asyncio.timeout(TIMEOUT_SECONDS):
                await self._send(wire.to_json(event))
        except self._failures as error:
            logger.warning(
                "live event %s %s reached no subscriber: %s: %s",
                type(event).__name__,
                event.event_id,
                self.server,
                error or type(error).__name__,
            )

    def subscribe(self, article_id: int) -> contextlib.AbstractContextManager[Subscriber]:
        return self._fanout.subscribe(article_id)

    @abstractmethod
    async def _send(self, text: str) -> None:
        """Publish one message on the channel."""

    @abstractmethod
    async def _listen_once(self, subscribed: asyncio.Event) -> None:
        """Listen on one connection until it is lost; `subscribed` is set once listening."""

    @abstractmethod
    async def _disconnect(self) -> None:
        """Close every connection."""

    async def _listen(self, tried: asyncio.Event) -> None:
        while True:
            try:
                await self._listen_once(tried)
                logger.warning("live events: %s closed the listening connection", self.server)
            except self._failures as error:
                logger.warning(
                    "live events: listening on %s failed, again soon: %s", self.server, error
                )
            tried.set()
            await asyncio.sleep(RECONNECT_SECONDS)

    def _deliver(self, data: str | bytes) -> None:
        try:
            event = wire.from_json(data if isinstance(data, str) else data.decode())
        except (wire.MalformedEvent, UnicodeDecodeError) as error:
            logger.warning("live events: ignored a message on the channel: %s", error)
            return
        if isinstance(event, LiveEvent):
            self._fanout.deliver(event)


class RedisBroker(SharedChannel):
    """On a Redis pub/sub channel."""

    server = "Redis"

    def __init__(self, url: str, channel: str) -> None:
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        super().__init__(channel, (RedisError,))
        self._redis: Redis = Redis.from_url(
            url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS
        )
        # The listening connection waits for messages for as long as there are none; named,
        # so that CLIENT LIST tells it apart.
        self._listener: Redis = Redis.from_url(
            url, socket_connect_timeout=TIMEOUT_SECONDS, client_name=f"live:{channel}"
        )

    async def _send(self, text: str) -> None:
        await self._redis.publish(self._channel, text)

    async def _listen_once(self, subscribed: asyncio.Event) -> None:
        async with self._listener.pubsub() as pubsub:
            await pubsub.subscribe(self._channel)
            subscribed.set()
            async for message in pubsub.listen():
                if message["type"] == "message":
                    self._deliver(message["data"])

    async def _disconnect(self) -> None:
        await self._redis.aclose()
        await self._listener.aclose()


class PostgresBroker(SharedChannel):
    """On a PostgreSQL channel: NOTIFY to publish, LISTEN on a connection of its own."""

    server = "PostgreSQL"

    def __init__(self, url: str, channel: str) -> None:
        import asyncpg

        super().__init__(channel, (asyncpg.PostgresError, asyncpg.InterfaceError))
        # asyncpg takes libpq's URL; the databases' SQLAlchemy spelling is accepted too.
        self._dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self._pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        import asyncpg

        # No connection yet: made at the first publish, so a server out of reach fails none.
        self._pool = await asyncpg.create_pool(self._dsn, min_size=0, max_size=2)
        await super().start()

    async def _send(self, text: str) -> None:
        assert self._pool is not None  # started
        await self._pool.execute("SELECT pg_notify($1, $2)", self._channel, text)

    async def _listen_once(self, subscribed: asyncio.Event) -> None:
        import asyncpg

        connection = await asyncpg.connect(self._dsn, timeout=TIMEOUT_SECONDS)
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        try:
            await connection.add_listener(self._channel, lambda *args: self._deliver(args[3]))
            subscribed.set()
            await lost.wait()
        finally:
            await connection.close(timeout=TIMEOUT_SECONDS)

    async def _disconnect(self) -> None:
        if self._pool is not None:
            await self._pool.close()


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
    """A server's client is imported only by a process that uses it."""
    if settings.url is None:
        return InProcessBroker()
    if settings.url.startswith("redis"):
        return RedisBroker(settings.url, settings.channel)
    return PostgresBroker(settings.url, settings.channel)
