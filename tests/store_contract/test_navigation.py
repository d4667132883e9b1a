"""The batched reads behind navigating from profiles: each author's articles and counts, the
articles a set of ids names, each user's likes and each user's follow counts."""

from __future__ import annotations

import pytest

from models.pages import Position, Window
from models.users import Follow, FollowCounts
from stores.protocols import Stores
from tests.store_contract.conftest import at
from tests.store_contract.test_articles import new
from tests.store_contract.test_users import row

pytestmark = pytest.mark.anyio

ALL = Window(limit=None)


async def test_pages_by_author_window_each_authors_newest_first(stores: Stores) -> None:
    a_old, a_tie_1, b_only, a_tie_2, a_new = await stores.articles.create_many(
        [
            new("a-old", at(0), author_id=1),
            new("a-tie-1", at(5), author_id=1),
            new("b-only", at(7), author_id=2),
            new("a-tie-2", at(5), author_id=1),
            new("a-new", at(9), author_id=1),
        ]
    )
    author_1 = [a_new, a_tie_2, a_tie_1, a_old]
    articles = stores.articles

    assert await articles.pages_by_author([1, 2, 3], ALL) == {1: author_1, 2: [b_only]}
    assert await articles.pages_by_author([1, 2], Window(limit=2)) == {
        1: author_1[:2],
        2: [b_only],
    }
    after = Window(limit=2, after=a_tie_2.position)
    assert await articles.pages_by_author([1, 2], after) == {1: author_1[2:]}
    # One author alone takes the same window.
    assert await articles.pages_by_author([1], after) == {1: author_1[2:]}
    assert await articles.pages_by_author([1, 1], Window(limit=1, offset=1)) == {1: author_1[1:2]}
    assert await articles.pages_by_author([], ALL) == {}


async def test_counts_by_author_follow_writes(stores: Stores) -> None:
    first, _, _ = await stores.articles.create_many(
        [new("one", author_id=1), new("two", author_id=1), new("three", author_id=2)]
    )
    counts = await stores.articles.counts_by_author([1, 2, 3])
    assert (counts[1], counts[2], counts.get(3, 0)) == (2, 1, 0)
    await stores.articles.delete(first.id)
    counts = await stores.articles.counts_by_author([1, 2])
    assert (counts[1], counts[2]) == (1, 1)
    assert await stores.articles.counts_by_author([]) == {}


async def test_by_ids_and_positions_skip_missing_articles(stores: Stores) -> None:
    kept, gone = await stores.articles.create_many([new("kept", at(3)), new("gone", at(4))])
    await stores.articles.delete(gone.id)
    ids = [kept.id, gone.id, gone.id + 100]

    assert await stores.articles.by_ids(ids) == [kept]
    assert await stores.articles.positions_of(ids) == {kept.id: Position(at(3), kept.id)}
    assert await stores.articles.by_ids([]) == []
    assert await stores.articles.positions_of([]) == {}


async def test_liked_article_ids_of_each_user(stores: Stores) -> None:
    await stores.likes.like(1, 10)
    await stores.likes.like(1, 11)
    await stores.likes.like(2, 11)

    liked = await stores.likes.liked_article_ids_of([1, 2, 3])
    assert {user: sorted(ids) for user, ids in liked.items()} == {1: [10, 11], 2: [11]}
    assert await stores.likes.liked_article_ids_of([]) == {}


async def test_follow_counts_of_each_user(stores: Stores) -> None:
    alice, bob, carol = await stores.users.create_many([row("alice"), row("bob"), row("carol")])
    await stores.users.follow_many(
        [Follow(alice.id, bob.id), Follow(alice.id, carol.id), Follow(bob.id, carol.id)]
    )
    await stores.users.unfollow(alice.id, carol.id)

    counts = await stores.users.follow_counts([alice.id, bob.id, carol.id, carol.id + 100])
    zero = FollowCounts()
    assert {u: counts.get(u, zero) for u in (alice.id, bob.id, carol.id, carol.id + 100)} == {
        alice.id: FollowCounts(followers=0, following=1),
        bob.id: FollowCounts(followers=1, following=1),
        carol.id: FollowCounts(followers=1, following=0),
        carol.id + 100: zero,
    }
    assert await stores.users.follow_counts([]) == {}
