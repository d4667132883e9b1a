"""Domain events: what happened, in the past tense, recorded with the write that made it so and
relayed from there (events.relay). Plain data: how they travel (events.wire), who receives them
(events.subscriptions) and the buses (events.in_process, events.eventbridge) live beside
them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Protocol
from uuid import uuid4

from models import clock


def new_event_id() -> str:
    return uuid4().hex


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """`event_id` tells a redelivery from a new event; `publisher` is the domain whose write
    raised it."""

    publisher: ClassVar[str]
    event_id: str = field(default_factory=new_event_id)
    occurred_at: datetime = field(default_factory=clock.now)


@dataclass(frozen=True)
class ArticleCreated(DomainEvent):
    publisher: ClassVar[str] = "articles"
    article_id: int
    author_id: int


@dataclass(frozen=True)
class ArticleUpdated(DomainEvent):
    publisher: ClassVar[str] = "articles"
    article_id: int


@dataclass(frozen=True)
class ArticleDeleted(DomainEvent):
    publisher: ClassVar[str] = "articles"
    article_id: int


@dataclass(frozen=True)
class UserUpdated(DomainEvent):
    publisher: ClassVar[str] = "users"
    user_id: int


@dataclass(frozen=True)
class Followed(DomainEvent):
    publisher: ClassVar[str] = "users"
    follower_id: int
    followee_id: int


@dataclass(frozen=True)
class Unfollowed(DomainEvent):
    publisher: ClassVar[str] = "users"
    follower_id: int
    followee_id: int


@dataclass(frozen=True)
class Liked(DomainEvent):
    publisher: ClassVar[str] = "likes"
    user_id: int
    article_id: int


@dataclass(frozen=True)
class Unliked(DomainEvent):
    publisher: ClassVar[str] = "likes"
    user_id: int
    article_id: int


@dataclass(frozen=True)
class Commented(DomainEvent):
    publisher: ClassVar[str] = "comments"
    comment_id: int
    article_id: int
    author_id: int


@dataclass(frozen=True)
class CommentDeleted(DomainEvent):
    publisher: ClassVar[str] = "comments"
    comment_id: int
    article_id: int


EVENT_TYPES: tuple[type[DomainEvent], ...] = (
    ArticleCreated,
    ArticleUpdated,
    ArticleDeleted,
    UserUpdated,
    Followed,
    Unfollowed,
    Liked,
    Unliked,
    Commented,
    CommentDeleted,
)


class EventBus(Protocol):
    async def publish(self, event: DomainEvent) -> None:
        """Deliver the event to its subscribers, or park it; never raise for a subscriber."""
