"""The DynamoDB article store beyond the shared contract: the round trips each read costs (a
fixed number, whatever the page size), the items it writes, writes redone after losing a race,
bulk writes spread over transactions, and the copy methods (dump, restore)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest

from models.articles import Article, ArticleQuery, ArticleRecord
from models.errors import Conflict
from models.pages import Window
from stores.dynamodb._common import DynamoTable, from_item, to_item
from stores.dynamodb.articles import DynamoArticleStore
from stores.dynamodb.backend import DynamoBackend
from stores.round_trips import start_counting
from tests import aws
from tests.store_contract.conftest import at
from tests.store_contract.test_articles import edit, new

# slow (DynamoDB on moto): left out of `python3 dev.py test --fast`
pytestmark = [pytest.mark.anyio, pytest.mark.slow]

EVERYTHING = ArticleQuery()
ALL = Window(limit=None)
OpenTable = Callable[[], AbstractAsyncContextManager[DynamoTable]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def in_process_aws() -> Iterator[None]:
    with aws.in_process_aws():
        yield


@pytest.fixture
def open_table(in_process_aws: None) -> OpenTable:
    """Opens another, empty articles table in the same moto (copies go from one to another)."""

    @asynccontextmanager
    async def opened() -> AsyncIterator[DynamoTable]:
        backend = DynamoBackend({"articles": aws.fresh_table_urls()["articles"]})
        try:
            await backend.prepare_tables(create=True)
            yield backend.table("articles")
        finally:
            await backend.close()

    return opened


@pytest.fixture
async def table(open_table: OpenTable) -> AsyncIterator[DynamoTable]:
    async with open_table() as opened:
        yield opened


@pytest.fixture
def articles(table: DynamoTable) -> DynamoArticleStore:
    return DynamoArticleStore(table)


async def calls(operation: Awaitable[Any]) -> int:
    """The round trips `operation` takes."""
    counter = start_counting()
    await operation
    return counter.count


async def raw_item(table: DynamoTable, pk: str, sk: str) -> dict[str, Any] | None:
    response = await table.call(
        "get_item", TableName=table.name, Key=to_item({"pk": pk, "sk": sk}), ConsistentRead=True
    )
    return from_item(response["Item"]) if "Item" in response else None


async def tag_counts(articles: DynamoArticleStore, *tags: str) -> dict[str, int]:
    return {t: await articles.count(ArticleQuery(tag=t)) for t in tags}


async def test_a_page_costs_the_same_round_trips_at_20_and_at_50(
    articles: DynamoArticleStore,
) -> None:
    # Enough for a page of 50 of every list; few items, as moto copies the table per action.
    created = await articles.create_many(
        [new(f"a{i}", at(i), author_id=i % 3, tags=("every",)) for i in range(55)]
    )
    queries = {
        "every article": (EVERYTHING, 1),
        "a tag": (ArticleQuery(tag="every"), 2),
        "a feed of two authors": (ArticleQuery(author_ids=(0, 1)), 2),
        "a tag of one author": (ArticleQuery(tag="every", author_ids=(0,)), 1),
    }
    for name, (query, budget) in queries.items():
        for size in (20, 50):
            for window in (Window(limit=size), Window(limit=size, offset=size)):
                page = articles.page(query, window)
                assert await calls(page) == budget, (name, window)
        after = Window(limit=20, after=created[-10].position)
        assert await calls(articles.page(query, after)) == budget, name

    fifty = [a.id for a in created[:50]]
    assert await calls(articles.tags_of(fifty)) == 1
    assert await calls(articles.page(ArticleQuery(article_ids=tuple(fifty)), Window(limit=20))) == 1
    for query in (EVERYTHING, ArticleQuery(tag="every"), ArticleQuery(author_ids=(0, 1, 2))):
        assert await calls(articles.count(query)) == 1, query
    assert await calls(articles.all_tags()) == 1


async def test_single_writes_and_reads_cost_two_round_trips(articles: DynamoArticleStore) -> None:
    """A read and a transaction each: no call grows with the number of tags."""
    tags = tuple(f"t{i}" for i in range(20))
    counter = start_counting()
    article = await articles.create(new("a", at(0), tags=tags))
    assert counter.count == 2
    assert await calls(articles.by_slug("a")) == 2
    assert await calls(articles.update(article.id, edit(article, "b", tags=tags[::2]))) == 2
    assert await calls(articles.delete(article.id)) == 2


async def test_items_follow_the_table_design(
    articles: DynamoArticleStore, table: DynamoTable
) -> None:
    article = await articles.create(new("the-slug", at(0), author_id=7, tags=("b", "a")))
    key = f"{round(at(0).timestamp() * 1000):015d}#{article.id:019d}"
    item = await raw_item(table, f"ARTICLE#{article.id}", "ARTICLE")
    assert item is not None
    assert (item["gsi1pk"], item["gsi1sk"], item["gsi2pk"], item["gsi2sk"]) == (
        "ARTICLES",
        key,
        "AUTHOR#7",
        key,
    )
    assert (item["tags"], item["created_at"]) == (["a", "b"], round(at(0).timestamp() * 1000))
    assert await raw_item(table, "SLUG#the-slug", "SLUG") == {
        "pk": "SLUG#the-slug",
        "sk": "SLUG",
        "article_id": article.id,
    }
    assert await raw_item(table, "TAG#a", key) == {
        "pk": "TAG#a",
        "sk": key,
        "article_id": article.id,
    }
    for sk in ("ALL", "AUTHOR#7"):
        assert await raw_item(table, "COUNT", sk) == {"pk": "COUNT", "sk": sk, "n": 1}

    await articles.delete(article.id)
    # A tag's count stays behind at zero; the tag list leaves it out.
    assert await raw_item(table, "TAGS", "a") == {"pk": "TAGS", "sk": "a", "n": 0}
    assert await raw_item(table, "TAG#a", key) is None
    assert await articles.all_tags() == []


class RacingTable(DynamoTable):
    """The same table, where another write (`interloper`) slips in before the first transaction
    the store sends, after the store read what it is changing."""

    def __init__(self, table: DynamoTable, interloper: Callable[[], Awaitable[Any]]) -> None:
        super().__init__(table.client, table.name, ThreadPoolExecutor(2))
        self._interloper: Callable[[], Awaitable[Any]] | None = interloper
        self.transactions = 0

    async def call(self, operation: str, **arguments: Any) -> dict[str, Any]:
        if operation == "transact_write_items":
            self.transactions += 1
            if self._interloper is not None:
                interloper, self._interloper = self._interloper, None
                await interloper()
        return await super().call(operation, **arguments)


async def test_an_update_that_lost_a_race_is_redone_from_a_fresh_read(
    articles: DynamoArticleStore, table: DynamoTable
) -> None:
    article = await articles.create(new("a", at(0), tags=("first",)))
    racing = RacingTable(
        table, lambda: articles.update(article.id, edit(article, "moved", tags=("theirs",)))
    )
    updated = await DynamoArticleStore(racing).update(article.id, edit(article, tags=("mine",)))
    assert racing.transactions == 2
    # The redo started from the interloper's article: its slug, and its tags to replace.
    assert updated.slug == "a"
    assert await articles.by_slug("a") == updated
    assert await articles.by_slug("moved") is None
    assert await articles.tags_of([article.id]) == {article.id: ["mine"]}
    assert await tag_counts(articles, "first", "theirs", "mine") == {
        "first": 0,
        "theirs": 0,
        "mine": 1,
    }


async def test_a_delete_that_lost_a_race_takes_away_what_is_there(
    articles: DynamoArticleStore, table: DynamoTable
) -> None:
    article = await articles.create(new("a", at(0), author_id=3, tags=("first",)))
    racing = RacingTable(
        table, lambda: articles.update(article.id, edit(article, "moved", tags=("theirs",)))
    )
    await DynamoArticleStore(racing).delete(article.id)
    assert racing.transactions == 2
    assert await articles.by_slug("moved") is None
    assert await tag_counts(articles, "first", "theirs") == {"first": 0, "theirs": 0}
    assert await articles.count(ArticleQuery(author_ids=(3,))) == 0
    assert await articles.count(EVERYTHING) == 0


async def test_a_large_batch_spans_transactions_with_exact_counts(
    articles: DynamoArticleStore,
) -> None:
    batch = [new(f"a{i}", at(i), author_id=i % 4, tags=(f"t{i % 7}", "x")) for i in range(40)]
    counter = start_counting()
    created = await articles.create_many(batch)
    # Ids, the slug check, and 4 actions an article plus a dozen counters: 2 transactions.
    assert counter.count == 2 + 2
    assert [a.slug for a in created] == [n.slug for n in batch]
    assert await articles.count(EVERYTHING) == 40
    assert await articles.count(ArticleQuery(author_ids=(0,))) == 10
    assert await tag_counts(articles, "x", "t0", "t6") == {"x": 40, "t0": 6, "t6": 5}
    assert await articles.page(ArticleQuery(tag="t0"), ALL) == created[::7][::-1]


async def test_a_large_batch_with_a_taken_slug_writes_none(articles: DynamoArticleStore) -> None:
    await articles.create(new("taken", at(0)))
    batch = [new(f"a{i}", at(i), tags=("x", "y")) for i in range(40)]
    with pytest.raises(Conflict):
        await articles.create_many([*batch, new("taken", at(99))])
    with pytest.raises(Conflict):
        await articles.create_many([*batch, new("a0", at(99))])
    assert await articles.count(EVERYTHING) == 1
    assert await articles.all_tags() == []


async def test_dump_reads_by_id_in_batches(articles: DynamoArticleStore) -> None:
    created = [await articles.create(new(f"a{i}", at(10 - i), tags=(f"t{i}",))) for i in range(7)]
    await articles.delete(created[2].id)
    kept = [a for a in created if a != created[2]]

    dumped: list[ArticleRecord] = []
    after = None
    while batch := await articles.dump(after, 2):
        assert len(batch) <= 2
        dumped += batch
        after = batch[-1].article.id
    assert [r.article for r in dumped] == kept
    assert [r.tags for r in dumped] == [(f"t{created.index(a)}",) for a in kept]
    assert await articles.dump(None, 100) == dumped


async def test_restore_copies_exactly_and_twice_is_once(
    articles: DynamoArticleStore, open_table: OpenTable
) -> None:
    created = [
        await articles.create(new(f"a{i}", at(i % 3), author_id=i % 2, tags=("all", f"t{i % 2}")))
        for i in range(6)
    ]
    await articles.delete(created[3].id)
    records = await articles.dump(None, 100)

    async with open_table() as other:
        copy = DynamoArticleStore(other)
        await copy.restore(records)
        await copy.restore(records[:2])  # an interrupted copy, resumed from its last batch
        await copy.restore(records)
        assert await copy.dump(None, 100) == records
        for query in (
            EVERYTHING,
            ArticleQuery(tag="all"),
            ArticleQuery(tag="t0"),
            ArticleQuery(author_ids=(1,)),
        ):
            assert await copy.page(query, ALL) == await articles.page(query, ALL), query
            assert await copy.count(query) == await articles.count(query), query
        assert await copy.all_tags() == ["all", "t0", "t1"]
        assert await copy.by_slug("a5") == records[-1].article
        assert await copy.by_slug("a3") is None
        later = await copy.create(new("later", at(100)))
        assert later.id > max(r.article.id for r in records)


async def test_restore_replaces_what_is_there(articles: DynamoArticleStore) -> None:
    there = await articles.create(new("old-slug", at(0), author_id=1, tags=("a", "b")))
    other = await articles.create(new("other", at(5), author_id=1, tags=("b",)))
    replacement = Article(
        id=there.id,
        slug="new-slug",
        title="Restored",
        description="d",
        body="b",
        author_id=2,
        created_at=at(10),
        updated_at=at(20),
    )
    await articles.restore([ArticleRecord(replacement, ("c", "b"))])
    await articles.restore([ArticleRecord(replacement, ("b", "c"))])
    assert await articles.by_slug("old-slug") is None
    assert await articles.by_slug("new-slug") == replacement
    assert await articles.tags_of([there.id]) == {there.id: ["b", "c"]}
    assert await tag_counts(articles, "a", "b", "c") == {"a": 0, "b": 2, "c": 1}
    assert await articles.count(ArticleQuery(author_ids=(1,))) == 1
    assert await articles.count(ArticleQuery(author_ids=(2,))) == 1
    assert await articles.count(EVERYTHING) == 2
    # The tag's list moved the article to its restored creation time.
    assert await articles.page(ArticleQuery(tag="b"), ALL) == [replacement, other]


async def test_restore_keeps_slugs_unique(articles: DynamoArticleStore) -> None:
    await articles.create(new("taken", at(0)))
    clash = replace(await articles.create(new("free", at(1))), id=50, slug="taken")
    with pytest.raises(Conflict):
        await articles.restore([ArticleRecord(clash, ())])
    assert await articles.count(EVERYTHING) == 2


async def test_a_rename_racing_the_same_rename_is_no_conflict(
    articles: DynamoArticleStore, table: DynamoTable
) -> None:
    article = await articles.create(new("a", at(0)))
    racing = RacingTable(table, lambda: articles.update(article.id, edit(article, "b")))
    renamed = await DynamoArticleStore(racing).update(article.id, edit(article, "b"))
    assert racing.transactions == 2
    assert await articles.by_slug("b") == renamed
    assert await articles.by_slug("a") is None
