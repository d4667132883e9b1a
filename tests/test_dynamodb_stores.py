"""The DynamoDB users, likes and comments stores reach their tables in the round trips the
design promises: a page's batch is one BatchGetItem (100 keys a call), a lookup one or two
GetItems, a write one transaction, whatever the size of the batch or the table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from models.comments import NewComment
from models.likes import Like, LikeStats
from models.pages import Window
from models.users import Follow, UserRow
from stores.protocols import Stores
from stores.round_trips import start_counting
from tests.conftest import TEST_BACKENDS
from tests.store_contract.conftest import Room, at, dynamodb

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(
        "dynamodb" not in TEST_BACKENDS, reason="CONDUIT_TEST_BACKENDS leaves out dynamodb"
    ),
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[Stores]:
    async with dynamodb(Room(tmp_path, None)) as opened:
        yield opened


async def test_stats_for_fifty_articles_is_one_batch_get(stores: Stores) -> None:
    articles = list(range(1, 51))
    await stores.likes.like_many([Like(user_id=u, article_id=a) for a in articles for u in (1, 2)])
    counter = start_counting()
    stats = await stores.likes.stats(articles, viewer_id=1)
    assert counter.count == 1
    assert stats == dict.fromkeys(articles, LikeStats(2, True))


async def test_single_writes_are_one_transaction(stores: Stores) -> None:
    counter = start_counting()
    await stores.likes.like(1, 10)
    await stores.likes.like(1, 10)
    await stores.likes.unlike(1, 10)
    assert counter.count == 3


async def test_bulk_likes_take_a_read_and_a_transaction_per_hundred_actions(
    stores: Stores,
) -> None:
    # 120 likes of 3 articles: 120 puts and 3 count updates, two transactions.
    likes = [Like(user_id=u, article_id=a) for a in (1, 2, 3) for u in range(40)]
    counter = start_counting()
    await stores.likes.like_many(likes)
    assert counter.count == 2 + 2  # BatchGetItem 100 keys a call, then two transactions
    assert await stores.likes.stats([1, 2, 3], None) == dict.fromkeys([1, 2, 3], LikeStats(40))


async def test_by_ids_for_150_users_is_two_batch_gets(stores: Stores) -> None:
    rows = [
        UserRow(username=f"user{n}", email=f"user{n}@example.com", password_hash="h")
        for n in range(150)
    ]
    created = await stores.users.create_many(rows)
    counter = start_counting()
    found = await stores.users.by_ids([u.id for u in created])
    assert counter.count == 2
    assert sorted(found, key=lambda u: u.id) == created


async def test_user_lookups_and_registration_round_trips(stores: Stores) -> None:
    counter = start_counting()
    alice = await stores.users.create(
        UserRow(username="alice", email="alice@example.com", password_hash="h")
    )
    assert counter.count == 2  # the id, then one transaction with both claims
    counter = start_counting()
    assert await stores.users.by_username("alice") == alice
    assert await stores.users.by_email("alice@example.com") == alice
    assert await stores.users.by_username("nobody") is None
    assert counter.count == 2 + 2 + 1


async def test_followed_among_fifty_candidates_is_one_batch_get(stores: Stores) -> None:
    await stores.users.follow_many([Follow(1, followee) for followee in range(2, 60, 2)])
    counter = start_counting()
    followed = await stores.users.followed_among(1, list(range(2, 52)))
    assert counter.count == 1
    assert followed == set(range(2, 52, 2))


async def test_a_comment_page_is_one_query_and_a_count_one_get(stores: Stores) -> None:
    added = await stores.comments.add_many(
        [NewComment(article_id=10, author_id=1, body=f"c{n}", created_at=at(n)) for n in range(30)]
    )
    newest_first = sorted(added, key=lambda c: c.position, reverse=True)
    counter = start_counting()
    page = (
        await stores.comments.pages([10], Window(limit=10, after=newest_first[4].position))
    ).get(10, [])
    count = (await stores.comments.counts([10])).get(10, 0)
    assert counter.count == 2
    assert page == newest_first[5:15]
    assert count == 30


async def test_adding_comments_is_one_transaction_per_hundred_actions(stores: Stores) -> None:
    # Two items per comment, plus one count update and one tombstone check per article: 49
    # comments of one article fit.
    batch = [NewComment(article_id=10, author_id=1, body="c", created_at=at(n)) for n in range(49)]
    counter = start_counting()
    await stores.comments.add_many(batch)
    assert counter.count == 1 + 1  # the ids, then one transaction
    counter = start_counting()
    await stores.comments.add_many([*batch, batch[0]])
    assert counter.count == 1 + 2
    assert (await stores.comments.counts([10])).get(10, 0) == 99


async def test_forgetting_an_article_deletes_in_batches_of_25(stores: Stores) -> None:
    await stores.likes.like_many([Like(user_id=u, article_id=10) for u in range(30)])
    counter = start_counting()
    await stores.likes.forget_article(10)
    # The tombstone's PutItem, one Query, 31 deletes in two BatchWriteItems.
    assert counter.count == 1 + 1 + 2
    assert await stores.likes.stats([10], None) == {}
