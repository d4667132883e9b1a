"""CommentStore: comments per article, newest first."""

from __future__ import annotations

from datetime import datetime

import pytest

from models import clock
from models.comments import NewComment
from models.pages import Window
from stores.errors import ArticleForgotten
from stores.protocols import Stores
from tests.store_contract.conftest import at

pytestmark = pytest.mark.anyio

ALL = Window(limit=None)


def new(
    article_id: int, body: str, created_at: datetime | None = None, author_id: int = 1
) -> NewComment:
    return NewComment(
        article_id=article_id,
        author_id=author_id,
        body=body,
        created_at=created_at or clock.now(),
    )


async def test_add_returns_the_stored_comment(stores: Stores) -> None:
    added = await stores.comments.add(new(10, "Nice\nwork", at(0), author_id=7))
    assert added.id > 0
    assert (added.article_id, added.author_id, added.body) == (10, 7, "Nice\nwork")
    assert added.created_at == at(0)
    assert added.updated_at == at(0)
    assert await stores.comments.by_id(added.id) == added


async def test_by_id_of_a_missing_comment_is_none(stores: Stores) -> None:
    added = await stores.comments.add(new(10, "hi"))
    assert await stores.comments.by_id(added.id + 1000) is None


async def test_by_ids_finds_the_comments_there_are(stores: Stores) -> None:
    one = await stores.comments.add(new(10, "one", at(0)))
    two = await stores.comments.add(new(20, "two", at(1)))
    gone = await stores.comments.add(new(10, "gone", at(2)))
    await stores.comments.delete(gone.id)
    found = await stores.comments.by_ids([two.id, gone.id, one.id, two.id + 1000, one.id])
    assert sorted(found, key=lambda c: c.id) == [one, two]
    assert await stores.comments.by_ids([]) == []


async def test_page_is_newest_first_per_article_with_ties_broken_by_id(stores: Stores) -> None:
    middle = await stores.comments.add(new(10, "middle", at(5)))
    oldest = await stores.comments.add(new(10, "oldest", at(0)))
    tie_1 = await stores.comments.add(new(10, "tie 1", at(9)))
    await stores.comments.add(new(20, "elsewhere", at(7)))
    tie_2 = await stores.comments.add(new(10, "tie 2", at(9)))
    newest = await stores.comments.add(new(10, "newest", at(12)))
    ties = sorted([tie_1, tie_2], key=lambda c: c.id, reverse=True)
    order = [newest, *ties, middle, oldest]

    assert (await stores.comments.pages([10], ALL)).get(10, []) == order
    assert (await stores.comments.pages([10], Window(limit=2))).get(10, []) == order[:2]
    assert (await stores.comments.pages([10], Window(limit=2, offset=3))).get(10, []) == order[3:]
    assert (await stores.comments.pages([10], Window(limit=None, offset=5))).get(10, []) == []
    assert (await stores.comments.pages([99], ALL)).get(99, []) == []
    for i, comment in enumerate(order):
        assert (await stores.comments.pages([10], Window(limit=None, after=comment.position))).get(
            10, []
        ) == (order[i + 1 :]), i
        assert (await stores.comments.pages([10], Window(limit=1, after=comment.position))).get(
            10, []
        ) == (order[i + 1 : i + 2]), i


async def test_pages_of_several_articles_apply_the_window_to_each(stores: Stores) -> None:
    by_article = {
        a: [await stores.comments.add(new(a, f"{a}-{i}", at(i * 2 + a % 2))) for i in range(4)]
        for a in (10, 11, 12)
    }
    newest_first = {a: list(reversed(found)) for a, found in by_article.items()}
    wanted = [10, 11, 99, 10]  # a repeated id, and one with no comments

    assert await stores.comments.pages(wanted, ALL) == {10: newest_first[10], 11: newest_first[11]}
    assert await stores.comments.pages(wanted, Window(limit=2)) == {
        10: newest_first[10][:2],
        11: newest_first[11][:2],
    }
    assert await stores.comments.pages(wanted, Window(limit=2, offset=1)) == {
        10: newest_first[10][1:3],
        11: newest_first[11][1:3],
    }
    cursor = newest_first[10][1].position  # between article 11's second and third comments
    assert await stores.comments.pages([10, 11, 12], Window(limit=5, after=cursor)) == {
        10: newest_first[10][2:],
        11: newest_first[11][2:],
        12: newest_first[12][2:],
    }
    assert await stores.comments.pages([], ALL) == {}
    assert await stores.comments.pages([99], Window(limit=3)) == {}


async def test_counts_of_several_articles(stores: Stores) -> None:
    for article_id, n in ((10, 3), (11, 1)):
        for i in range(n):
            await stores.comments.add(new(article_id, f"comment {i}"))
    assert await stores.comments.counts([10, 11, 99, 10]) == {10: 3, 11: 1}
    assert await stores.comments.counts([]) == {}


async def test_count_per_article(stores: Stores) -> None:
    for body in ("a", "b", "c"):
        await stores.comments.add(new(10, body))
    await stores.comments.add(new(20, "d"))
    assert (await stores.comments.counts([10])).get(10, 0) == 3
    assert (await stores.comments.counts([20])).get(20, 0) == 1
    assert (await stores.comments.counts([99])).get(99, 0) == 0


async def test_delete_removes_one_comment(stores: Stores) -> None:
    kept = await stores.comments.add(new(10, "kept", at(0)))
    gone = await stores.comments.add(new(10, "gone", at(1)))
    await stores.comments.delete(gone.id)
    assert await stores.comments.by_id(gone.id) is None
    assert await stores.comments.by_id(kept.id) == kept
    assert (await stores.comments.pages([10], ALL)).get(10, []) == [kept]
    assert (await stores.comments.counts([10])).get(10, 0) == 1
    await stores.comments.delete(gone.id)  # again, or a comment that never was: harmless
    await stores.comments.delete(gone.id + 1000)
    assert (await stores.comments.counts([10])).get(10, 0) == 1


async def test_forget_article_removes_only_its_comments(stores: Stores) -> None:
    gone = [await stores.comments.add(new(10, f"gone {i}", at(i))) for i in range(3)]
    kept = await stores.comments.add(new(20, "kept", at(0)))
    await stores.comments.forget_article(10)
    await stores.comments.forget_article(10)
    await stores.comments.forget_article(99)
    assert (await stores.comments.pages([10], ALL)).get(10, []) == []
    assert (await stores.comments.counts([10])).get(10, 0) == 0
    assert [await stores.comments.by_id(c.id) for c in gone] == [None, None, None]
    assert (await stores.comments.pages([20], ALL)).get(20, []) == [kept]


async def test_a_forgotten_articles_comments_are_refused_from_then_on(stores: Stores) -> None:
    """A comment racing its article's deletion either lands before forget_article, which takes
    it, or after, and is refused: none outlives the article."""
    raced = await stores.comments.add(new(10, "just in time", at(0)))
    await stores.comments.forget_article(10)
    assert await stores.comments.by_id(raced.id) is None
    with pytest.raises(ArticleForgotten) as refused:
        await stores.comments.add(new(10, "too late", at(1)))
    assert refused.value.article_id == 10
    await stores.comments.forget_article(10)  # the event again: still refused
    with pytest.raises(ArticleForgotten):
        await stores.comments.add_many([new(20, "fine", at(2)), new(10, "too late", at(3))])

    assert (await stores.comments.pages([10, 20], ALL)) == {}
    assert await stores.comments.counts([10, 20]) == {}
    assert (await stores.comments.add(new(20, "fine", at(4)))).article_id == 20


async def test_the_id_of_the_newest_deleted_comment_is_never_given_again(stores: Stores) -> None:
    older = await stores.comments.add(new(10, "older", at(0)))
    newest = await stores.comments.add(new(10, "newest", at(1)))
    await stores.comments.delete(newest.id)
    again = await stores.comments.add(new(10, "again", at(2)))
    await stores.comments.forget_article(10)
    elsewhere = await stores.comments.add(new(20, "elsewhere", at(3)))
    assert older.id < newest.id < again.id < elsewhere.id
