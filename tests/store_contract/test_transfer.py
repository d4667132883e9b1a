"""dump and restore on every store: key order, exact round trips, idempotence, replacement, and
ids handed out afterwards (what copying a domain between backends relies on)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from models.articles import Article, ArticleQuery, ArticleRecord, NewArticle
from models.comments import Comment, NewComment
from models.errors import Conflict
from models.likes import Like, LikeStats
from models.users import User, UserRecord, UserRow
from stores.protocols import Stores
from tests.store_contract.conftest import at

pytestmark = pytest.mark.anyio


def user(ident: int, *followees: int) -> UserRecord:
    return UserRecord(
        User(
            id=ident,
            username=f"user{ident}",
            email=f"user{ident}@example.com",
            password_hash=f"hash-{ident}",
            bio=f"bio of {ident}" if ident % 2 else None,
            image=None if ident % 2 else f"https://example.com/{ident}.png",
            created_at=at(ident),
            updated_at=at(ident + 500),
            credential_version=ident % 3,
        ),
        followees,
    )


def article(ident: int, *tags: str, title: str | None = None) -> ArticleRecord:
    return ArticleRecord(
        Article(
            id=ident,
            slug=f"article-{ident}",
            title=title or f"Title {ident}",
            description=f"About {ident}",
            body=f"Body of {ident}\nsecond line",
            author_id=ident % 3 + 1,
            created_at=at(10 * ident),
            updated_at=at(10 * ident + 7),
        ),
        tags,
    )


def comment(ident: int, article_id: int, body: str | None = None) -> Comment:
    return Comment(
        id=ident,
        article_id=article_id,
        author_id=ident % 4 + 1,
        body=body or f"Comment {ident}",
        created_at=at(ident),
        updated_at=at(ident + 3),
    )


async def test_stores_start_with_nothing_to_dump(stores: Stores) -> None:
    assert await stores.users.dump(None, 10) == []
    assert await stores.articles.dump(None, 10) == []
    assert await stores.likes.dump(None, 10) == []
    assert await stores.comments.dump(None, 10) == []


async def test_users_dump_in_id_order_a_batch_after_a_key(stores: Stores) -> None:
    created = await stores.users.create_many(
        [UserRow(username=f"u{n}", email=f"u{n}@example.com", password_hash="h") for n in range(5)]
    )
    await stores.users.follow(created[1].id, created[0].id)
    await stores.users.follow(created[1].id, created[4].id)
    pages = [await stores.users.dump(None, 2)]
    while pages[-1]:
        pages.append(await stores.users.dump(pages[-1][-1].user.id, 2))
    assert [len(p) for p in pages] == [2, 2, 1, 0]
    dumped = [r for p in pages for r in p]
    assert [r.user for r in dumped] == sorted(created, key=lambda u: u.id)
    followees = {r.user.id: sorted(r.followee_ids) for r in dumped}
    assert followees[created[1].id] == sorted([created[0].id, created[4].id])
    assert sum(len(f) for f in followees.values()) == 2


async def test_articles_dump_in_id_order_with_their_tags(stores: Stores) -> None:
    created = await stores.articles.create_many(
        [
            NewArticle(f"s{n}", f"T{n}", "d", "b", ("x", f"t{n}"), n + 1, at(100 - n))
            for n in range(5)
        ]
    )
    first = await stores.articles.dump(None, 3)
    rest = await stores.articles.dump(first[-1].article.id, 3)
    assert await stores.articles.dump(rest[-1].article.id, 3) == []
    assert [r.article for r in first + rest] == sorted(created, key=lambda a: a.id)
    assert [r.tags for r in first + rest] == [
        ("t0", "x"),
        ("t1", "x"),
        ("t2", "x"),
        ("t3", "x"),
        ("t4", "x"),
    ]


async def test_likes_dump_in_article_then_user_order(stores: Stores) -> None:
    likes = [Like(user_id=u, article_id=a) for a in (12, 3, 7) for u in (9, 2, 30)]
    await stores.likes.like_many(likes)
    dumped: list[Like] = []
    after: Like | None = None
    while page := await stores.likes.dump(after, 4):
        dumped += page
        after = page[-1]
    assert dumped == sorted(likes, key=lambda like: (like.article_id, like.user_id))


async def test_comments_dump_in_id_order(stores: Stores) -> None:
    added = await stores.comments.add_many(
        [
            NewComment(article_id=n % 2 + 1, author_id=1, body=f"c{n}", created_at=at(n))
            for n in range(5)
        ]
    )
    first = await stores.comments.dump(None, 4)
    assert first + await stores.comments.dump(first[-1].id, 4) == sorted(added, key=lambda c: c.id)


async def test_restored_records_dump_exactly_as_given(stores: Stores) -> None:
    users = [user(3, 5, 8), user(5), user(8, 3)]
    articles = [article(2, "a", "b"), article(9), article(40, "z")]
    likes = [
        Like(user_id=3, article_id=2),
        Like(user_id=8, article_id=2),
        Like(user_id=5, article_id=9),
    ]
    comments = [comment(4, 2), comment(6, 9), comment(70, 2)]
    await stores.users.restore(users)
    await stores.articles.restore(articles)
    await stores.likes.restore(likes)
    await stores.comments.restore(comments)
    assert await stores.users.dump(None, 10) == users
    assert await stores.articles.dump(None, 10) == articles
    assert await stores.likes.dump(None, 10) == likes
    assert await stores.comments.dump(None, 10) == comments


async def test_restoring_twice_leaves_what_restoring_once_does(stores: Stores) -> None:
    for _ in range(2):
        await stores.users.restore([user(1, 2), user(2)])
        await stores.articles.restore([article(1, "go", "rust"), article(2, "go")])
        await stores.likes.restore([Like(user_id=1, article_id=1), Like(user_id=2, article_id=1)])
        await stores.comments.restore([comment(1, 1), comment(2, 1)])

    assert await stores.users.followees(1) == [2]
    assert await stores.users.by_username("user2") == user(2).user
    assert await stores.users.by_email("user1@example.com") == user(1).user
    with pytest.raises(Conflict) as taken:
        await stores.users.create(
            UserRow(username="user1", email="user1@example.com", password_hash="h")
        )
    assert set(taken.value.fields) == {"username", "email"}

    assert await stores.articles.count(ArticleQuery()) == 2
    assert await stores.articles.count(ArticleQuery(tag="go")) == 2
    assert await stores.articles.count(ArticleQuery(author_ids=(2,))) == 1
    assert await stores.articles.all_tags() == ["go", "rust"]
    assert await stores.articles.by_slug("article-1") == article(1).article
    with pytest.raises(Conflict):
        await stores.articles.create(NewArticle("article-2", "T", "d", "b", (), 1, at(0)))

    assert await stores.likes.stats([1], viewer_id=2) == {
        1: LikeStats(count=2, liked_by_viewer=True)
    }
    assert (await stores.comments.counts([1])).get(1, 0) == 2


async def test_restoring_over_a_record_replaces_it(stores: Stores) -> None:
    await stores.users.restore([user(1, 2, 3), user(2), user(3)])
    await stores.articles.restore([article(1, "old", "kept")])
    await stores.comments.restore([comment(1, 1)])

    renamed = replace(user(1).user, username="renamed", bio="new bio")
    await stores.users.restore([UserRecord(renamed, (3,))])
    retitled = replace(article(1).article, slug="new-slug", title="New title")
    await stores.articles.restore([ArticleRecord(retitled, ("kept", "new"))])
    await stores.comments.restore([comment(1, 1, body="edited")])

    assert await stores.users.dump(None, 1) == [UserRecord(renamed, (3,))]
    assert await stores.users.followees(1) == [3]
    assert await stores.users.by_username("user1") is None
    assert await stores.users.by_username("renamed") == renamed
    # The old name is free again.
    await stores.users.create(
        UserRow(username="user1", email="other@example.com", password_hash="h")
    )

    assert await stores.articles.dump(None, 10) == [ArticleRecord(retitled, ("kept", "new"))]
    assert await stores.articles.by_slug("article-1") is None
    assert await stores.articles.all_tags() == ["kept", "new"]
    assert await stores.articles.count(ArticleQuery(tag="old")) == 0
    assert await stores.articles.count(ArticleQuery(tag="new")) == 1
    assert await stores.comments.by_id(1) == comment(1, 1, body="edited")
    assert (await stores.comments.counts([1])).get(1, 0) == 1


async def test_ids_handed_out_after_a_restore_exceed_the_restored_ones(stores: Stores) -> None:
    await stores.users.restore([user(70)])
    await stores.articles.restore([article(80)])
    await stores.comments.restore([comment(90, 80)])

    created_user = await stores.users.create(
        UserRow(username="new", email="new@example.com", password_hash="h")
    )
    created_article = await stores.articles.create(NewArticle("new", "T", "d", "b", (), 1, at(0)))
    added = await stores.comments.add(
        NewComment(article_id=80, author_id=1, body="c", created_at=at(0))
    )
    assert created_user.id > 70
    assert created_article.id > 80
    assert added.id > 90


async def test_restoring_low_ids_never_hands_out_an_id_again(stores: Stores) -> None:
    made = await stores.articles.create_many(
        [NewArticle(f"a{n}", "T", "d", "b", (), 1, at(n)) for n in range(3)]
    )
    await stores.articles.restore([article(made[0].id, title="restored over the first")])
    later = await stores.articles.create(NewArticle("later", "T", "d", "b", (), 1, at(9)))
    assert later.id > max(a.id for a in made)
