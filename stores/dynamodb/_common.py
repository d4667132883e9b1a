"""Pieces every DynamoDB store shares: calls kept off the event loop, counted as round trips,
with an unreachable or overloaded service reported as StoreUnavailable; items to and from
plain Python values; ids handed out by an atomic counter."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError
from botocore.validate import validate_parameters

from models.errors import Invalid
from stores.errors import StoreUnavailable
from stores.round_trips import record_round_trip
from telemetry import tracing

# Error codes that mean "the service cannot serve now" rather than "this request is wrong".
# botocore has retried them already (standard mode) by the time they reach a store.
_UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "ResourceNotFoundException",  # the table is gone or not created yet
    }
)
# Error codes with which the service refuses a request that does not fit its operation.
_MALFORMED_CODES = frozenset({"ValidationException", "SerializationException"})
# BatchGetItem and BatchWriteItem take at most this many keys a call.
BATCH_GET_LIMIT = 100
BATCH_WRITE_LIMIT = 25
COUNTER_KEY = {"pk": "COUNTER", "sk": "COUNTER"}
# The item in an article's partition of the likes and of the comments table that counts its
# likes or comments: its sort key, and the attribute holding the count.
COUNT_SK = "COUNT"
COUNTED = "total"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class DynamoTable:
    """One domain's table, reached through a shared boto3 client. boto3 blocks, so every call
    runs on the backend's thread pool and the event loop keeps serving other requests."""

    def __init__(
        self, client: Any, table_name: str, executor: ThreadPoolExecutor, domain: str = "-"
    ) -> None:
        self.client = client
        self.name = table_name
        self.domain = domain  # what its calls' spans name (telemetry/tracing.py)
        self._executor = executor

    async def call(self, operation: str, **arguments: Any) -> dict[str, Any]:
        """Send one request (`operation` is a boto3 client method, such as "get_item") and
        return its response. A ClientError that is the caller's business (a failed
        condition, a cancelled transaction) is raised as it is."""
        tracer = tracing.current()
        if tracer is None:
            return await self._send(operation, arguments)
        # One span here rather than opentelemetry-instrumentation-botocore's: boto3 runs on the
        # thread pool, where the request's span is not current (run_in_executor does not copy
        # the context), so botocore's spans would start traces of their own.
        kind = "".join(word.capitalize() for word in operation.split("_"))
        with tracing.store_call(tracer, kind, self.domain, "dynamodb"):
            return await self._send(operation, arguments)

    async def _send(self, operation: str, arguments: dict[str, Any]) -> dict[str, Any]:
        method = getattr(self.client, operation)
        record_round_trip()
        loop = asyncio.get_running_loop()
        try:
            response: dict[str, Any] = await loop.run_in_executor(
                self._executor, partial(method, **arguments)
            )
        except ClientError as error:
            if error_code(error) in _MALFORMED_CODES:
                self._check_parameters(operation, arguments)
            if _is_unavailable(error):
                raise StoreUnavailable(f"DynamoDB {operation}: {error_code(error)}") from error
            if _is_too_large(error):
                raise Invalid.too_long_to_store() from None
            raise
        except BotoCoreError as error:
            # Connection refused or reset, timeouts, no endpoint: nothing the request did.
            raise StoreUnavailable(f"DynamoDB {operation}: {type(error).__name__}") from error
        except (KeyError, AttributeError, TypeError, ValueError):
            # What botocore's serialiser raises on arguments that do not fit the operation.
            self._check_parameters(operation, arguments)
            raise
        return response

    def _check_parameters(self, operation: str, arguments: Mapping[str, Any]) -> None:
        """Raise botocore's ParamValidationError, naming each parameter that does not fit the
        operation's model, if any does: the client skips that check on the way out (see
        stores/dynamodb/backend.py), so a request that failed is checked here."""
        api_name = self.client.meta.method_to_api_mapping[operation]
        model = self.client.meta.service_model.operation_model(api_name)
        validate_parameters(arguments, model.input_shape)

    async def allocate_ids(self, count: int) -> list[int]:
        """`count` fresh ids, in increasing order, from one atomic increment."""
        response = await self.call(
            "update_item",
            TableName=self.name,
            Key=to_item(COUNTER_KEY),
            UpdateExpression="ADD last_id :n",
            ExpressionAttributeValues={":n": {"N": str(count)}},
            ReturnValues="UPDATED_NEW",
        )
        last = int(response["Attributes"]["last_id"]["N"])
        return list(range(last - count + 1, last + 1))

    async def get_many(
        self,
        keys: Sequence[Mapping[str, str]],
        *,
        consistent: bool = True,
        attributes: Sequence[str] | None = None,
    ) -> list[dict[str, Any]]:
        """The items found for `keys` (in no particular order), BATCH_GET_LIMIT keys a call,
        asking again for whatever the service left unprocessed; only the named `attributes`
        of each item when given."""
        request: dict[str, Any] = {"ConsistentRead": consistent, **projection(attributes)}
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            pending: list[dict[str, Any]] = [
                to_item(k) for k in keys[start : start + BATCH_GET_LIMIT]
            ]
            while pending:
                response = await self.call(
                    "batch_get_item", RequestItems={self.name: {**request, "Keys": pending}}
                )
                found += [from_item(i) for i in response["Responses"].get(self.name, [])]
                pending = response.get("UnprocessedKeys", {}).get(self.name, {}).get("Keys", [])
        return found

    async def ping(self) -> None:
        await self.call("describe_table", TableName=self.name)

    async def describe(self) -> dict[str, Any] | None:
        """The table's description, or None when it does not exist."""
        try:
            response = await self.call("describe_table", TableName=self.name)
        except StoreUnavailable as error:
            cause = error.__cause__
            if isinstance(cause, ClientError) and error_code(cause) == "ResourceNotFoundException":
                return None
            raise
        table: dict[str, Any] = response["Table"]
        return table


def _is_unavailable(error: ClientError) -> bool:
    """A known code, or any failure on the service's side: an HTTP 5xx answer without an AWS
    error code (botocore then reports the status, "500", as the code) is one too."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return error_code(error) in _UNAVAILABLE_CODES or int(status) >= 500


def _is_too_large(error: ClientError) -> bool:
    """An item past 400 KB or a key past its 2048 (partition) or 1024 (sort) bytes."""
    message = str(error.response.get("Error", {}).get("Message", "")).lower()
    return error_code(error) == "ValidationException" and "size" in message and "exceed" in message


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def cancellation_reasons(error: ClientError) -> list[str]:
    """For a cancelled TransactWriteItems, the reason code of each of its actions, in order
    ("None" for an action that was fine, "ConditionalCheckFailed" for one whose condition
    failed)."""
    reasons = error.response.get("CancellationReasons", [])
    return [str(r.get("Code", "None")) for r in reasons]


def projection(attributes: Sequence[str] | None) -> dict[str, Any]:
    """The ProjectionExpression arguments reading only `attributes` (all of them, for None),
    through placeholders, so that no name can clash with a DynamoDB reserved word."""
    if attributes is None:
        return {}
    names = {f"#a{i}": name for i, name in enumerate(attributes)}
    return {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values as a DynamoDB item; None-valued attributes are left out."""
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB item as plain values, numbers as int."""
    plain = {k: _deserializer.deserialize(v) for k, v in item.items()}
    return {k: int(v) if isinstance(v, Decimal) else v for k, v in plain.items()}


def millis(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)


def from_millis(value: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=value)


# TransactWriteItems takes at most this many actions.
TRANSACTION_LIMIT = 100
# Retries of a transaction cancelled only because a concurrent one held one of its items.
_CONFLICT_ATTEMPTS = 6
_CONFLICT_BACKOFF_SECONDS = 0.01
CONDITION_FAILED = "ConditionalCheckFailed"
_TRANSACTION_CONFLICT = "TransactionConflict"

ItemKey = tuple[str, str]


def key(pk: str, sk: str) -> dict[str, str]:
    return {"pk": pk, "sk": sk}


def put_action(
    table: DynamoTable,
    item: Mapping[str, Any],
    condition: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A Put for TransactWriteItems; `values` fill the condition's placeholders."""
    return {"Put": {"TableName": table.name, "Item": to_item(item), **_guard(condition, values)}}


def delete_action(
    table: DynamoTable,
    item_key: Mapping[str, str],
    condition: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A Delete for TransactWriteItems; `values` fill the condition's placeholders."""
    return {
        "Delete": {"TableName": table.name, "Key": to_item(item_key), **_guard(condition, values)}
    }


def add_action(
    table: DynamoTable, item_key: Mapping[str, str], attribute: str, delta: int
) -> dict[str, Any]:
    """An Update for TransactWriteItems that adds `delta` to a number (creating it at 0)."""
    return {
        "Update": {
            "TableName": table.name,
            "Key": to_item(item_key),
            "UpdateExpression": "ADD #counted :delta",
            "ExpressionAttributeNames": {"#counted": attribute},
            "ExpressionAttributeValues": to_item({":delta": delta}),
        }
    }


def check_action(table: DynamoTable, item_key: Mapping[str, str], condition: str) -> dict[str, Any]:
    """A ConditionCheck for TransactWriteItems: the transaction commits only if `condition`
    holds for the item, which it leaves as it is."""
    return {
        "ConditionCheck": {
            "TableName": table.name,
            "Key": to_item(item_key),
            "ConditionExpression": condition,
        }
    }


def _guard(condition: str | None, values: Mapping[str, Any] | None) -> dict[str, Any]:
    guard: dict[str, Any] = {}
    if condition is not None:
        guard["ConditionExpression"] = condition
    if values:
        guard["ExpressionAttributeValues"] = to_item(values)
    return guard


async def transact(table: DynamoTable, actions: Sequence[Mapping[str, Any]]) -> list[str] | None:
    """Run one TransactWriteItems: None when it committed, else each action's cancellation
    reason (see `cancellation_reasons`). A transaction cancelled only because concurrent ones
    held its items is tried again a few times, then reported as StoreUnavailable."""
    for attempt in range(_CONFLICT_ATTEMPTS):
        try:
            # botocore retries a call whose answer was lost (a timeout); with the token, a
            # transaction that did commit is not applied again (its conditions would then fail
            # and report a conflict that never was), for 10 minutes. A fresh one per attempt
            # here: these attempts follow a cancellation and must run again.
            await table.call(
                "transact_write_items",
                TransactItems=list(actions),
                ClientRequestToken=uuid.uuid4().hex,
            )
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            reasons = cancellation_reasons(error)
            if _TRANSACTION_CONFLICT not in reasons or CONDITION_FAILED in reasons:
                return reasons
            # Jitter, so that the transactions that collided do not collide again in step.
            jitter = random.random()  # noqa: S311 - timing, not a secret
            await asyncio.sleep(_CONFLICT_BACKOFF_SECONDS * 2**attempt * jitter)
        else:
            return None
    raise StoreUnavailable("DynamoDB TransactWriteItems: contention on the same items persists")


@dataclass(frozen=True)
class Change:
    """One logical write of a bulk transaction: its item actions, none on an item another
    change of the batch touches, what it adds to each counter item (by key), and the
    ConditionChecks it needs (by the key of the item they check). Counter updates and checks
    are merged per item, since one transaction may act on an item only once."""

    actions: tuple[dict[str, Any], ...]
    counts: Mapping[ItemKey, int] = field(default_factory=dict)
    checks: Mapping[ItemKey, dict[str, Any]] = field(default_factory=dict)


def pack_transactions(
    changes: Sequence[Change], counter_action: Callable[[ItemKey, int], dict[str, Any]]
) -> list[list[dict[str, Any]]]:
    """The changes, in order, as few transactions of at most TRANSACTION_LIMIT actions as
    greedy packing gives, each with one `counter_action(key, total)` per counter it moves."""
    packs: list[list[Change]] = [[]]
    for change in changes:
        if _action_count([*packs[-1], change]) > TRANSACTION_LIMIT and packs[-1]:
            packs.append([])
        packs[-1].append(change)
    return [_transaction_of(pack, counter_action) for pack in packs if pack]


def _action_count(changes: Sequence[Change]) -> int:
    counters = {k for c in changes for k in c.counts}
    checks = {k for c in changes for k in c.checks}
    return sum(len(c.actions) for c in changes) + len(counters) + len(checks)


def _transaction_of(
    changes: Sequence[Change], counter_action: Callable[[ItemKey, int], dict[str, Any]]
) -> list[dict[str, Any]]:
    totals: dict[ItemKey, int] = {}
    checks: dict[ItemKey, dict[str, Any]] = {}
    for change in changes:
        for counter, delta in change.counts.items():
            totals[counter] = totals.get(counter, 0) + delta
        checks.update(change.checks)
    counter_actions = [counter_action(k, total) for k, total in totals.items() if total != 0]
    return [*(a for c in changes for a in c.actions), *counter_actions, *checks.values()]


async def query_all(table: DynamoTable, **arguments: Any) -> list[dict[str, Any]]:
    """Every item a Query matches, following LastEvaluatedKey page after page."""
    found: list[dict[str, Any]] = []
    while True:
        response = await table.call("query", TableName=table.name, **arguments)
        found += [from_item(i) for i in response.get("Items", [])]
        if "LastEvaluatedKey" not in response:
            return found
        arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]


async def count_all(table: DynamoTable, **arguments: Any) -> int:
    """How many items a Query matches, following LastEvaluatedKey page after page."""
    counted = 0
    while True:
        response = await table.call("query", TableName=table.name, Select="COUNT", **arguments)
        counted += int(response["Count"])
        if "LastEvaluatedKey" not in response:
            return counted
        arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]


async def write_batches(
    table: DynamoTable,
    puts: Sequence[Mapping[str, Any]] = (),
    deletes: Sequence[Mapping[str, str]] = (),
) -> None:
    """Put and delete items with BatchWriteItem, BATCH_WRITE_LIMIT a call, sending again
    whatever the service left unprocessed. Not atomic: for idempotent writes only. No two
    requests may name the same key."""
    requests = [{"PutRequest": {"Item": to_item(i)}} for i in puts] + [
        {"DeleteRequest": {"Key": to_item(k)}} for k in deletes
    ]
    for start in range(0, len(requests), BATCH_WRITE_LIMIT):
        pending = requests[start : start + BATCH_WRITE_LIMIT]
        attempt = 0
        while pending:
            if attempt:
                await asyncio.sleep(_CONFLICT_BACKOFF_SECONDS * 2 ** min(attempt, 6))
            response = await table.call("batch_write_item", RequestItems={table.name: pending})
            pending = response.get("UnprocessedItems", {}).get(table.name, [])
            attempt += 1


async def raise_counter(table: DynamoTable, last_id: int) -> None:
    """Make sure ids handed out from now on exceed `last_id` (an id written as given)."""
    try:
        await table.call(
            "update_item",
            TableName=table.name,
            Key=to_item(COUNTER_KEY),
            UpdateExpression="SET last_id = :last",
            ConditionExpression="attribute_not_exists(last_id) OR last_id < :last",
            ExpressionAttributeValues=to_item({":last": last_id}),
        )
    except ClientError as error:
        if error_code(error) != "ConditionalCheckFailedException":
            raise


async def items_by_dense_ids(
    table: DynamoTable, after: int | None, limit: int, key_of: Callable[[int], Mapping[str, str]]
) -> list[dict[str, Any]]:
    """The first `limit` items with ids above `after`, by id, found without a Scan: ids come
    from the table's counter, so every id ever used lies in 1..last_id, and the items are read
    a BatchGetItem of BATCH_GET_LIMIT consecutive ids at a time. The cost follows the span of
    ids probed, gaps (ids a failed write used up) included, not the size of the table."""
    counter = await table.call(
        "get_item", TableName=table.name, Key=to_item(COUNTER_KEY), ConsistentRead=True
    )
    last_id = int(counter.get("Item", {}).get("last_id", {}).get("N", "0"))
    found: list[dict[str, Any]] = []
    start = (after or 0) + 1
    while len(found) < limit and start <= last_id:
        stop = min(start + BATCH_GET_LIMIT, last_id + 1)
        found += await table.get_many([key_of(i) for i in range(start, stop)])
        start = stop
    return sorted(found, key=lambda item: int(item["id"]))[:limit]


async def get_one(table: DynamoTable, item_key: Mapping[str, str]) -> dict[str, Any] | None:
    """One item by its key (a consistent read), or None."""
    response = await table.call(
        "get_item", TableName=table.name, Key=to_item(item_key), ConsistentRead=True
    )
    item = response.get("Item")
    return None if item is None else from_item(item)
