"""The `*_many` writes: whole batches in order, all or none, idempotent where the single write
is; what they write reads back exactly like what the single writes write."""

from __future__ import annotations

import pytest

from models.articles import ArticleQuery
from models.comments import NewComment
from models.errors import Conflict
from models.likes import Like, LikeStats
from models.pages import Window
from models.users import Follow, UserRow
from stores.protocols import Stores
from tests.store_contract.conftest import at
from tests.store_contract.test_articles import new as new_article

pytestmark = pytest.mark.anyio

ALL = Window(limit=None)


def row(name: str) -> UserRow:
    return UserRow(username=name, email=f"{name}@example.com", password_hash=f"hash-{name}")


async def test_users_are_created_in_order(stores: Stores) -> None:
    assert await stores.users.create_many([]) == []
    created = await stores.users.create_many([row("b"), row("a"), row("c")])
    assert [u.username for u in created] == ["b", "a", "c"]
    assert len({u.id for u in created}) == 3
    assert all(u.bio is None and u.image is None for u in created)
    assert sorted(await stores.users.by_ids([u.id for u in created]), key=lambda u: u.id) == sorted(
        created, key=lambda u: u.id
    )
    assert await stores.users.by_email("a@example.com") == created[1]


async def test_users_with_a_taken_name_or_email_write_none(stores: Stores) -> None:
    await stores.users.create(row("taken"))
    clash = UserRow(username="fresh2", email="taken@example.com", password_hash="h")
    with pytest.raises(Conflict) as raised:
        await stores.users.create_many([row("fresh1"), clash])
    assert raised.value.fields == {"email": ["has already been taken"]}
    assert await stores.users.by_username("fresh1") is None
    with pytest.raises(Conflict):
        await stores.users.create_many([row("twin"), row("twin")])
    assert await stores.users.by_username("twin") is None


async def test_follows_are_idempotent(stores: Stores) -> None:
    await stores.users.follow_many([])
    await stores.users.follow(1, 2)
    await stores.users.follow_many([Follow(1, 2), Follow(1, 3), Follow(1, 3), Follow(4, 1)])
    assert sorted(await stores.users.followees(1)) == [2, 3]
    assert await stores.users.followees(4) == [1]
    assert await stores.users.followed_among(1, [2, 3, 4]) == {2, 3}


async def test_articles_are_created_in_order_with_their_tags(stores: Stores) -> None:
    assert await stores.articles.create_many([]) == []
    batch = [
        new_article("older", at(0), author_id=1, tags=("b", "a")),
        new_article("newer", at(10), author_id=2),
        new_article("middle", at(5), author_id=1, tags=("a",)),
    ]
    created = await stores.articles.create_many(batch)
    assert [(a.slug, a.author_id, a.created_at) for a in created] == [
        (n.slug, n.author_id, n.created_at) for n in batch
    ]
    assert all(a.updated_at == a.created_at for a in created)
    ids = [a.id for a in created]
    assert await stores.articles.tags_of(ids) == {ids[0]: ["a", "b"], ids[2]: ["a"]}
    page = await stores.articles.page(ArticleQuery(tag="a"), ALL)
    assert [a.slug for a in page] == ["middle", "older"]
    assert await stores.articles.by_slug("newer") == created[1]


async def test_articles_with_a_taken_slug_write_none(stores: Stores) -> None:
    await stores.articles.create(new_article("taken", at(0)))
    with pytest.raises(Conflict) as raised:
        await stores.articles.create_many(
            [new_article("fresh", at(1), tags=("t",)), new_article("taken", at(2))]
        )
    assert raised.value.fields == {"slug": ["has already been taken"]}
    assert await stores.articles.by_slug("fresh") is None
    assert await stores.articles.count(ArticleQuery()) == 1
    assert await stores.articles.all_tags() == []


async def test_likes_are_idempotent(stores: Stores) -> None:
    await stores.likes.like_many([])
    await stores.likes.like(1, 10)
    await stores.likes.like_many([Like(1, 10), Like(2, 10), Like(2, 10), Like(2, 20)])
    assert await stores.likes.stats([10, 20], 2) == {10: LikeStats(2, True), 20: LikeStats(1, True)}
    assert sorted(await stores.likes.liked_article_ids(2)) == [10, 20]


async def test_comments_are_added_in_order(stores: Stores) -> None:
    assert await stores.comments.add_many([]) == []
    batch = [
        NewComment(article_id=10, author_id=1, body="first", created_at=at(0)),
        NewComment(article_id=20, author_id=2, body="elsewhere", created_at=at(1)),
        NewComment(article_id=10, author_id=3, body="second", created_at=at(2)),
    ]
    added = await stores.comments.add_many(batch)
    assert [(c.article_id, c.author_id, c.body, c.created_at) for c in added] == [
        (n.article_id, n.author_id, n.body, n.created_at) for n in batch
    ]
    assert [c.body for c in (await stores.comments.pages([10], ALL)).get(10, [])] == [
        "second",
        "first",
    ]
    assert await stores.comments.by_id(added[1].id) == added[1]
    assert (await stores.comments.counts([10])).get(10, 0) == 2
