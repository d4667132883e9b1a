"""Writes racing each other: counts stay exact and unique names have one holder, however many
requests arrive at once (the stores may not read, modify and write)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from typing import TypeVar

import pytest

from models.comments import NewComment
from models.errors import Conflict
from models.likes import LikeStats
from models.pages import Window
from models.users import UserRow
from stores.errors import ArticleForgotten
from stores.protocols import Stores
from tests.store_contract.conftest import at

# slow: left out of `python3 dev.py test --fast`
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

RACERS = 30
T = TypeVar("T")


def row(name: str, email: str | None = None) -> UserRow:
    return UserRow(
        username=name, email=email or f"{name}@example.com", password_hash=f"hash-{name}"
    )


async def race(writes: Iterable[Awaitable[T]]) -> tuple[list[T], list[Conflict]]:
    """Run the writes at once: what succeeded, and the conflicts (any other error fails)."""
    results = await asyncio.gather(*writes, return_exceptions=True)
    conflicts = [r for r in results if isinstance(r, Conflict)]
    failures = [r for r in results if isinstance(r, BaseException) and r not in conflicts]
    assert failures == []
    return [r for r in results if not isinstance(r, BaseException)], conflicts


async def test_concurrent_likes_of_one_article_are_each_counted(stores: Stores) -> None:
    await asyncio.gather(*(stores.likes.like(user_id, 10) for user_id in range(1, RACERS + 1)))
    assert await stores.likes.stats([10], 1) == {10: LikeStats(RACERS, True)}


async def test_concurrent_repeats_of_one_like_count_once(stores: Stores) -> None:
    await asyncio.gather(*(stores.likes.like(1, 10) for _ in range(10)))
    assert await stores.likes.stats([10], 1) == {10: LikeStats(1, True)}
    await asyncio.gather(*(stores.likes.unlike(1, 10) for _ in range(10)))
    assert (await stores.likes.stats([10], 1)).get(10, LikeStats()) == LikeStats()


async def test_concurrent_likes_and_unlikes_leave_the_exact_count(stores: Stores) -> None:
    await stores.likes.like_many([])
    for user_id in range(1, 11):
        await stores.likes.like(user_id, 10)
    await asyncio.gather(
        *(stores.likes.unlike(user_id, 10) for user_id in range(1, 6)),
        *(stores.likes.like(user_id, 10) for user_id in range(11, 21)),
    )
    assert (await stores.likes.stats([10], None))[10] == LikeStats(15, False)
    assert sorted(await stores.likes.liked_article_ids(7)) == [10]


async def test_concurrent_registrations_of_one_username_have_one_winner(stores: Stores) -> None:
    winners, losers = await race(
        stores.users.create(row("racer", f"racer{n}@example.com")) for n in range(10)
    )
    assert len(winners) == 1
    assert [e.fields for e in losers] == [{"username": ["has already been taken"]}] * 9
    assert await stores.users.by_username("racer") == winners[0]


async def test_concurrent_renames_to_one_username_have_one_winner(stores: Stores) -> None:
    users = [await stores.users.create(row(f"user{n}")) for n in range(5)]
    winners, losers = await race(
        stores.users.update(u.id, UserRow(username="wanted")) for u in users
    )
    assert (len(winners), len(losers)) == (1, 4)
    assert await stores.users.by_username("wanted") == winners[0]
    # The losers kept their names, and only the winner's old name is free.
    holders = [await stores.users.by_username(u.username) for u in users]
    assert sum(h is None for h in holders) == 1


async def test_concurrent_comments_on_one_article_are_each_counted(stores: Stores) -> None:
    added = await asyncio.gather(
        *(stores.comments.add(NewComment(10, 1, f"comment {n}", at(n))) for n in range(RACERS))
    )
    assert (await stores.comments.counts([10])).get(10, 0) == RACERS
    # Deleting the same comment many times at once counts it down once.
    await asyncio.gather(*(stores.comments.delete(added[0].id) for _ in range(5)))
    assert (await stores.comments.counts([10])).get(10, 0) == RACERS - 1
    assert len((await stores.comments.pages([10], Window(limit=None))).get(10, [])) == RACERS - 1


async def test_writes_racing_forget_article_are_forgotten_or_refused(stores: Stores) -> None:
    """Comments and likes sent at once with their article's forgetting: each one lands first
    and is forgotten, or comes after and is refused; none remains."""
    article_ids = list(range(10, 15))
    for article_id in article_ids:
        comments = [
            stores.comments.add(NewComment(article_id, user_id, "racing", at(user_id)))
            for user_id in range(RACERS)
        ]
        likes = [stores.likes.like(user_id, article_id) for user_id in range(RACERS)]
        half = RACERS // 2
        results = await asyncio.gather(
            *comments[:half],
            *likes[:half],
            stores.comments.forget_article(article_id),
            stores.likes.forget_article(article_id),
            *comments[half:],
            *likes[half:],
            return_exceptions=True,
        )
        failures = [
            r
            for r in results
            if isinstance(r, BaseException) and not isinstance(r, ArticleForgotten)
        ]
        assert failures == []

    assert await stores.comments.pages(article_ids, Window(limit=None)) == {}
    assert await stores.comments.counts(article_ids) == {}
    assert await stores.likes.stats(article_ids, None) == {}
    assert [await stores.likes.liked_article_ids(u) for u in range(RACERS)] == [[]] * RACERS
