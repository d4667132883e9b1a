"""LikeStore: who likes which article, counted in batches."""

from __future__ import annotations

import pytest

from models.likes import Like, LikeStats
from stores.errors import ArticleForgotten
from stores.protocols import Stores

pytestmark = pytest.mark.anyio

NONE = LikeStats()


async def test_like_and_unlike_are_idempotent(stores: Stores) -> None:
    await stores.likes.like(1, 10)
    await stores.likes.like(1, 10)
    assert await stores.likes.stats([10], 1) == {10: LikeStats(1, True)}

    await stores.likes.unlike(1, 10)
    await stores.likes.unlike(1, 10)
    await stores.likes.unlike(2, 10)  # never liked: still fine
    assert (await stores.likes.stats([10], 1)).get(10, NONE) == NONE

    await stores.likes.like(1, 10)  # liking again after unliking
    assert await stores.likes.stats([10], 1) == {10: LikeStats(1, True)}


async def test_stats_count_every_liker_and_whether_the_viewer_is_one(stores: Stores) -> None:
    for user_id, article_id in [(1, 10), (2, 10), (3, 10), (2, 20), (3, 30)]:
        await stores.likes.like(user_id, article_id)
    ids = [10, 20, 30, 40, 10]

    as_two = await stores.likes.stats(ids, 2)
    assert as_two.get(10) == LikeStats(3, True)
    assert as_two.get(20) == LikeStats(1, True)
    assert as_two.get(30) == LikeStats(1, False)
    assert as_two.get(40, NONE) == NONE

    anonymous = await stores.likes.stats(ids, None)
    assert anonymous.get(10) == LikeStats(3, False)
    assert anonymous.get(20) == LikeStats(1, False)
    assert anonymous.get(30) == LikeStats(1, False)
    assert anonymous.get(40, NONE) == NONE

    stranger = await stores.likes.stats(ids, 99)
    assert [stranger.get(i, NONE) for i in (10, 20, 30, 40)] == [
        LikeStats(3, False),
        LikeStats(1, False),
        LikeStats(1, False),
        NONE,
    ]
    assert set(as_two) | set(anonymous) | set(stranger) <= {10, 20, 30, 40}
    assert await stores.likes.stats([], 2) == {}
    assert await stores.likes.stats([], None) == {}


async def test_liked_article_ids(stores: Stores) -> None:
    for user_id, article_id in [(1, 10), (1, 30), (2, 10), (1, 20)]:
        await stores.likes.like(user_id, article_id)
    await stores.likes.like(1, 30)
    await stores.likes.unlike(1, 20)
    assert sorted(await stores.likes.liked_article_ids(1)) == [10, 30]
    assert await stores.likes.liked_article_ids(2) == [10]
    assert await stores.likes.liked_article_ids(3) == []


async def test_forget_article_removes_only_its_likes(stores: Stores) -> None:
    for user_id, article_id in [(1, 10), (2, 10), (1, 20), (3, 20)]:
        await stores.likes.like(user_id, article_id)
    await stores.likes.forget_article(10)
    await stores.likes.forget_article(10)  # again, and for an article nobody liked: harmless
    await stores.likes.forget_article(99)
    stats = await stores.likes.stats([10, 20], 1)
    assert stats.get(10, NONE) == NONE
    assert stats.get(20) == LikeStats(2, True)
    assert await stores.likes.liked_article_ids(1) == [20]
    assert await stores.likes.liked_article_ids(2) == []
    assert await stores.likes.liked_article_ids(3) == [20]


async def test_a_forgotten_articles_likes_are_refused_from_then_on(stores: Stores) -> None:
    """A like racing its article's deletion either lands before forget_article, which takes
    it, or after, and is refused: none outlives the article."""
    await stores.likes.like(1, 10)
    await stores.likes.forget_article(10)
    with pytest.raises(ArticleForgotten) as refused:
        await stores.likes.like(2, 10)
    assert refused.value.article_id == 10
    await stores.likes.forget_article(10)  # the event again: still refused
    with pytest.raises(ArticleForgotten):
        await stores.likes.like(1, 10)
    with pytest.raises(ArticleForgotten):
        await stores.likes.like_many([Like(3, 20), Like(3, 10)])
    await stores.likes.unlike(1, 10)  # nothing to undo: fine

    assert await stores.likes.stats([10, 20], 3) == {}
    assert [await stores.likes.liked_article_ids(u) for u in (1, 2, 3)] == [[], [], []]
    await stores.likes.like(3, 20)
    assert await stores.likes.stats([10, 20], 3) == {20: LikeStats(1, True)}
