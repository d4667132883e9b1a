"""The articles table's newest-first lists and how to read them: every article (GSI
`newest`), an author's (GSI `by_author`), a tag's (its TAG items), and the tag counts. A list
is read by Query, a page of it after a position; DynamoDB has no OFFSET, so an offset's items
are read and dropped."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from models.pages import Window
from stores.dynamodb._article_items import (
    BY_AUTHOR,
    COUNT_ATTRIBUTE,
    NEWEST,
    NEWEST_PK,
    TAGS_PK,
    author_partition,
    tag_partition,
)
from stores.dynamodb._common import DynamoTable, from_item, projection, to_item
from stores.dynamodb.tables import PARTITION_KEY, SORT_KEY, time_key

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class NewestFirst:
    """A list of items in one partition of the table or of one of its indexes."""

    partition_attribute: str
    sort_attribute: str
    partition: str
    index: str | None = None


def every_article() -> NewestFirst:
    return NewestFirst(NEWEST.partition_key, NEWEST.sort_key, NEWEST_PK, NEWEST.name)


def by_author(author_id: int) -> NewestFirst:
    partition = author_partition(author_id)
    return NewestFirst(BY_AUTHOR.partition_key, BY_AUTHOR.sort_key, partition, BY_AUTHOR.name)


def tagged(tag: str) -> NewestFirst:
    return NewestFirst(PARTITION_KEY, SORT_KEY, tag_partition(tag))


def tag_counts() -> NewestFirst:
    """The TAGS partition (in tag order, read whole)."""
    return NewestFirst(PARTITION_KEY, SORT_KEY, TAGS_PK)


@dataclass(frozen=True, slots=True)
class Filter:
    """A FilterExpression with the names and (plain) values it uses."""

    expression: str
    names: Mapping[str, str]
    values: Mapping[str, Any]


POSITIVE_COUNT = Filter("#n > :zero", {"#n": COUNT_ATTRIBUTE}, {":zero": 0})


def carrying(tag: str) -> Filter:
    """Article items whose tags include `tag`."""
    return Filter("contains(#tags, :tag)", {"#tags": "tags"}, {":tag": tag})


async def read(
    table: DynamoTable,
    listed: NewestFirst,
    after: str | None,
    wanted: int | None,
    item_filter: Filter | None = None,
    attributes: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The list's items newest first, strictly before `after`, at most `wanted` of them (all,
    for None), only those passing `item_filter`, paging through the responses."""
    arguments = _query_arguments(table.name, listed, after, item_filter, attributes)
    found: list[dict[str, Any]] = []
    while wanted is None or len(found) < wanted:
        if wanted is not None and item_filter is None:
            # Limit counts the items read before any filter: it bounds unfiltered reads only.
            arguments["Limit"] = wanted - len(found)
        response = await table.call("query", **arguments)
        found += [from_item(i) for i in response["Items"]]
        if "LastEvaluatedKey" not in response:
            break
        arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return found if wanted is None else found[:wanted]


async def count(table: DynamoTable, listed: NewestFirst, item_filter: Filter) -> int:
    """How many of the list's items pass `item_filter`."""
    arguments = _query_arguments(table.name, listed, None, item_filter, None)
    arguments["Select"] = "COUNT"
    counted = 0
    while True:
        response = await table.call("query", **arguments)
        counted += int(response["Count"])
        if "LastEvaluatedKey" not in response:
            return counted
        arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def after_key(window: Window) -> str | None:
    """The sort key the window's items come strictly after (their time_key is below it)."""
    return None if window.after is None else time_key(window.after.created_at, window.after.id)


def wanted(window: Window) -> int | None:
    """How many items to read from a list's start: the offset's too."""
    return None if window.limit is None else window.offset + window.limit


def cut(newest_first: list[T], window: Window) -> list[T]:
    """The window's items of a newest-first list that starts after `window.after` already."""
    end = None if window.limit is None else window.offset + window.limit
    return newest_first[window.offset : end]


def _query_arguments(
    table: str,
    listed: NewestFirst,
    after: str | None,
    item_filter: Filter | None,
    attributes: list[str] | None,
) -> dict[str, Any]:
    condition = "#list = :list"
    names = {"#list": listed.partition_attribute}
    values: dict[str, Any] = {":list": listed.partition}
    if after is not None:
        condition += " AND #position < :after"
        names["#position"] = listed.sort_attribute
        values[":after"] = after
    arguments: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": condition,
        "ScanIndexForward": False,
    }
    if item_filter is not None:
        arguments["FilterExpression"] = item_filter.expression
        names.update(item_filter.names)
        values.update(item_filter.values)
    if attributes is not None:
        projected = projection(attributes)
        arguments["ProjectionExpression"] = projected["ProjectionExpression"]
        names.update(projected["ExpressionAttributeNames"])
    if listed.index is None:
        arguments["ConsistentRead"] = True
    else:
        arguments["IndexName"] = listed.index
    return {
        **arguments,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": to_item(values),
    }
