"""The articles table's items (laid out as stores/dynamodb/tables.py describes) and the
transactions that write them.

Every write is a `Change` of one article from what was read (`before`, None for a new one) to
what it becomes (`after`, None for a deletion). A change turns into item actions (the article,
its slug claim, its TAG items), each conditioned so that the transaction fails unless the
article is still as read, and into counter increments (TAGS and COUNT items). Several changes
can share a transaction: their increments of one counter are summed into one action, because
a transaction may touch an item only once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from models.articles import Article
from stores.dynamodb._common import from_millis, millis, to_item
from stores.dynamodb.tables import TABLES, time_key

ARTICLE_SK = "ARTICLE"
SLUG_SK = "SLUG"
TAGS_PK = "TAGS"
COUNT_PK = "COUNT"
NEWEST_PK = "ARTICLES"
COUNT_ATTRIBUTE = "n"
# DynamoDB's caps on one TransactWriteItems are 100 actions and 4 MB; the byte budget leaves
# room for the keys and attribute names that `_size` does not count.
MAX_TRANSACTION_ACTIONS = 100
MAX_TRANSACTION_BYTES = 3_500_000

NEWEST = TABLES["articles"].index("newest")
BY_AUTHOR = TABLES["articles"].index("by_author")

Key = tuple[str, str]


def article_key(article_id: int) -> dict[str, str]:
    return {"pk": f"ARTICLE#{article_id}", "sk": ARTICLE_SK}


def slug_key(slug: str) -> dict[str, str]:
    return {"pk": f"SLUG#{slug}", "sk": SLUG_SK}


def tag_partition(tag: str) -> str:
    return f"TAG#{tag}"


def author_partition(author_id: int) -> str:
    return f"AUTHOR#{author_id}"


def tag_count_key(tag: str) -> dict[str, str]:
    return {"pk": TAGS_PK, "sk": tag}


def all_count_key() -> dict[str, str]:
    return {"pk": COUNT_PK, "sk": "ALL"}


def author_count_key(author_id: int) -> dict[str, str]:
    return {"pk": COUNT_PK, "sk": author_partition(author_id)}


def sort_key(article: Article) -> str:
    """The article's place in every newest-first list (the GSIs' and TAG items' sort key)."""
    return time_key(article.created_at, article.id)


@dataclass(frozen=True, slots=True)
class Stored:
    """An article as its item holds it: with its sorted tags, and the version that every write
    bumps, so that a write can be conditioned on nothing having changed since its read."""

    article: Article
    tags: tuple[str, ...]
    version: int

    def replaced_by(self, article: Article, tags: Sequence[str]) -> Stored:
        return Stored(article, sorted_tags(tags), self.version + 1)


def first_version(article: Article, tags: Sequence[str]) -> Stored:
    return Stored(article, sorted_tags(tags), 1)


def sorted_tags(tags: Sequence[str]) -> tuple[str, ...]:
    return tuple(sorted(set(tags)))


def at_millisecond(article: Article) -> Article:
    """The article with its times as the table keeps them (whole milliseconds, UTC), so what a
    write returns equals what a later read returns."""
    return replace(
        article,
        created_at=from_millis(millis(article.created_at)),
        updated_at=from_millis(millis(article.updated_at)),
    )


def article_item(stored: Stored) -> dict[str, Any]:
    a = stored.article
    return {
        **article_key(a.id),
        NEWEST.partition_key: NEWEST_PK,
        NEWEST.sort_key: sort_key(a),
        BY_AUTHOR.partition_key: author_partition(a.author_id),
        BY_AUTHOR.sort_key: sort_key(a),
        "id": a.id,
        "slug": a.slug,
        "title": a.title,
        "description": a.description,
        "body": a.body,
        "author_id": a.author_id,
        "created_at": millis(a.created_at),
        "updated_at": millis(a.updated_at),
        "tags": list(stored.tags),
        "version": stored.version,
    }


def stored_from(item: Mapping[str, Any]) -> Stored:
    return Stored(article_from(item), tuple(item["tags"]), item["version"])


def article_from(item: Mapping[str, Any]) -> Article:
    return Article(
        id=item["id"],
        slug=item["slug"],
        title=item["title"],
        description=item["description"],
        body=item["body"],
        author_id=item["author_id"],
        created_at=from_millis(item["created_at"]),
        updated_at=from_millis(item["updated_at"]),
    )


class Role(Enum):
    """What a failed condition on an action means."""

    ARTICLE = "the article changed since it was read"
    SLUG_CLAIM = "the slug is taken"
    SLUG_RELEASE = "the old slug's claim changed since the article was read"
    COUNTER = "counters have no condition"
    TAG = "tag items have no condition"
    OUTBOX = "outbox items have no condition"


@dataclass(frozen=True, slots=True)
class Action:
    """One entry of a TransactWriteItems request, with what its failure would mean."""

    request: dict[str, Any]
    key: Key
    role: Role
    size: int


@dataclass(frozen=True, slots=True)
class Change:
    before: Stored | None
    after: Stored | None

    def item_actions(self, table: str) -> list[Action]:
        return [
            *self._article_actions(table),
            *self._slug_actions(table),
            *self._tag_item_actions(table),
        ]

    def counter_deltas(self) -> Counter[Key]:
        deltas: Counter[Key] = Counter()
        for sign, stored in ((-1, self.before), (1, self.after)):
            if stored is not None:
                deltas[_key(all_count_key())] += sign
                deltas[_key(author_count_key(stored.article.author_id))] += sign
        old_tags, new_tags = self._tags(self.before), self._tags(self.after)
        for tag in new_tags - old_tags:
            deltas[_key(tag_count_key(tag))] += 1
        for tag in old_tags - new_tags:
            deltas[_key(tag_count_key(tag))] -= 1
        # An edit's -1 and +1 on its author's count cancel out: no action for those.
        return Counter({key: delta for key, delta in deltas.items() if delta})

    @property
    def article_id(self) -> int:
        stored = self.after or self.before
        assert stored is not None, "a change has a before or an after"
        return stored.article.id

    def _article_actions(self, table: str) -> list[Action]:
        key = article_key(self.article_id)
        if self.after is not None:
            verb, size = "Put", _size(self.after)
            request = {"TableName": table, "Item": to_item(article_item(self.after))}
        else:
            verb, size = "Delete", 0
            request = {"TableName": table, "Key": to_item(key)}
        request.update(_as_read(self.before))
        return [Action({verb: request}, _key(key), Role.ARTICLE, size)]

    def _slug_actions(self, table: str) -> list[Action]:
        old = None if self.before is None else self.before.article.slug
        new = None if self.after is None else self.after.article.slug
        if old == new:
            return []
        actions: list[Action] = []
        if old is not None:
            release = {
                "TableName": table,
                "Key": to_item(slug_key(old)),
                "ConditionExpression": "article_id = :id",
                "ExpressionAttributeValues": to_item({":id": self.article_id}),
            }
            actions.append(Action({"Delete": release}, _key(slug_key(old)), Role.SLUG_RELEASE, 0))
        if new is not None:
            claim = {
                "TableName": table,
                "Item": to_item({**slug_key(new), "article_id": self.article_id}),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
            actions.append(Action({"Put": claim}, _key(slug_key(new)), Role.SLUG_CLAIM, 0))
        return actions

    def _tag_item_actions(self, table: str) -> list[Action]:
        old, new = _tag_items(self.before), _tag_items(self.after)
        deletes = [
            Action({"Delete": {"TableName": table, "Key": to_item(_key_of(k))}}, k, Role.TAG, 0)
            for k in sorted(old.keys() - new.keys())
        ]
        puts = [
            Action({"Put": {"TableName": table, "Item": to_item(new[k])}}, k, Role.TAG, 0)
            for k in sorted(new.keys() - old.keys())
        ]
        return deletes + puts

    @staticmethod
    def _tags(stored: Stored | None) -> set[str]:
        return set() if stored is None else set(stored.tags)


def _as_read(before: Stored | None) -> dict[str, Any]:
    """The condition that the article is still as it was read (absent, for None)."""
    if before is None:
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    return {
        "ConditionExpression": "#version = :version",
        "ExpressionAttributeNames": {"#version": "version"},
        "ExpressionAttributeValues": to_item({":version": before.version}),
    }


def counter_action(table: str, key: Key, delta: int) -> Action:
    request = {
        "Update": {
            "TableName": table,
            "Key": to_item(_key_of(key)),
            "UpdateExpression": "ADD #n :delta",
            "ExpressionAttributeNames": {"#n": COUNT_ATTRIBUTE},
            "ExpressionAttributeValues": to_item({":delta": delta}),
        }
    }
    return Action(request, key, Role.COUNTER, 0)


def transactions(table: str, changes: Sequence[Change]) -> list[Transaction]:
    """The changes packed, in order, into as few transactions as DynamoDB's limits allow. A
    change never spans two transactions, and no transaction touches an item twice: a change
    touching an item the transaction holds already starts the next one."""
    packed: list[Transaction] = []
    for change in changes:
        if not packed or not packed[-1].fits(change):
            packed.append(Transaction(table))
        packed[-1].add(change)
    return packed


@dataclass
class Transaction:
    """Changes written in one TransactWriteItems: their item actions, and one increment for
    each counter they change, the sum of theirs."""

    table: str
    changes: list[Change] = field(default_factory=list)
    items: list[Action] = field(default_factory=list)
    deltas: Counter[Key] = field(default_factory=Counter)

    def fits(self, change: Change) -> bool:
        actions = change.item_actions(self.table)
        counters = self.deltas.keys() | change.counter_deltas().keys()
        touched = {a.key for a in self.items}
        return (
            len(self.items) + len(actions) + len(counters) <= MAX_TRANSACTION_ACTIONS
            and sum(a.size for a in (*self.items, *actions)) <= MAX_TRANSACTION_BYTES
            and touched.isdisjoint(a.key for a in actions)
        )

    def add(self, change: Change) -> None:
        self.changes.append(change)
        self.items += change.item_actions(self.table)
        self.deltas.update(change.counter_deltas())

    def actions(self) -> list[Action]:
        counters = [counter_action(self.table, k, d) for k, d in sorted(self.deltas.items()) if d]
        return self.items + counters


def _tag_items(stored: Stored | None) -> dict[Key, dict[str, Any]]:
    if stored is None:
        return {}
    a = stored.article
    return {
        (tag_partition(t), sort_key(a)): {
            "pk": tag_partition(t),
            "sk": sort_key(a),
            "article_id": a.id,
        }
        for t in stored.tags
    }


def _key(key: Mapping[str, str]) -> Key:
    return key["pk"], key["sk"]


def _key_of(key: Key) -> dict[str, str]:
    return {"pk": key[0], "sk": key[1]}


def _size(stored: Stored) -> int:
    """The article item's size, near enough for packing transactions under their byte cap."""
    a = stored.article
    text = (a.slug, a.title, a.description, a.body, *stored.tags)
    return sum(len(t.encode()) for t in text)
