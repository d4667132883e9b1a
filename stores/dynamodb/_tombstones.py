"""Tombstones of deleted articles in the likes and the comments tables (the ARTICLE#<id> /
DELETED item), so that a write racing an article's deletion cannot outlive it, as
stores/sql/tombstones.py explains for SQL.

`forget_article` puts the tombstone first, then reads and deletes the article's partition
(all but the tombstone). Every transaction writing for an article carries a ConditionCheck
that its tombstone is absent. Transactions are serializable with the put: one that commits
before it is read by the partition's read, which follows it, and deleted; one after it fails
its check and writes nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from stores.dynamodb._common import (
    CONDITION_FAILED,
    DynamoTable,
    ItemKey,
    check_action,
    key,
    to_item,
)
from stores.errors import ArticleForgotten

TOMBSTONE_SK = "DELETED"
_ARTICLE = "ARTICLE#"


def tombstone_key(article_id: int) -> ItemKey:
    return (f"{_ARTICLE}{article_id}", TOMBSTONE_SK)


def unless_forgotten(table: DynamoTable, article_id: int) -> dict[ItemKey, dict[str, Any]]:
    """The ConditionCheck that the article has no tombstone, by the key it checks (a Change's
    `checks`)."""
    tombstone = tombstone_key(article_id)
    return {tombstone: check_action(table, key(*tombstone), "attribute_not_exists(pk)")}


def refuse_if_forgotten(
    actions: Sequence[Mapping[str, Any]], reasons: Sequence[str] | None
) -> None:
    """Raise ArticleForgotten if a transaction of `actions` was cancelled (for `reasons`) by
    the ConditionCheck on a tombstone."""
    if reasons is None:
        return
    for action, reason in zip(actions, reasons, strict=True):
        checked = action.get("ConditionCheck", {}).get("Key", {})
        if reason == CONDITION_FAILED and checked.get("sk") == {"S": TOMBSTONE_SK}:
            raise ArticleForgotten(int(checked["pk"]["S"].removeprefix(_ARTICLE)))


async def bury(table: DynamoTable, article_id: int) -> None:
    """Put the article's tombstone (again: no change)."""
    await table.call(
        "put_item", TableName=table.name, Item=to_item(key(*tombstone_key(article_id)))
    )
