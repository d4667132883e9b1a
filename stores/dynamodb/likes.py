"""Likes in DynamoDB, laid out as in tables.py: a like item per (article, user) in the
article's partition, indexed by user, beside the article's COUNT item. A count moves only in
the transaction that writes or deletes a like, and only when the like's condition held, so it
stays exact under any concurrency without a read."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Mapping, Sequence
from typing import Any

from events import DomainEvent
from models.likes import Like, LikeStats
from stores.dynamodb._common import (
    CONDITION_FAILED,
    COUNT_SK,
    COUNTED,
    Change,
    DynamoTable,
    ItemKey,
    add_action,
    delete_action,
    from_item,
    key,
    pack_transactions,
    put_action,
    query_all,
    to_item,
    transact,
    write_batches,
)
from stores.dynamodb._tombstones import (
    TOMBSTONE_SK,
    bury,
    refuse_if_forgotten,
    unless_forgotten,
)
from stores.dynamodb.outbox import DynamoOutbox, record_actions
from stores.dynamodb.tables import TABLES
from stores.errors import StoreUnavailable

_BY_USER = TABLES["likes"].index("by_user")
# like_many's read-then-write rounds when likes written meanwhile cancel its transactions.
_ATTEMPTS = 5


class DynamoLikeStore(DynamoOutbox):
    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    async def ping(self) -> None:
        await self._table.ping()

    async def like(
        self, user_id: int, article_id: int, *, events: Sequence[DomainEvent] = ()
    ) -> None:
        like = Like(user_id, article_id)
        actions = [
            put_action(self._table, _like_item(like), "attribute_not_exists(pk)"),
            self._count_action(_count_key(article_id), 1),
            *record_actions(self._table, events),
            *unless_forgotten(self._table, article_id).values(),
        ]
        reasons = await transact(self._table, actions)
        refuse_if_forgotten(actions, reasons)
        if _already_done(reasons):
            await self.record_alone(events)

    async def like_many(self, pairs: Sequence[Like]) -> None:
        """Reads which likes exist (BatchGetItem), then writes the missing ones with their
        counts in transactions of up to 100 actions, each like conditioned on still being
        absent: a like written meanwhile cancels its transaction, and the round is repeated
        for what is still missing. Each transaction is atomic; the batch is idempotent. A
        transaction cancelled by an article's tombstone raises ArticleForgotten."""
        pending = list(dict.fromkeys(pairs))
        for _ in range(_ATTEMPTS):
            pending = await self._absent(pending)
            if not pending:
                return
            changes = [
                Change(
                    (put_action(self._table, _like_item(like), "attribute_not_exists(pk)"),),
                    {_count_key(like.article_id): 1},
                    unless_forgotten(self._table, like.article_id),
                )
                for like in pending
            ]
            outcomes: list[list[str] | None] = []
            for actions in pack_transactions(changes, self._count_action):
                reasons = await transact(self._table, actions)
                refuse_if_forgotten(actions, reasons)
                outcomes.append(reasons)
            if all(outcome is None for outcome in outcomes):
                return
        raise StoreUnavailable("DynamoDB: likes kept changing while being written in bulk")

    async def unlike(
        self, user_id: int, article_id: int, *, events: Sequence[DomainEvent] = ()
    ) -> None:
        like = Like(user_id, article_id)
        reasons = await transact(
            self._table,
            [
                delete_action(self._table, _like_key(like), "attribute_exists(pk)"),
                self._count_action(_count_key(article_id), -1),
                *record_actions(self._table, events),
            ],
        )
        if _already_done(reasons):
            await self.record_alone(events)

    async def stats(
        self, article_ids: Sequence[int], viewer_id: int | None
    ) -> Mapping[int, LikeStats]:
        """One BatchGetItem for up to 50 articles: each one's COUNT item and the viewer's
        like of it."""
        wanted = list(dict.fromkeys(article_ids))
        keys = [key(*_count_key(a)) for a in wanted]
        if viewer_id is not None:
            keys += [_like_key(Like(viewer_id, a)) for a in wanted]
        counts: dict[int, int] = {}
        liked: set[int] = set()
        for item in await self._table.get_many(keys):
            article_id = _article_id(item["pk"])
            if item["sk"] == COUNT_SK:
                counts[article_id] = item.get(COUNTED, 0)
            else:
                liked.add(article_id)
        return {
            a: LikeStats(count=counts.get(a, 0), liked_by_viewer=a in liked)
            for a in wanted
            if counts.get(a, 0) or a in liked
        }

    async def liked_article_ids(self, user_id: int) -> list[int]:
        items = await query_all(
            self._table,
            IndexName=_BY_USER.name,
            KeyConditionExpression="#user = :user",
            ExpressionAttributeNames={"#user": _BY_USER.partition_key},
            ExpressionAttributeValues=to_item({":user": f"USER#{user_id}"}),
            ProjectionExpression="article_id",
        )
        return [item["article_id"] for item in items]

    async def liked_article_ids_of(self, user_ids: Sequence[int]) -> Mapping[int, list[int]]:
        """One Query per user on the `by_user` index, all sent at once."""
        wanted = list(dict.fromkeys(user_ids))
        found = await asyncio.gather(*(self.liked_article_ids(u) for u in wanted))
        return {u: liked for u, liked in zip(wanted, found, strict=True) if liked}

    async def forget_article(self, article_id: int) -> None:
        """Puts the article's tombstone, then deletes the rest of its partition, its likes and
        COUNT item, BatchWriteItem 25 a call: the article is gone, so nothing counts its likes
        any more."""
        await bury(self._table, article_id)
        items = await query_all(
            self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_item({":pk": f"ARTICLE#{article_id}"}),
            ProjectionExpression="pk, sk",
            ConsistentRead=True,
        )
        doomed = [key(i["pk"], i["sk"]) for i in items if i["sk"] != TOMBSTONE_SK]
        await write_batches(self._table, deletes=doomed)

    async def dump(self, after: Like | None, limit: int) -> list[Like]:
        """A Scan, ordered here: the likes table lists no articles, so nothing but a Scan
        visits every partition. Each call reads the whole table (filtered to likes after
        `after`) and keeps the first `limit` in (article_id, user_id) order; acceptable for
        the offline copy it serves, and never used on a request path."""
        condition = "begins_with(sk, :like)"
        values: dict[str, Any] = {":like": "USER#"}
        if after is not None:
            condition += " AND (article_id > :a OR (article_id = :a AND user_id > :u))"
            values |= {":a": after.article_id, ":u": after.user_id}
        arguments: dict[str, Any] = {
            "TableName": self._table.name,
            "FilterExpression": condition,
            "ExpressionAttributeValues": to_item(values),
            "ProjectionExpression": "article_id, user_id",
            "ConsistentRead": True,
        }
        first: list[Like] = []
        while True:
            response = await self._table.call("scan", **arguments)
            page = [Like(i["user_id"], i["article_id"]) for i in map(from_item, response["Items"])]
            first = heapq.nsmallest(limit, [*first, *page], key=_dump_order)
            if "LastEvaluatedKey" not in response:
                return first
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    async def restore(self, records: Sequence[Like]) -> None:
        """A like carries nothing beyond its key, so restoring is liking, idempotently."""
        await self.like_many(records)

    async def _absent(self, likes: Sequence[Like]) -> list[Like]:
        found = await self._table.get_many([_like_key(like) for like in likes])
        present = {Like(i["user_id"], i["article_id"]) for i in found}
        return [like for like in likes if like not in present]

    def _count_action(self, count_key: ItemKey, delta: int) -> dict[str, Any]:
        return add_action(self._table, key(*count_key), COUNTED, delta)


def _already_done(reasons: list[str] | None) -> bool:
    """A like or unlike whose condition failed found the like already there or already gone:
    the idempotent no-op. Any other cancellation is unexpected."""
    if reasons is not None and reasons[0] != CONDITION_FAILED:
        raise RuntimeError(f"DynamoDB cancelled a like: {reasons}")
    return reasons is not None


def _like_key(like: Like) -> dict[str, str]:
    return key(f"ARTICLE#{like.article_id}", f"USER#{like.user_id}")


def _like_item(like: Like) -> dict[str, Any]:
    return {
        **_like_key(like),
        _BY_USER.partition_key: f"USER#{like.user_id}",
        _BY_USER.sort_key: f"ARTICLE#{like.article_id}",
        "user_id": like.user_id,
        "article_id": like.article_id,
    }


def _count_key(article_id: int) -> ItemKey:
    return (f"ARTICLE#{article_id}", COUNT_SK)


def _article_id(pk: str) -> int:
    return int(pk.removeprefix("ARTICLE#"))


def _dump_order(like: Like) -> tuple[int, int]:
    return (like.article_id, like.user_id)
