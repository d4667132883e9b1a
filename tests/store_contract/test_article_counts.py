"""ArticleStore: counts and tag lists stay exact through every kind of write, concurrent ones
included, and filtered lists page like the plain one."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from models.articles import Article, ArticleQuery, ArticleRecord
from models.errors import Conflict
from models.pages import Window
from stores.protocols import Stores
from tests.store_contract.conftest import at
from tests.store_contract.test_articles import edit, new, walk

pytestmark = pytest.mark.anyio

EVERYTHING = ArticleQuery()
ALL = Window(limit=None)
RACERS = 8
EDITORS = 4


async def tag_counts(stores: Stores, *tags: str) -> dict[str, int]:
    return {t: await stores.articles.count(ArticleQuery(tag=t)) for t in tags}


async def test_concurrent_creates_of_one_slug_have_one_winner(stores: Stores) -> None:
    attempts = [
        stores.articles.create(new("contested", at(i), author_id=i + 1, tags=(f"t{i}", "all")))
        for i in range(RACERS)
    ]
    outcomes = await asyncio.gather(*attempts, return_exceptions=True)
    [winner] = [o for o in outcomes if not isinstance(o, BaseException)]
    losers = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(isinstance(o, Conflict) for o in losers), losers
    assert len(losers) == RACERS - 1
    assert await stores.articles.by_slug("contested") == winner
    assert await stores.articles.page(EVERYTHING, ALL) == [winner]
    assert await stores.articles.count(EVERYTHING) == 1
    assert await stores.articles.count(ArticleQuery(author_ids=(winner.author_id,))) == 1
    winning_tag = f"t{winner.author_id - 1}"
    assert await stores.articles.all_tags() == sorted(["all", winning_tag])
    assert await tag_counts(stores, "all", winning_tag) == {"all": 1, winning_tag: 1}


async def test_concurrent_creates_of_distinct_slugs_all_count(stores: Stores) -> None:
    attempts = [
        stores.articles.create(new(f"a{i}", at(i), author_id=i % 2, tags=("shared",)))
        for i in range(RACERS)
    ]
    created = await asyncio.gather(*attempts)
    assert await stores.articles.count(EVERYTHING) == RACERS
    assert await stores.articles.count(ArticleQuery(author_ids=(0,))) == RACERS // 2
    assert await stores.articles.count(ArticleQuery(tag="shared")) == RACERS
    assert len(await stores.articles.page(ArticleQuery(tag="shared"), ALL)) == len(created)


async def test_tag_counts_follow_creates_updates_and_deletes(stores: Stores) -> None:
    a = await stores.articles.create(new("a", at(0), tags=("x", "y")))
    b = await stores.articles.create(new("b", at(1), tags=("y",)))
    assert await tag_counts(stores, "x", "y", "z") == {"x": 1, "y": 2, "z": 0}

    await stores.articles.update(a.id, edit(a, tags=("y", "z")))
    assert await tag_counts(stores, "x", "y", "z") == {"x": 0, "y": 2, "z": 1}
    assert await stores.articles.all_tags() == ["y", "z"]

    await stores.articles.update(a.id, edit(a, slug="a-renamed"))  # tags kept
    assert await tag_counts(stores, "x", "y", "z") == {"x": 0, "y": 2, "z": 1}

    await stores.articles.delete(b.id)
    assert await tag_counts(stores, "y", "z") == {"y": 1, "z": 1}
    await stores.articles.delete(a.id)
    await stores.articles.delete(a.id)  # a repeated delete takes nothing away twice
    assert await tag_counts(stores, "x", "y", "z") == {"x": 0, "y": 0, "z": 0}
    assert await stores.articles.all_tags() == []

    # A tag whose count went to zero counts again from zero.
    c = await stores.articles.create(new("c", at(2), tags=("x",)))
    assert await tag_counts(stores, "x", "y") == {"x": 1, "y": 0}
    assert await stores.articles.all_tags() == ["x"]
    assert await stores.articles.page(ArticleQuery(tag="x"), ALL) == [c]


async def test_counts_by_author_follow_deletes(stores: Stores) -> None:
    mine = [await stores.articles.create(new(f"m{i}", at(i), author_id=1)) for i in range(3)]
    theirs = await stores.articles.create(new("t", at(9), author_id=2))
    await stores.articles.delete(mine[1].id)
    await stores.articles.delete(mine[1].id)
    await stores.articles.delete(theirs.id + 1000)
    assert await stores.articles.count(ArticleQuery(author_ids=(1,))) == 2
    assert await stores.articles.count(ArticleQuery(author_ids=(1, 2))) == 3
    assert await stores.articles.count(ArticleQuery(author_ids=(2, 2))) == 1
    assert await stores.articles.count(EVERYTHING) == 3
    await stores.articles.delete(theirs.id)
    assert await stores.articles.count(ArticleQuery(author_ids=(2,))) == 0
    assert await stores.articles.page(ArticleQuery(author_ids=(1, 2)), ALL) == [mine[2], mine[0]]


async def test_concurrent_retags_of_one_article_leave_exact_counts(stores: Stores) -> None:
    """A few edits at once (an author's double submit, two tabs): one wins last, none is lost
    halfway. Not a crowd: a store may answer StoreUnavailable when contention persists."""
    article = await stores.articles.create(new("a", at(0), tags=("start",)))
    choices = [(f"t{i}", "common") for i in range(EDITORS)]
    await asyncio.gather(
        *(stores.articles.update(article.id, edit(article, tags=c)) for c in choices)
    )
    [final] = (await stores.articles.tags_of([article.id])).values()
    assert tuple(final) in {tuple(sorted(c)) for c in choices}
    every_tag = ["start", "common", *(f"t{i}" for i in range(EDITORS))]
    assert await tag_counts(stores, *every_tag) == {t: int(t in final) for t in every_tag}
    assert await stores.articles.all_tags() == sorted(final)


async def test_filtered_lists_walk_page_by_page(stores: Stores) -> None:
    times = [5, 0, 5, 3, 9, 3, 5, 1]  # with ties, out of id order
    created = [
        await stores.articles.create(
            new(f"a{i}", at(t), author_id=i % 3, tags=("even",) if i % 2 == 0 else ())
        )
        for i, t in enumerate(times)
    ]
    newest_first = sorted(created, key=lambda a: (a.created_at, a.id), reverse=True)
    queries = [
        ArticleQuery(author_ids=(0, 2)),
        ArticleQuery(author_ids=(1,)),
        ArticleQuery(tag="even"),
        ArticleQuery(tag="even", author_ids=(0, 1)),
        ArticleQuery(article_ids=tuple(a.id for a in created[::2])),
    ]
    for query in queries:
        expected = [
            a
            for a in newest_first
            if (query.author_ids is None or a.author_id in query.author_ids)
            and (query.tag is None or a.slug in {c.slug for c in created[::2]})
            and (query.article_ids is None or a.id in query.article_ids)
        ]
        assert await walk(stores, query) == expected, query
        assert await stores.articles.count(query) == len(expected), query
        for offset in range(len(expected) + 1):
            window = Window(limit=2, offset=offset)
            assert await stores.articles.page(query, window) == expected[offset : offset + 2]


async def assert_counts_match_lists(
    stores: Stores, tags: Sequence[str], authors: Sequence[int]
) -> None:
    """Every count the pages show (home, each tag, each author, a feed of all the authors and
    of a few) equals the number of articles its list holds."""
    queries = [
        EVERYTHING,
        *(ArticleQuery(tag=t) for t in tags),
        *(ArticleQuery(author_ids=(a,)) for a in authors),
        ArticleQuery(author_ids=tuple(authors)),
        ArticleQuery(author_ids=tuple(authors[::2])),
    ]
    for query in queries:
        listed = len(await stores.articles.page(query, ALL))
        assert await stores.articles.count(query) == listed, query


def record(ident: int, author_id: int, *tags: str) -> ArticleRecord:
    return ArticleRecord(
        Article(
            id=ident,
            slug=f"restored-{ident}",
            title=f"Title {ident}",
            description="About it",
            body="Body",
            author_id=author_id,
            created_at=at(ident),
            updated_at=at(ident),
        ),
        tags,
    )


async def test_counts_stay_exact_through_restores_repeated_and_replacing(stores: Stores) -> None:
    made = await stores.articles.create_many(
        [new(f"m{i}", at(i), author_id=1, tags=("x", "y")) for i in range(3)]
    )
    batch = [
        record(made[0].id, 2, "y", "z"),  # over an article: another author, other tags
        record(made[1].id, 1, "x", "y"),  # over an article, exactly as it is
        record(100, 3, "z"),
        record(101, 3),
    ]
    for _ in range(2):  # a copy resumed after an interruption restores its last batch again
        await stores.articles.restore(batch)
    assert await stores.articles.count(EVERYTHING) == 5
    assert await stores.articles.count(ArticleQuery(author_ids=(1,))) == 2
    assert await stores.articles.count(ArticleQuery(author_ids=(2, 3))) == 3
    assert await tag_counts(stores, "x", "y", "z") == {"x": 2, "y": 3, "z": 2}
    await assert_counts_match_lists(stores, ["x", "y", "z"], [1, 2, 3])

    # A later batch overlapping the first one, with its articles changed again.
    await stores.articles.restore([record(100, 1, "x"), record(102, 2, "z")])
    assert await stores.articles.count(EVERYTHING) == 6
    assert await tag_counts(stores, "x", "y", "z") == {"x": 3, "y": 3, "z": 2}
    await assert_counts_match_lists(stores, ["x", "y", "z"], [1, 2, 3])


async def test_deleting_twice_or_at_once_takes_an_article_away_once(stores: Stores) -> None:
    a = await stores.articles.create(new("a", at(0), author_id=1, tags=("x",)))
    b = await stores.articles.create(new("b", at(1), author_id=2, tags=("x", "y")))
    await stores.articles.create(new("c", at(2), author_id=2, tags=("y",)))
    await stores.articles.delete(a.id)
    await stores.articles.delete(a.id)
    await asyncio.gather(*(stores.articles.delete(b.id) for _ in range(EDITORS)))
    assert await stores.articles.count(EVERYTHING) == 1
    assert await stores.articles.count(ArticleQuery(author_ids=(1, 2))) == 1
    assert await tag_counts(stores, "x", "y") == {"x": 0, "y": 1}
    await assert_counts_match_lists(stores, ["x", "y"], [1, 2])


async def test_updates_keep_author_counts_and_move_tag_counts(stores: Stores) -> None:
    a = await stores.articles.create(new("a", at(0), author_id=1, tags=("x",)))
    await stores.articles.create(new("b", at(1), author_id=2, tags=("x",)))
    await stores.articles.update(a.id, edit(a, slug="a2", tags=("y", "z")))
    await stores.articles.update(a.id, edit(a, slug="a3"))  # tags kept
    await stores.articles.update(a.id, edit(a, slug="a4", tags=("y", "z")))  # the same tags
    assert await stores.articles.count(ArticleQuery(author_ids=(1,))) == 1
    assert await stores.articles.count(ArticleQuery(author_ids=(1, 2))) == 2
    assert await stores.articles.count(EVERYTHING) == 2
    assert await tag_counts(stores, "x", "y", "z") == {"x": 1, "y": 1, "z": 1}
    await assert_counts_match_lists(stores, ["x", "y", "z"], [1, 2])


async def test_concurrent_writes_by_different_authors_leave_exact_counts(stores: Stores) -> None:
    """Every write changes the `all` count; writes of batches sharing tags and authors, taken in
    different orders, must neither lose a change nor deadlock."""
    singles = [
        stores.articles.create(new(f"s{i}", at(i), author_id=i + 1, tags=("shared", f"t{i}")))
        for i in range(RACERS)
    ]
    batches = [
        stores.articles.create_many(
            [
                new(f"b{i}-{j}", at(100 + j), author_id=(i + j) % 3 + 1, tags=(f"t{j}", "shared"))
                for j in range(3)
            ][:: 1 if i % 2 else -1]
        )
        for i in range(EDITORS)
    ]
    await asyncio.gather(*singles, *batches)
    total = RACERS + 3 * EDITORS
    assert await stores.articles.count(EVERYTHING) == total
    assert await stores.articles.count(ArticleQuery(tag="shared")) == total
    authors = list(range(1, RACERS + 1))
    assert await stores.articles.count(ArticleQuery(author_ids=tuple(authors))) == total
    await assert_counts_match_lists(stores, ["shared", *(f"t{i}" for i in range(RACERS))], authors)
