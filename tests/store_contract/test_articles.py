"""ArticleStore: articles with their tags, newest-first pages, filters and counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from models import clock
from models.articles import Article, ArticleEdit, ArticleQuery, NewArticle
from models.errors import Conflict, NotFound
from models.pages import Position, Window
from models.validation import MISSING, Maybe
from stores.protocols import Stores
from tests.store_contract.conftest import at

pytestmark = pytest.mark.anyio

EVERYTHING = ArticleQuery()
ALL = Window(limit=None)


def new(
    slug: str,
    created_at: datetime | None = None,
    author_id: int = 1,
    tags: tuple[str, ...] = (),
) -> NewArticle:
    return NewArticle(
        slug=slug,
        title=f"Title of {slug}",
        description=f"About {slug}",
        body=f"Body of {slug}",
        tags=tags,
        author_id=author_id,
        created_at=created_at or clock.now(),
    )


def edit(
    article: Article, slug: str | None = None, tags: Maybe[tuple[str, ...]] = MISSING
) -> ArticleEdit:
    return ArticleEdit(
        slug=slug or article.slug,
        title="New title",
        description="New description",
        body="New body",
        tags=tags,
        updated_at=article.created_at + timedelta(seconds=5),
    )


async def walk(stores: Stores, query: ArticleQuery) -> list[Article]:
    """Every page of `query`, two articles at a time, each after the last one of the page
    before."""
    walked: list[Article] = []
    window = Window(limit=2)
    while batch := await stores.articles.page(query, window):
        walked.extend(batch)
        window = Window(limit=2, after=batch[-1].position)
    return walked


async def test_create_returns_the_stored_article(stores: Stores) -> None:
    created = await stores.articles.create(new("first", at(0), author_id=7, tags=("b", "a")))
    assert created.id > 0
    assert (created.slug, created.title, created.description, created.body) == (
        "first",
        "Title of first",
        "About first",
        "Body of first",
    )
    assert created.author_id == 7
    assert created.created_at == at(0)
    assert created.updated_at == at(0)
    assert await stores.articles.by_slug("first") == created
    assert await stores.articles.tags_of([created.id]) == {created.id: ["a", "b"]}


async def test_by_slug_of_a_missing_article_is_none(stores: Stores) -> None:
    await stores.articles.create(new("first"))
    assert await stores.articles.by_slug("second") is None


async def test_by_ids_finds_the_articles_there_are(stores: Stores) -> None:
    one = await stores.articles.create(new("one", at(0)))
    two = await stores.articles.create(new("two", at(1)))
    gone = await stores.articles.create(new("gone", at(2)))
    await stores.articles.delete(gone.id)
    found = await stores.articles.by_ids([two.id, gone.id, one.id, two.id + 1000, one.id])
    assert sorted(found, key=lambda a: a.id) == [one, two]
    assert await stores.articles.by_ids([]) == []


async def test_duplicate_slug_is_a_conflict_that_writes_nothing(stores: Stores) -> None:
    first = await stores.articles.create(new("taken", at(0), tags=("kept",)))
    with pytest.raises(Conflict) as raised:
        await stores.articles.create(new("taken", at(1), author_id=2, tags=("orphan", "kept")))
    assert raised.value.fields == {"slug": ["has already been taken"]}
    assert await stores.articles.count(EVERYTHING) == 1
    assert await stores.articles.page(EVERYTHING, ALL) == [first]
    assert await stores.articles.all_tags() == ["kept"]
    assert await stores.articles.count(ArticleQuery(tag="orphan")) == 0
    assert await stores.articles.tags_of([first.id]) == {first.id: ["kept"]}
    # The next article gets a clean start (no tags left behind under a reused id).
    second = await stores.articles.create(new("free", at(2)))
    assert await stores.articles.tags_of([second.id]) == {}


async def test_update_with_tags_missing_keeps_them(stores: Stores) -> None:
    article = await stores.articles.create(new("first", at(0), tags=("a", "b")))
    updated = await stores.articles.update(article.id, edit(article, slug="renamed"))
    assert updated.id == article.id
    assert (updated.slug, updated.title, updated.description, updated.body) == (
        "renamed",
        "New title",
        "New description",
        "New body",
    )
    assert updated.author_id == article.author_id
    assert updated.created_at == article.created_at
    assert updated.updated_at == article.created_at + timedelta(seconds=5)
    assert await stores.articles.by_slug("renamed") == updated
    assert await stores.articles.by_slug("first") is None
    assert await stores.articles.tags_of([article.id]) == {article.id: ["a", "b"]}


async def test_update_with_tags_replaces_or_clears_them(stores: Stores) -> None:
    article = await stores.articles.create(new("first", tags=("a", "b")))
    other = await stores.articles.create(new("other", tags=("b",)))
    await stores.articles.update(article.id, edit(article, tags=("c", "b")))
    assert await stores.articles.tags_of([article.id]) == {article.id: ["b", "c"]}
    assert await stores.articles.all_tags() == ["b", "c"]

    await stores.articles.update(article.id, edit(article, tags=()))
    assert await stores.articles.tags_of([article.id, other.id]) == {other.id: ["b"]}
    assert await stores.articles.all_tags() == ["b"]


async def test_update_keeping_its_own_slug_is_no_conflict(stores: Stores) -> None:
    article = await stores.articles.create(new("first"))
    updated = await stores.articles.update(article.id, edit(article, slug="first"))
    assert updated.slug == "first"
    assert updated.title == "New title"


async def test_update_to_a_taken_slug_is_a_conflict_that_changes_nothing(stores: Stores) -> None:
    article = await stores.articles.create(new("first", at(0), tags=("a",)))
    await stores.articles.create(new("second", at(1), tags=("z",)))
    with pytest.raises(Conflict) as raised:
        await stores.articles.update(article.id, edit(article, slug="second", tags=("new",)))
    assert raised.value.fields == {"slug": ["has already been taken"]}
    assert await stores.articles.by_slug("first") == article
    assert await stores.articles.tags_of([article.id]) == {article.id: ["a"]}
    assert await stores.articles.all_tags() == ["a", "z"]


async def test_update_of_a_missing_article_is_not_found(stores: Stores) -> None:
    article = await stores.articles.create(new("first", tags=("a",)))
    missing = article.id + 1000
    with pytest.raises(NotFound) as raised:
        await stores.articles.update(missing, edit(article, slug="ghost", tags=("ghost",)))
    assert raised.value.fields == {"article": ["not found"]}
    with pytest.raises(NotFound):
        # Even under a taken slug: there is no article to conflict.
        await stores.articles.update(missing, edit(article, slug="first"))
    assert await stores.articles.by_slug("ghost") is None
    assert await stores.articles.all_tags() == ["a"]
    assert await stores.articles.tags_of([missing]) == {}


async def test_delete_removes_the_article_and_its_tags(stores: Stores) -> None:
    gone = await stores.articles.create(new("gone", at(0), tags=("only-here", "shared")))
    kept = await stores.articles.create(new("kept", at(1), tags=("shared",)))
    await stores.articles.delete(gone.id)
    assert await stores.articles.by_slug("gone") is None
    assert await stores.articles.tags_of([gone.id, kept.id]) == {kept.id: ["shared"]}
    assert await stores.articles.all_tags() == ["shared"]
    assert await stores.articles.count(EVERYTHING) == 1
    assert await stores.articles.page(EVERYTHING, ALL) == [kept]
    assert await stores.articles.count(ArticleQuery(tag="only-here")) == 0
    # Deleting again, or something that never existed, is harmless (events may repeat).
    await stores.articles.delete(gone.id)
    await stores.articles.delete(kept.id + 1000)
    assert await stores.articles.page(EVERYTHING, ALL) == [kept]
    # The slug is free again.
    again = await stores.articles.create(new("gone", at(2)))
    assert await stores.articles.tags_of([again.id]) == {}


async def test_the_id_of_the_newest_deleted_article_is_never_given_again(stores: Stores) -> None:
    """Whatever of a deleted article another domain still holds (a comment racing its
    deletion) must never come to belong to a new article."""
    older = await stores.articles.create(new("older", at(0)))
    newest = await stores.articles.create(new("newest", at(1)))
    await stores.articles.delete(newest.id)
    again = await stores.articles.create(new("again", at(2)))
    await stores.articles.delete(again.id)
    await stores.articles.delete(older.id)
    emptied = await stores.articles.create(new("emptied", at(3)))
    assert older.id < newest.id < again.id < emptied.id


async def test_page_is_newest_first_with_ties_broken_by_id(stores: Stores) -> None:
    # Created out of order, and three sharing one instant.
    middle = await stores.articles.create(new("middle", at(10)))
    oldest = await stores.articles.create(new("oldest", at(0)))
    tie_1 = await stores.articles.create(new("tie-1", at(20)))
    tie_2 = await stores.articles.create(new("tie-2", at(20)))
    tie_3 = await stores.articles.create(new("tie-3", at(20)))
    newest = await stores.articles.create(new("newest", at(30)))
    ties = sorted([tie_1, tie_2, tie_3], key=lambda a: a.id, reverse=True)
    expected = [newest, *ties, middle, oldest]
    assert await stores.articles.page(EVERYTHING, ALL) == expected
    assert await stores.articles.page(EVERYTHING, Window(limit=None, offset=0)) == expected


async def test_page_windows(stores: Stores) -> None:
    created = [await stores.articles.create(new(f"a{i}", at(i // 2))) for i in range(7)]
    order = sorted(created, key=lambda a: (a.created_at, a.id), reverse=True)

    assert await stores.articles.page(EVERYTHING, Window(limit=3)) == order[:3]
    assert await stores.articles.page(EVERYTHING, Window(limit=3, offset=2)) == order[2:5]
    assert await stores.articles.page(EVERYTHING, Window(limit=None, offset=5)) == order[5:]
    assert await stores.articles.page(EVERYTHING, Window(limit=3, offset=7)) == []
    assert await stores.articles.page(EVERYTHING, Window(limit=100)) == order
    # Keyset: strictly after each position, whichever item holds it (ties included).
    for i, article in enumerate(order):
        after = Window(limit=None, after=article.position)
        assert await stores.articles.page(EVERYTHING, after) == order[i + 1 :], i
        after_two = Window(limit=2, after=article.position)
        assert await stores.articles.page(EVERYTHING, after_two) == order[i + 1 : i + 3], i
    # Walking page by page with `after` visits every article once, in order.
    assert await walk(stores, EVERYTHING) == order


async def test_page_after_a_position_in_another_time_zone(stores: Stores) -> None:
    """A position is an instant: the same instant in another zone means the same place."""
    created = [await stores.articles.create(new(f"a{i}", at(i * 1000))) for i in range(4)]
    order = created[::-1]
    for zone in (timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))):
        pivot = order[1].position
        shifted = Position(pivot.created_at.astimezone(zone), pivot.id)
        assert (
            await stores.articles.page(EVERYTHING, Window(limit=None, after=shifted)) == order[2:]
        )


async def test_page_and_count_filters(stores: Stores) -> None:
    a = await stores.articles.create(new("a", at(0), author_id=1, tags=("go", "py")))
    b = await stores.articles.create(new("b", at(1), author_id=2, tags=("py",)))
    c = await stores.articles.create(new("c", at(2), author_id=1))
    d = await stores.articles.create(new("d", at(3), author_id=3, tags=("py", "rust")))
    missing = d.id + 1000
    cases: list[tuple[ArticleQuery, list[Article]]] = [
        (EVERYTHING, [d, c, b, a]),
        (ArticleQuery(tag="py"), [d, b, a]),
        (ArticleQuery(tag="go"), [a]),
        (ArticleQuery(tag="nothing"), []),
        (ArticleQuery(author_ids=(1,)), [c, a]),
        (ArticleQuery(author_ids=(1, 3, 99)), [d, c, a]),
        (ArticleQuery(author_ids=()), []),
        (ArticleQuery(article_ids=(a.id, d.id, missing)), [d, a]),
        (ArticleQuery(article_ids=()), []),
        (ArticleQuery(tag="py", author_ids=(1, 2)), [b, a]),
        (ArticleQuery(tag="py", article_ids=(a.id, c.id, d.id)), [d, a]),
        (ArticleQuery(author_ids=(1,), article_ids=(b.id, c.id)), [c]),
        (ArticleQuery(tag="py", author_ids=(1, 3), article_ids=(a.id, b.id, c.id)), [a]),
        (ArticleQuery(tag="rust", author_ids=(1,)), []),
    ]
    for query, expected in cases:
        assert await stores.articles.page(query, ALL) == expected, query
        assert await stores.articles.count(query) == len(expected), query
        assert await stores.articles.page(query, Window(limit=1, offset=1)) == expected[1:2]


async def test_tag_pages_keep_the_newest_first_order_through_edits(stores: Stores) -> None:
    """A tag's list is ordered and paged like every other list, also after its articles were
    edited: creation times, not ids or edit times, decide, and ties go by id."""
    times = [50, 10, 50, 30, 50, 0, 30]  # out of id order, with ties
    created = [await stores.articles.create(new(f"a{i}", at(t))) for i, t in enumerate(times)]
    chosen = [  # tagged in an edit, long after they were created
        await stores.articles.update(a.id, replace(edit(a, tags=("t",)), updated_at=at(1000)))
        for a in (created[i] for i in (0, 2, 3, 4, 6))
    ]
    order = sorted(chosen, key=lambda a: (a.created_at, a.id), reverse=True)
    tagged = ArticleQuery(tag="t")
    assert await stores.articles.page(tagged, ALL) == order
    assert await stores.articles.count(tagged) == len(order)
    assert await walk(stores, tagged) == order


async def test_count_of_an_empty_store_is_zero(stores: Stores) -> None:
    assert await stores.articles.count(EVERYTHING) == 0
    assert await stores.articles.page(EVERYTHING, ALL) == []


async def test_tags_of_is_sorted_and_skips_articles_without_tags(stores: Stores) -> None:
    tagged = await stores.articles.create(new("tagged", tags=("zeta", "alpha", "Mid")))
    bare = await stores.articles.create(new("bare"))
    also = await stores.articles.create(new("also", tags=("alpha",)))
    missing = also.id + 1000
    tags = await stores.articles.tags_of([bare.id, tagged.id, missing, also.id, tagged.id])
    assert tags.get(tagged.id) == sorted(["zeta", "alpha", "Mid"])
    assert tags.get(also.id) == ["alpha"]
    assert tags.get(bare.id, []) == []
    assert tags.get(missing, []) == []
    assert set(tags) <= {tagged.id, bare.id, also.id}
    assert await stores.articles.tags_of([]) == {}


async def test_all_tags_is_sorted_and_distinct(stores: Stores) -> None:
    assert await stores.articles.all_tags() == []
    await stores.articles.create(new("one", tags=("py", "go")))
    await stores.articles.create(new("two", tags=("rust", "py")))
    await stores.articles.create(new("three"))
    assert await stores.articles.all_tags() == ["go", "py", "rust"]
