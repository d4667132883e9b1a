"""Counters in a DynamoDB table (`CONDUIT_RATE_LIMIT_URL=dynamodb://TABLE`), for Lambda, where
each container's memory counts alone. One item per key and window: an atomic ADD counts, a
condition starts a new window once the old one ended, and a TTL attribute lets DynamoDB
delete windows that ended (lazily: an item may outlive its window, so reads check the end)."""

from __future__ import annotations

import asyncio
import math
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from limits.aio.storage import Storage

from stores.dynamodb._common import DynamoTable, error_code, get_one, key, to_item, write_batches
from stores.dynamodb.tables import TableDesign
from stores.dynamodb.urls import table_name
from stores.errors import StoreUnavailable

WINDOW_SK = "WINDOW"
TTL_ATTRIBUTE = "expires_at"
# Short: a limiter that cannot count soon lets the request through (see Limiter).
_CLIENT_CONFIG = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 2})
_CALLS_IN_FLIGHT = 16
# Tries at counting when concurrent requests keep restarting the same ended window.
_WINDOW_ATTEMPTS = 3
_CONDITION_FAILED = "ConditionalCheckFailedException"


class DynamoCounterStorage(Storage):
    """A `limits` storage (the fixed-window strategy's incr, get, get_expiry, clear) on one
    DynamoDB table with the generic pk/sk keys; windows end at millisecond precision."""

    def __init__(self, table: DynamoTable) -> None:
        super().__init__(wrap_exceptions=True)
        self.table = table

    @property
    def base_exceptions(self) -> tuple[type[Exception], ...]:
        return (StoreUnavailable, ClientError)

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        for _ in range(_WINDOW_ATTEMPTS):
            now = _now_ms()
            end = now + expiry * 1000
            try:
                response = await self._call(
                    "update_item",
                    Key=to_item(_key(key)),
                    UpdateExpression=(
                        "ADD hits :n SET window_end = if_not_exists(window_end, :end), "
                        f"{TTL_ATTRIBUTE} = if_not_exists({TTL_ATTRIBUTE}, :ttl)"
                    ),
                    ConditionExpression="attribute_not_exists(window_end) OR window_end > :now",
                    ExpressionAttributeValues=to_item(
                        {":n": amount, ":end": end, ":ttl": _ttl(end), ":now": now}
                    ),
                    ReturnValues="UPDATED_NEW",
                )
                return int(response["Attributes"]["hits"]["N"])
            except ClientError as error:
                if error_code(error) != _CONDITION_FAILED:
                    raise
            # The window ended and its item waits for TTL: start the next window, unless a
            # concurrent request just did (then count in that one, on the next round).
            try:
                await self._call(
                    "put_item",
                    Item=to_item(
                        {**_key(key), "hits": amount, "window_end": end, TTL_ATTRIBUTE: _ttl(end)}
                    ),
                    ConditionExpression="window_end <= :now",
                    ExpressionAttributeValues=to_item({":now": now}),
                )
                return amount
            except ClientError as error:
                if error_code(error) != _CONDITION_FAILED:
                    raise
        raise StoreUnavailable(f"DynamoDB rate limit window {key!r}: contention persists")

    async def get(self, key: str) -> int:
        item = await self._live_window(key)
        return 0 if item is None else int(item["hits"])

    async def get_expiry(self, key: str) -> float:
        item = await self._live_window(key)
        return time.time() if item is None else int(item["window_end"]) / 1000

    async def check(self) -> bool:
        try:
            await self.table.ping()
        except StoreUnavailable:
            return False
        return True

    async def reset(self) -> int | None:
        keys: list[dict[str, str]] = []
        arguments: dict[str, Any] = {"ProjectionExpression": "pk, sk"}
        while True:
            page = await self._call("scan", **arguments)
            keys += [{"pk": i["pk"]["S"], "sk": i["sk"]["S"]} for i in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                break
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        await write_batches(self.table, deletes=keys)
        return len(keys)

    async def clear(self, key: str) -> None:
        await self._call("delete_item", Key=to_item(_key(key)))

    async def _live_window(self, key: str) -> dict[str, Any] | None:
        item = await get_one(self.table, _key(key))
        if item is None or int(item["window_end"]) <= _now_ms():
            return None
        return item

    async def _call(self, operation: str, **arguments: Any) -> dict[str, Any]:
        return await self.table.call(operation, TableName=self.table.name, **arguments)


class DynamoCounters:
    """The DynamoDB counter store: its own client (with short timeouts) and thread pool."""

    def __init__(self, url: str) -> None:
        client = boto3.session.Session().client("dynamodb", config=_CLIENT_CONFIG)
        self._executor = ThreadPoolExecutor(_CALLS_IN_FLIGHT, thread_name_prefix="ratelimits")
        self._table = DynamoTable(client, table_name("rate limit", url), self._executor)
        self.storage: Storage = DynamoCounterStorage(self._table)

    async def prepare(self, *, create: bool) -> None:
        """In development, create the table (with its TTL) when it is missing; in production
        it comes from infrastructure, and while it is missing requests go uncounted."""
        if not create or await self._table.describe() is not None:
            return
        created = True
        try:
            await self._table.call(
                "create_table", **TableDesign().create_table_arguments(self._table.name)
            )
        except ClientError as error:
            # Another process (a second worker starting alongside) is creating it.
            if error_code(error) != "ResourceInUseException":
                raise
            created = False
        waiter = self._table.client.get_waiter("table_exists")
        wait = partial(
            waiter.wait, TableName=self._table.name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        await asyncio.get_running_loop().run_in_executor(self._executor, wait)
        if created:
            await self._table.call(
                "update_time_to_live",
                TableName=self._table.name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
            )

    async def close(self) -> None:
        self._executor.shutdown(wait=False)


def _key(limit_key: str) -> dict[str, str]:
    return key(limit_key, WINDOW_SK)


def _now_ms() -> int:
    return round(time.time() * 1000)


def _ttl(window_end_ms: int) -> int:
    return math.ceil(window_end_ms / 1000)
