"""The store interfaces. Every method is one round trip, takes whole batches where a page needs
many items, and needs no join or scan, so a key-value backend can implement each one directly.
The `*_many` writes load data in bulk (seeding): each writes its whole batch in one
transaction, in a few round trips whatever its size.

`dump` and `restore` copy a domain from one backend to another (the strangler step): `dump`
reads the domain's records in key order, a batch after a key; `restore` writes records exactly
as given, ids and timestamps included, replacing what is there under their keys, so that
restoring a batch twice (a copy resumed after an interruption) leaves the same state as once,
counts and uniqueness claims included; ids handed out afterwards exceed every restored one.

A write that raises domain events takes them (`events`) and records them in its domain's outbox
in the same transaction (see events/relay.py): they are recorded exactly when the call
returns, its no-op included (a like that is there already, a delete that finds nothing), so
that the request delivers what is recorded; a write refused (Conflict, NotFound) records
none. The bulk writes and `restore` raise no events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from events import DomainEvent
from events.relay import EventsOf, Outbox, no_events
from models.articles import Article, ArticleEdit, ArticleQuery, ArticleRecord, NewArticle
from models.comments import Comment, NewComment
from models.likes import Like, LikeStats
from models.pages import Position, Window
from models.users import Follow, FollowCounts, User, UserRecord, UserRow


class Store(Protocol):
    async def ping(self) -> None:
        """Raise unless the backing database answers."""


class UserStore(Store, Outbox, Protocol):
    async def create(self, row: UserRow) -> User:
        """Raise Conflict naming every taken field (username, email)."""

    async def create_many(self, rows: Sequence[UserRow]) -> list[User]:
        """Like `create` for every row, in order, all or none."""

    async def update(
        self, user_id: int, row: UserRow, *, events: Sequence[DomainEvent] = ()
    ) -> User:
        """Raise Conflict naming every field taken by another user; NotFound("user")."""

    async def by_ids(self, ids: Sequence[int]) -> list[User]: ...

    async def by_username(self, username: str) -> User | None: ...

    async def by_email(self, email: str) -> User | None: ...

    async def follow(
        self, follower_id: int, followee_id: int, *, events: Sequence[DomainEvent] = ()
    ) -> None:
        """Idempotent."""

    async def follow_many(self, pairs: Sequence[Follow]) -> None:
        """Idempotent."""

    async def unfollow(
        self, follower_id: int, followee_id: int, *, events: Sequence[DomainEvent] = ()
    ) -> None:
        """Idempotent."""

    async def followed_among(self, follower_id: int, candidate_ids: Sequence[int]) -> set[int]:
        """Which of `candidate_ids` the follower follows."""

    async def followees(self, follower_id: int) -> list[int]: ...

    async def follow_counts(self, user_ids: Sequence[int]) -> Mapping[int, FollowCounts]:
        """How many users follow each user and how many each follows (absent ids: none)."""

    async def dump(self, after: int | None, limit: int) -> list[UserRecord]:
        """Users with ids above `after`, by id."""

    async def restore(self, records: Sequence[UserRecord]) -> None:
        """Each user exactly as given, following exactly the given followees."""


class ArticleStore(Store, Outbox, Protocol):
    async def create(self, new: NewArticle, *, events: EventsOf[Article] = no_events) -> Article:
        """Write the article and its tags atomically; raise Conflict("slug") if taken."""

    async def create_many(self, new: Sequence[NewArticle]) -> list[Article]:
        """Like `create` for every article, in order, all or none."""

    async def update(
        self, article_id: int, edit: ArticleEdit, *, events: Sequence[DomainEvent] = ()
    ) -> Article:
        """Atomic like `create`; raise Conflict("slug") or NotFound("article")."""

    async def delete(self, article_id: int, *, events: Sequence[DomainEvent] = ()) -> None: ...

    async def by_slug(self, slug: str) -> Article | None: ...

    async def by_ids(self, article_ids: Sequence[int]) -> list[Article]:
        """The articles there are of `article_ids`, in no particular order."""

    async def page(self, query: ArticleQuery, window: Window) -> list[Article]:
        """Newest first."""

    async def count(self, query: ArticleQuery) -> int: ...

    async def pages_by_author(
        self, author_ids: Sequence[int], window: Window
    ) -> Mapping[int, list[Article]]:
        """Each author's articles, newest first, the window applied to each author's own
        (absent ids have none)."""

    async def counts_by_author(self, author_ids: Sequence[int]) -> Mapping[int, int]:
        """How many articles each author has (absent ids have none)."""

    async def positions_of(self, article_ids: Sequence[int]) -> Mapping[int, Position]:
        """Where each article that exists among `article_ids` sits in newest-first order."""

    async def tags_of(self, article_ids: Sequence[int]) -> Mapping[int, list[str]]:
        """Sorted tags per article id (absent ids have none)."""

    async def all_tags(self) -> list[str]:
        """Every tag in use, sorted."""

    async def dump(self, after: int | None, limit: int) -> list[ArticleRecord]:
        """Articles with ids above `after`, by id."""

    async def restore(self, records: Sequence[ArticleRecord]) -> None:
        """Each article exactly as given, with exactly the given tags."""


class LikeStore(Store, Outbox, Protocol):
    async def like(
        self, user_id: int, article_id: int, *, events: Sequence[DomainEvent] = ()
    ) -> None:
        """Idempotent; raise ArticleForgotten once `forget_article` ran for the article."""

    async def like_many(self, pairs: Sequence[Like]) -> None:
        """Idempotent; raise ArticleForgotten like `like`."""

    async def unlike(
        self, user_id: int, article_id: int, *, events: Sequence[DomainEvent] = ()
    ) -> None:
        """Idempotent."""

    async def stats(
        self, article_ids: Sequence[int], viewer_id: int | None
    ) -> Mapping[int, LikeStats]:
        """Count and liked-by-viewer per article id (absent ids have no likes)."""

    async def liked_article_ids(self, user_id: int) -> list[int]: ...

    async def liked_article_ids_of(self, user_ids: Sequence[int]) -> Mapping[int, list[int]]:
        """`liked_article_ids` of each user (absent ids like none)."""

    async def forget_article(self, article_id: int) -> None:
        """Remove every like of the article (it was deleted) and refuse any from now on, in
        the same transaction, so that none racing the deletion outlives it. Idempotent."""

    async def dump(self, after: Like | None, limit: int) -> list[Like]:
        """Likes after `after` in (article_id, user_id) order."""

    async def restore(self, records: Sequence[Like]) -> None: ...


class CommentStore(Store, Outbox, Protocol):
    async def add(self, new: NewComment, *, events: EventsOf[Comment] = no_events) -> Comment:
        """Raise ArticleForgotten once `forget_article` ran for the article."""

    async def add_many(self, new: Sequence[NewComment]) -> list[Comment]:
        """Like `add` for every comment, in order, all or none."""

    async def by_id(self, comment_id: int) -> Comment | None: ...

    async def by_ids(self, comment_ids: Sequence[int]) -> list[Comment]:
        """The comments there are of `comment_ids`, in no particular order."""

    async def pages(
        self, article_ids: Sequence[int], window: Window
    ) -> Mapping[int, list[Comment]]:
        """Each article's comments, newest first, the window applied to each article's own
        (absent ids have none)."""

    async def counts(self, article_ids: Sequence[int]) -> Mapping[int, int]:
        """How many comments each article has (absent ids have none)."""

    async def delete(self, comment_id: int, *, events: Sequence[DomainEvent] = ()) -> None: ...

    async def forget_article(self, article_id: int) -> None:
        """Remove every comment of the article (it was deleted) and refuse any from now on, as
        LikeStore.forget_article does likes."""

    async def dump(self, after: int | None, limit: int) -> list[Comment]:
        """Comments with ids above `after`, by id."""

    async def restore(self, records: Sequence[Comment]) -> None: ...


@dataclass(frozen=True)
class Stores:
    users: UserStore
    articles: ArticleStore
    likes: LikeStore
    comments: CommentStore

    def outboxes(self) -> dict[str, Outbox]:
        """Each domain's outbox, by domain."""
        return {
            "users": self.users,
            "articles": self.articles,
            "likes": self.likes,
            "comments": self.comments,
        }

    def by_domain(self) -> dict[str, Store]:
        return {
            "users": self.users,
            "articles": self.articles,
            "likes": self.likes,
            "comments": self.comments,
        }
