"""Comments in DynamoDB, laid out as in tables.py: each comment twice, in its article's
partition under a time key (so a newest-first page is one Query) and under its own id (so a
lookup by id is one GetItem), beside the article's COUNT item. Both copies and the count
change together in one transaction, so the count stays exact without a read."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from events import DomainEvent
from events.relay import EventsOf, no_events
from models.comments import Comment, NewComment
from models.pages import Window
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
    from_millis,
    get_one,
    items_by_dense_ids,
    key,
    millis,
    pack_transactions,
    put_action,
    query_all,
    raise_counter,
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
from stores.dynamodb.tables import time_key
from stores.errors import StoreUnavailable

_ARTICLE = "ARTICLE#"
_IN_ARTICLE = "COMMENT#"
# restore's read-then-write rounds when comments changed meanwhile cancel its transactions.
_ATTEMPTS = 5


class DynamoCommentStore(DynamoOutbox):
    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    async def ping(self) -> None:
        await self._table.ping()

    async def add(self, new: NewComment, *, events: EventsOf[Comment] = no_events) -> Comment:
        [comment] = await self._add([new], events)
        return comment

    async def add_many(self, new: Sequence[NewComment]) -> list[Comment]:
        return await self._add(new, no_events)

    async def _add(self, new: Sequence[NewComment], events: EventsOf[Comment]) -> list[Comment]:
        """All or none when the batch fits one transaction: two items per comment (and its
        outbox items), and per article one count update and the check that it has no
        tombstone, 100 actions in all. A larger batch is written one such transaction at a
        time, each of them atomic."""
        if not new:
            return []
        ids = await self._table.allocate_ids(len(new))
        comments = [_added(comment_id, n) for comment_id, n in zip(ids, new, strict=True)]
        changes = [
            Change(
                (
                    put_action(self._table, _by_id_item(c)),
                    put_action(self._table, _in_article_item(c)),
                    *record_actions(self._table, events(c)),
                ),
                {_count_key(c.article_id): 1},
                unless_forgotten(self._table, c.article_id),
            )
            for c in comments
        ]
        for actions in pack_transactions(changes, self._count_action):
            reasons = await transact(self._table, actions)
            refuse_if_forgotten(actions, reasons)
            if reasons is not None:
                # Fresh ids and unconditional writes: only a tombstone can cancel these.
                raise RuntimeError(f"DynamoDB cancelled adding comments: {reasons}")
        return comments

    async def by_id(self, comment_id: int) -> Comment | None:
        item = await get_one(self._table, _by_id_key(comment_id))
        return None if item is None else _comment(item)

    async def by_ids(self, comment_ids: Sequence[int]) -> list[Comment]:
        """The copies by id, BatchGetItem 100 keys a call."""
        keys = [_by_id_key(i) for i in set(comment_ids)]
        return [_comment(item) for item in await self._table.get_many(keys)]

    async def pages(
        self, article_ids: Sequence[int], window: Window
    ) -> Mapping[int, list[Comment]]:
        """One Query per article (its partition holds its comments), all at once."""
        wanted = list(dict.fromkeys(article_ids))
        found = await asyncio.gather(*(self._page(a, window) for a in wanted))
        return {a: page for a, page in zip(wanted, found, strict=True) if page}

    async def _page(self, article_id: int, window: Window) -> list[Comment]:
        """One Query, newest first, after `window.after` by sort key. DynamoDB cannot skip
        items, so an offset is read and dropped."""
        wanted = None if window.limit is None else window.offset + window.limit
        values = {":pk": _article_pk(article_id), ":comment": _IN_ARTICLE}
        condition = "pk = :pk AND begins_with(sk, :comment)"
        if window.after is not None:
            # COUNT sorts after every COMMENT# key, so "below the cursor" is comments only.
            condition = "pk = :pk AND sk < :before"
            values = {
                ":pk": _article_pk(article_id),
                ":before": _IN_ARTICLE + time_key(window.after.created_at, window.after.id),
            }
        arguments: dict[str, Any] = {
            "TableName": self._table.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": to_item(values),
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        found: list[Comment] = []
        while wanted is None or len(found) < wanted:
            if wanted is not None:
                arguments["Limit"] = wanted - len(found)
            response = await self._table.call("query", **arguments)
            found += [_comment(from_item(i)) for i in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                break
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found[window.offset :]

    async def counts(self, article_ids: Sequence[int]) -> Mapping[int, int]:
        """The articles' COUNT items, BatchGetItem 100 a call."""
        keys = [key(*_count_key(a)) for a in dict.fromkeys(article_ids)]
        items = await self._table.get_many(keys, attributes=("pk", COUNTED))
        return {_article_of(i["pk"]): int(i[COUNTED]) for i in items if i.get(COUNTED)}

    async def delete(self, comment_id: int, *, events: Sequence[DomainEvent] = ()) -> None:
        item = await get_one(self._table, _by_id_key(comment_id))
        if item is None:
            await self.record_alone(events)
            return
        comment = _comment(item)
        exists = "attribute_exists(pk)"
        reasons = await transact(
            self._table,
            [
                delete_action(self._table, _by_id_key(comment.id), exists),
                delete_action(self._table, _in_article_key(comment), exists),
                self._count_action(_count_key(comment.article_id), -1),
                *record_actions(self._table, events),
            ],
        )
        # A failed condition: a concurrent delete took it first, and counted it.
        if reasons is not None and CONDITION_FAILED not in reasons:
            raise RuntimeError(f"DynamoDB cancelled deleting a comment: {reasons}")
        if reasons is not None:
            await self.record_alone(events)

    async def forget_article(self, article_id: int) -> None:
        """Puts the article's tombstone, then deletes the rest of its partition (its comments
        and COUNT item) and each comment's copy by id, BatchWriteItem 25 a call."""
        await bury(self._table, article_id)
        items = await query_all(
            self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=to_item({":pk": _article_pk(article_id)}),
            ProjectionExpression="pk, sk",
            ConsistentRead=True,
        )
        in_article = [key(i["pk"], i["sk"]) for i in items if i["sk"] != TOMBSTONE_SK]
        by_id = [_by_id_key(_id_in(k["sk"])) for k in in_article if k["sk"].startswith(_IN_ARTICLE)]
        await write_batches(self._table, deletes=in_article + by_id)

    async def dump(self, after: int | None, limit: int) -> list[Comment]:
        """Probes ids upward from `after` by their copies (see `items_by_dense_ids`)."""
        return [
            _comment(i) for i in await items_by_dense_ids(self._table, after, limit, _by_id_key)
        ]

    async def restore(self, records: Sequence[Comment]) -> None:
        """Each comment exactly as given, in transactions of up to 100 actions. A comment
        already there (a batch restored again) is rewritten in place, or moved when its
        article or time differs, and stays counted once; each write is conditioned on the
        comment being as read, and a round cancelled by a concurrent change is read and
        written again. Then the id counter is raised past every restored id."""
        latest = list({c.id: c for c in records}.values())
        if not latest:
            return
        for _ in range(_ATTEMPTS):
            found = await self._table.get_many([_by_id_key(c.id) for c in latest])
            current = {item["id"]: _comment(item) for item in found}
            changes = [self._restoration(c, current.get(c.id)) for c in latest]
            outcomes = [
                await transact(self._table, actions)
                for actions in pack_transactions(changes, self._count_action)
            ]
            if all(outcome is None for outcome in outcomes):
                break
        else:
            raise StoreUnavailable("DynamoDB: comments kept changing while being restored")
        await raise_counter(self._table, max(c.id for c in latest))

    def _restoration(self, comment: Comment, current: Comment | None) -> Change:
        if current is None:
            return Change(
                (
                    put_action(self._table, _by_id_item(comment), "attribute_not_exists(pk)"),
                    put_action(self._table, _in_article_item(comment)),
                ),
                {_count_key(comment.article_id): 1},
            )
        unchanged = "article_id = :article AND created_at = :created"
        as_read = {":article": current.article_id, ":created": millis(current.created_at)}
        actions = [
            put_action(self._table, _by_id_item(comment), unchanged, as_read),
            put_action(self._table, _in_article_item(comment)),
        ]
        if _in_article_key(current) != _in_article_key(comment):
            actions.append(delete_action(self._table, _in_article_key(current)))
        counts: dict[ItemKey, int] = {}
        if current.article_id != comment.article_id:
            counts = {_count_key(current.article_id): -1, _count_key(comment.article_id): 1}
        return Change(tuple(actions), counts)

    def _count_action(self, count_key: ItemKey, delta: int) -> dict[str, Any]:
        return add_action(self._table, key(*count_key), COUNTED, delta)


def _added(comment_id: int, new: NewComment) -> Comment:
    # Cut to the stored milliseconds, so the comment returned equals the one read back.
    created_at = from_millis(millis(new.created_at))
    return Comment(
        id=comment_id,
        article_id=new.article_id,
        author_id=new.author_id,
        body=new.body,
        created_at=created_at,
        updated_at=created_at,
    )


def _attributes(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "article_id": comment.article_id,
        "author_id": comment.author_id,
        "body": comment.body,
        "created_at": millis(comment.created_at),
        "updated_at": millis(comment.updated_at),
    }


def _comment(item: dict[str, Any]) -> Comment:
    return Comment(
        id=item["id"],
        article_id=item["article_id"],
        author_id=item["author_id"],
        body=item["body"],
        created_at=from_millis(item["created_at"]),
        updated_at=from_millis(item["updated_at"]),
    )


def _article_pk(article_id: int) -> str:
    return f"{_ARTICLE}{article_id}"


def _article_of(pk: str) -> int:
    return int(pk.removeprefix(_ARTICLE))


def _in_article_key(comment: Comment) -> dict[str, str]:
    return key(
        _article_pk(comment.article_id), _IN_ARTICLE + time_key(comment.created_at, comment.id)
    )


def _in_article_item(comment: Comment) -> dict[str, Any]:
    return {**_in_article_key(comment), **_attributes(comment)}


def _by_id_key(comment_id: int) -> dict[str, str]:
    return key(f"COMMENT#{comment_id}", "COMMENT")


def _by_id_item(comment: Comment) -> dict[str, Any]:
    return {**_by_id_key(comment.id), **_attributes(comment)}


def _id_in(in_article_sk: str) -> int:
    """The comment id that ends a COMMENT#<time_key> sort key."""
    return int(in_article_sk.rpartition("#")[2])


def _count_key(article_id: int) -> ItemKey:
    return (_article_pk(article_id), COUNT_SK)
