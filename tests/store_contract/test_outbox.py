"""The transactional outbox of every publishing store: a write records its events with itself,
unless it is refused; a claim takes the stale entries once, however many
relays claim at once; a relay pass sends what a request left behind, and forgets it."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from events import (
    ArticleCreated,
    ArticleDeleted,
    ArticleUpdated,
    CommentDeleted,
    Commented,
    DomainEvent,
    Followed,
    Liked,
    Unfollowed,
    Unliked,
    UserUpdated,
)
from events.relay import Outbox, Relay
from models import clock
from models.articles import Article, ArticleEdit
from models.comments import Comment, NewComment
from models.errors import Conflict, NotFound
from models.likes import LikeStats
from models.users import UserRow
from models.validation import MISSING
from stores.protocols import Stores
from tests.store_contract.test_articles import new

pytestmark = pytest.mark.anyio

LEASE = timedelta(seconds=30)


def later() -> datetime:
    """A `stale_before` that every claim made so far is older than."""
    return clock.now() + timedelta(seconds=1)


async def recorded(outbox: Outbox) -> set[DomainEvent]:
    """What the outbox holds, claimed (whatever their claims) and forgotten."""
    found = await outbox.claim_events(later(), 1000)
    await outbox.forget_events(found)
    return set(found)


def editing(article: Article) -> ArticleEdit:
    return ArticleEdit(
        slug=article.slug,
        title="New",
        description="New",
        body="New",
        tags=MISSING,
        updated_at=clock.now(),
    )


class Sent:
    """A bus that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    async def publish(self, event: DomainEvent) -> None:
        self.events.append(event)


async def test_each_article_write_records_its_event_with_it(stores: Stores) -> None:
    made: list[DomainEvent] = []

    def created(article: Article) -> Sequence[DomainEvent]:
        made.append(ArticleCreated(article.id, article.author_id))
        return made[-1:]

    article = await stores.articles.create(new("a"), events=created)
    updated, deleted = ArticleUpdated(article.id), ArticleDeleted(article.id)
    await stores.articles.update(article.id, editing(article), events=[updated])
    await stores.articles.delete(article.id, events=[deleted])

    assert [type(e) for e in made] == [ArticleCreated]
    assert await recorded(stores.articles) == {*made, updated, deleted}
    assert await recorded(stores.articles) == set()


async def test_user_like_and_comment_writes_record_their_events(stores: Stores) -> None:
    user = await stores.users.create(UserRow(username="u", email="u@x.io", password_hash="h"))
    updated = UserUpdated(user.id)
    followed, unfollowed = Followed(user.id, 9), Unfollowed(user.id, 9)
    await stores.users.update(user.id, UserRow(bio="hi"), events=[updated])
    await stores.users.follow(user.id, 9, events=[followed])
    await stores.users.unfollow(user.id, 9, events=[unfollowed])
    assert await recorded(stores.users) == {updated, followed, unfollowed}

    liked, unliked = Liked(user.id, 5), Unliked(user.id, 5)
    await stores.likes.like(user.id, 5, events=[liked])
    await stores.likes.unlike(user.id, 5, events=[unliked])
    assert await recorded(stores.likes) == {liked, unliked}

    made: list[DomainEvent] = []

    def commented(comment: Comment) -> Sequence[DomainEvent]:
        made.append(Commented(comment.id, comment.article_id, comment.author_id))
        return made[-1:]

    comment = await stores.comments.add(
        NewComment(article_id=5, author_id=user.id, body="b", created_at=clock.now()),
        events=commented,
    )
    gone = CommentDeleted(comment.id, 5)
    await stores.comments.delete(comment.id, events=[gone])
    assert await recorded(stores.comments) == {*made, gone}


async def test_a_refused_write_records_nothing(stores: Stores) -> None:
    article = await stores.articles.create(new("taken"))
    with pytest.raises(Conflict):
        await stores.articles.create(
            new("taken"), events=lambda a: [ArticleCreated(a.id, a.author_id)]
        )
    with pytest.raises(NotFound):
        await stores.articles.update(article.id + 1, editing(article), events=[ArticleUpdated(1)])
    assert await recorded(stores.articles) == set()
    with pytest.raises(NotFound):
        await stores.users.update(404, UserRow(bio="x"), events=[UserUpdated(404)])
    assert await recorded(stores.users) == set()


async def test_a_write_with_nothing_to_change_still_records_its_events(stores: Stores) -> None:
    """What the request that called it delivers is then what is recorded."""
    deleted = ArticleDeleted(404)
    await stores.articles.delete(404, events=[deleted])
    assert await recorded(stores.articles) == {deleted}

    await stores.users.follow(1, 2)
    followed, unfollowed = Followed(1, 2), Unfollowed(1, 3)
    await stores.users.follow(1, 2, events=[followed])  # following already
    await stores.users.unfollow(1, 3, events=[unfollowed])  # never followed
    assert await recorded(stores.users) == {followed, unfollowed}

    await stores.likes.like(1, 10)
    liked, unliked = Liked(1, 10), Unliked(2, 10)
    await stores.likes.like(1, 10, events=[liked])
    await stores.likes.unlike(2, 10, events=[unliked])
    assert await recorded(stores.likes) == {liked, unliked}
    assert await stores.likes.stats([10], None) == {10: LikeStats(1, False)}

    gone = CommentDeleted(404, 1)
    await stores.comments.delete(404, events=[gone])
    assert await recorded(stores.comments) == {gone}


async def test_a_claim_takes_only_stale_entries_and_claims_them_anew(stores: Stores) -> None:
    liked = Liked(1, 10)
    await stores.likes.like(1, 10, events=[liked])
    # The writer's own claim is fresh: no relay takes the entry before it is stale.
    assert await stores.likes.claim_events(clock.now() - LEASE, 10) == []

    assert await stores.likes.claim_events(later(), 10) == [liked]
    assert await stores.likes.claim_events(clock.now() - LEASE, 10) == []  # claimed again
    assert await stores.likes.claim_events(later(), 10) == [liked]  # stale again: sent again

    await stores.likes.forget_events([liked])
    await stores.likes.forget_events([liked])  # forgotten already: nothing to do
    assert await stores.likes.claim_events(later(), 10) == []


async def test_relays_claiming_at_once_never_take_the_same_entry(stores: Stores) -> None:
    events = [Liked(user, 10) for user in range(1, 41)]
    for event in events:
        await stores.likes.like(event.user_id, 10, events=[event])
    await asyncio.sleep(0.01)
    # Every recorded claim is older; every claim made from now on is not.
    stale_before = clock.now()

    taken: list[str] = []
    while True:  # rounds of 4 relays claiming at once, until none finds anything left
        claims = await asyncio.gather(
            *(stores.likes.claim_events(stale_before, 10) for _ in range(4))
        )
        if not any(claims):
            break
        taken += [e.event_id for claim in claims for e in claim]

    assert sorted(taken) == sorted(e.event_id for e in events)  # each once


async def test_a_relay_pass_sends_what_no_request_delivered_once_stale(stores: Stores) -> None:
    bus = Sent()
    relay = Relay(stores.outboxes(), bus, lease=timedelta(0))
    delivered, left = ArticleDeleted(1), ArticleDeleted(2)
    for event in (delivered, left):
        await stores.articles.delete(
            (await stores.articles.create(new(f"a{event.article_id}"))).id, events=[event]
        )
    await relay.deliver([delivered])  # the request of `left` died before delivering it
    assert bus.events == [delivered]
    await asyncio.sleep(0.01)  # past the moment of the writer's claim

    assert await relay.relay_stale() == 1
    assert bus.events == [delivered, left]
    assert await relay.relay_stale() == 0  # sent, and forgotten

    waiting = Relay(stores.outboxes(), bus, lease=LEASE)
    await stores.likes.like(1, 10, events=[Liked(1, 10)])
    assert await waiting.relay_stale() == 0  # its writer's claim is not stale yet
