"""The three counter stores, chosen by CONDUIT_RATE_LIMIT_URL: each a `limits` asyncio storage
with what it takes to make it ready and to let it go."""

from __future__ import annotations

from typing import Any, Protocol

from limits.aio.storage import MemoryStorage, RedisStorage, Storage

# A limiter waits this long for its store before it lets the request through uncounted.
COUNTER_TIMEOUT_SECONDS = 1.0


class CounterStore(Protocol):
    @property
    def storage(self) -> Storage: ...

    async def prepare(self, *, create: bool) -> None:
        """Make the store ready (in development, `create` what it needs)."""

    async def close(self) -> None: ...


class MemoryCounters:
    """Counters in this process: each worker (and each Lambda container) counts alone."""

    def __init__(self) -> None:
        self.storage: Storage = MemoryStorage(wrap_exceptions=True)

    async def prepare(self, *, create: bool) -> None:
        return

    async def close(self) -> None:
        return


class RedisCounters:
    """Counters in Redis, through redis-py's asyncio client: one budget for every worker and
    server that names the same Redis."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import ConnectionPool
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self._pool = ConnectionPool.from_url(
            url,
            socket_timeout=COUNTER_TIMEOUT_SECONDS,
            socket_connect_timeout=COUNTER_TIMEOUT_SECONDS,
        )
        # `limits` types its pass-through options as scalars; these go through untyped. No
        # retries (redis-py's client makes 3 by default, with backoff): a request waits at
        # most one timeout for a Redis that does not answer, then goes on uncounted.
        options: dict[str, Any] = {"connection_pool": self._pool, "retry": Retry(NoBackoff(), 0)}
        self.storage: Storage = RedisStorage(
            f"async+{url}", wrap_exceptions=True, implementation="redispy", **options
        )

    async def prepare(self, *, create: bool) -> None:
        return

    async def close(self) -> None:
        await self._pool.aclose()


def open_counter_store(url: str) -> CounterStore:
    """The store `url` names (checked by config: memory://, redis[s]://..., dynamodb://...).
    Redis and boto3 are imported only by a process that uses them."""
    if url.startswith("redis"):
        return RedisCounters(url)
    if url.startswith("dynamodb://"):
        from ratelimits.dynamodb import DynamoCounters

        return DynamoCounters(url)
    return MemoryCounters()
