"""Each domain's records seen the same way whatever the domain: a key that orders them (the
order `dump` reads in), a digest of each record, and dump and restore by that key."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from models.articles import ArticleQuery, ArticleRecord
from models.comments import Comment
from models.likes import Like
from models.users import UserRecord
from stores.factory import OpenStores

R = TypeVar("R")
Key = tuple[int, ...]


@dataclass(frozen=True)
class Records(Generic[R]):
    """One domain's records on one backend."""

    key_names: tuple[str, ...]
    dump: Callable[[Key | None, int], Awaitable[list[R]]]
    restore: Callable[[Sequence[R]], Awaitable[None]]
    key: Callable[[R], Key]
    # The record as plain data, the same for equal records on any backend.
    plain: Callable[[R], dict[str, Any]]
    # How many records there are, where one statement or item answers it.
    count: Callable[[], Awaitable[int]] | None = None

    def digest(self, record: R) -> str:
        """sha256 of the record's canonical JSON."""
        text = json.dumps(self.plain(record), sort_keys=True, default=_instant)
        return hashlib.sha256(text.encode()).hexdigest()


def _instant(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"no JSON form for {type(value).__name__}")


def users(opened: OpenStores) -> Records[UserRecord]:
    store = opened.users()

    def dump(after: Key | None, limit: int) -> Awaitable[list[UserRecord]]:
        return store.dump(None if after is None else after[0], limit)

    return Records(
        key_names=("id",),
        dump=dump,
        restore=store.restore,
        key=lambda r: (r.user.id,),
        # Whom a user follows is a set: backends may list it in any order.
        plain=lambda r: {**asdict(r), "followee_ids": sorted(r.followee_ids)},
    )


def articles(opened: OpenStores) -> Records[ArticleRecord]:
    store = opened.articles()

    def dump(after: Key | None, limit: int) -> Awaitable[list[ArticleRecord]]:
        return store.dump(None if after is None else after[0], limit)

    def count() -> Awaitable[int]:
        return store.count(ArticleQuery())

    return Records(
        key_names=("id",),
        dump=dump,
        restore=store.restore,
        key=lambda r: (r.article.id,),
        plain=asdict,
        count=count,
    )


def likes(opened: OpenStores) -> Records[Like]:
    store = opened.likes()

    def dump(after: Key | None, limit: int) -> Awaitable[list[Like]]:
        last = None if after is None else Like(article_id=after[0], user_id=after[1])
        return store.dump(last, limit)

    return Records(
        key_names=("article_id", "user_id"),
        dump=dump,
        restore=store.restore,
        key=lambda r: (r.article_id, r.user_id),
        plain=asdict,
    )


def comments(opened: OpenStores) -> Records[Comment]:
    store = opened.comments()

    def dump(after: Key | None, limit: int) -> Awaitable[list[Comment]]:
        return store.dump(None if after is None else after[0], limit)

    return Records(
        key_names=("id",),
        dump=dump,
        restore=store.restore,
        key=lambda r: (r.id,),
        plain=asdict,
    )


DOMAINS: dict[str, Callable[[OpenStores], Records[Any]]] = {
    "users": users,
    "articles": articles,
    "likes": likes,
    "comments": comments,
}


def describe(key_names: Sequence[str], key: Key) -> str:
    if len(key) == 1:
        return str(key[0])
    return "(" + ", ".join(f"{n}={v}" for n, v in zip(key_names, key, strict=True)) + ")"
