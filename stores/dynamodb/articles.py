"""Articles and their tags in DynamoDB, in the items stores/dynamodb/tables.py lays out.

Every write reads what it changes and writes in one transaction conditioned on the article
being as read (its `version`), with the counters (COUNT, TAGS) changed by the same
transaction, so counts are exact and a write that lost a race is redone from a fresh read.
Every list reads a partition newest first: all articles (GSI `newest`), an author's (GSI
`by_author`) or a tag's (its TAG items); DynamoDB has no OFFSET, so an offset is read and
dropped. No request scans the table."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from events import DomainEvent
from events.relay import EventsOf, no_events
from models.articles import Article, ArticleEdit, ArticleQuery, ArticleRecord, NewArticle
from models.errors import Conflict, NotFound
from models.pages import Position, Window
from models.validation import MISSING
from stores.dynamodb import _article_lists as lists
from stores.dynamodb._article_items import (
    COUNT_ATTRIBUTE,
    Action,
    Change,
    Role,
    Stored,
    Transaction,
    all_count_key,
    article_from,
    article_key,
    at_millisecond,
    author_count_key,
    first_version,
    slug_key,
    sort_key,
    stored_from,
    tag_count_key,
    transactions,
)
from stores.dynamodb._common import (
    CONDITION_FAILED,
    DynamoTable,
    from_millis,
    get_one,
    items_by_dense_ids,
    raise_counter,
    transact,
)
from stores.dynamodb.outbox import DynamoOutbox, entry_key, record_actions
from stores.dynamodb.tables import PARTITION_KEY, SORT_KEY
from stores.errors import StoreUnavailable

# How often a write that lost a race with another is redone from a fresh read, and the pause
# before the first redo (doubled each time, jittered so the racers spread out).
MAX_ATTEMPTS = 8
FIRST_REDO_PAUSE_SECONDS = 0.005


class _ArticleChanged(Exception):
    """A transaction found an article other than as read: another write came in between."""


class DynamoArticleStore(DynamoOutbox):
    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    async def ping(self) -> None:
        await self._table.ping()

    async def create(self, new: NewArticle, *, events: EventsOf[Article] = no_events) -> Article:
        [article] = await self._create([new], events)
        return article

    async def create_many(self, new: Sequence[NewArticle]) -> list[Article]:
        return await self._create(new, no_events)

    async def _create(self, new: Sequence[NewArticle], events: EventsOf[Article]) -> list[Article]:
        """Written in transactions of up to DynamoDB's 100 actions, several articles each.
        Each transaction is atomic; the batch is all or none as far as checking every slug
        before the first write makes it: a slug claimed by another writer between that check
        and its transaction fails that transaction, after the ones before it were written."""
        if not new:
            return []
        if len({n.slug for n in new}) < len(new):
            raise Conflict.taken("slug")
        ids = await self._table.allocate_ids(len(new))
        created = [
            first_version(at_millisecond(_article(n, i)), n.tags)
            for n, i in zip(new, ids, strict=True)
        ]
        packed = transactions(self._table.name, [Change(None, s) for s in created])
        if len(packed) > 1:
            await self._check_slugs_free([n.slug for n in new])
        recorded = [e for s in created for e in events(s.article)]
        if await self._write_packed(packed, recorded):
            raise RuntimeError("a new article's id was in use: the id counter went back")
        return [s.article for s in created]

    async def update(
        self, article_id: int, edit: ArticleEdit, *, events: Sequence[DomainEvent] = ()
    ) -> Article:
        def edited(before: Stored) -> Stored:
            tags = before.tags if edit.tags is MISSING else edit.tags
            return before.replaced_by(at_millisecond(_edited(before.article, edit)), tags)

        change = await self._rewrite(article_id, edited, events)
        if change is None or change.after is None:
            raise NotFound("article")
        return change.after.article

    async def delete(self, article_id: int, *, events: Sequence[DomainEvent] = ()) -> None:
        if await self._rewrite(article_id, lambda _: None, events) is None:
            await self.record_alone(events)

    async def by_slug(self, slug: str) -> Article | None:
        claim = await get_one(self._table, slug_key(slug))
        if claim is None:
            return None
        found = await get_one(self._table, article_key(claim["article_id"]))
        return None if found is None else article_from(found)

    async def by_ids(self, article_ids: Sequence[int]) -> list[Article]:
        """BatchGetItem, 100 keys a call."""
        keys = [article_key(i) for i in set(article_ids)]
        return [article_from(i) for i in await self._table.get_many(keys)]

    async def page(self, query: ArticleQuery, window: Window) -> list[Article]:
        if query.matches_nothing:
            return []
        if query.article_ids is not None:
            chosen = [article_from(i) for i in await self._chosen(query)]
            newest = sorted(chosen, key=sort_key, reverse=True)
            after = lists.after_key(window)
            return lists.cut([a for a in newest if after is None or sort_key(a) < after], window)
        if query.author_ids is not None:
            return await self._page_by_authors(query.author_ids, query.tag, window)
        if query.tag is not None:
            return await self._page_by_tag(query.tag, window)
        items = await lists.read(
            self._table, lists.every_article(), lists.after_key(window), lists.wanted(window)
        )
        return [article_from(i) for i in lists.cut(items, window)]

    async def count(self, query: ArticleQuery) -> int:
        if query.matches_nothing:
            return 0
        if query.article_ids is not None:
            return len(await self._chosen(query, attributes=["author_id", "tags"]))
        if query.author_ids is not None and query.tag is not None:
            authors = [lists.by_author(a) for a in set(query.author_ids)]
            counted = [lists.count(self._table, a, lists.carrying(query.tag)) for a in authors]
            return sum(await asyncio.gather(*counted))
        if query.author_ids is not None:
            return await self._sum_counts([author_count_key(a) for a in set(query.author_ids)])
        if query.tag is not None:
            return await self._sum_counts([tag_count_key(query.tag)])
        return await self._sum_counts([all_count_key()])

    async def pages_by_author(
        self, author_ids: Sequence[int], window: Window
    ) -> Mapping[int, list[Article]]:
        """One Query per author on `by_author`, all sent at once."""
        wanted = list(dict.fromkeys(author_ids))
        found = await asyncio.gather(*(self._read_by_author(a, window) for a in wanted))
        pages = {a: lists.cut(articles, window) for a, articles in zip(wanted, found, strict=True)}
        return {a: page for a, page in pages.items() if page}

    async def counts_by_author(self, author_ids: Sequence[int]) -> Mapping[int, int]:
        """The authors' counters, in one batch read."""
        wanted = list(dict.fromkeys(author_ids))
        keys = [author_count_key(a) for a in wanted]
        items = await self._table.get_many(keys, attributes=[SORT_KEY, COUNT_ATTRIBUTE])
        by_key = {author_count_key(a)[SORT_KEY]: a for a in wanted}
        return {by_key[i[SORT_KEY]]: int(i.get(COUNT_ATTRIBUTE, 0)) for i in items}

    async def positions_of(self, article_ids: Sequence[int]) -> Mapping[int, Position]:
        keys = [article_key(i) for i in set(article_ids)]
        items = await self._table.get_many(keys, attributes=["id", "created_at"])
        return {i["id"]: Position(from_millis(i["created_at"]), i["id"]) for i in items}

    async def tags_of(self, article_ids: Sequence[int]) -> Mapping[int, list[str]]:
        keys = [article_key(i) for i in set(article_ids)]
        items = await self._table.get_many(keys, attributes=["id", "tags"])
        # Stored sorted by code point already (see `sorted_tags`).
        return {i["id"]: list(i["tags"]) for i in items if i["tags"]}

    async def all_tags(self) -> list[str]:
        """Tags with a positive count: a tag's count item stays, at zero, when its last
        article goes."""
        counts = await lists.read(
            self._table, lists.tag_counts(), None, None, lists.POSITIVE_COUNT, attributes=[SORT_KEY]
        )
        return sorted(c[SORT_KEY] for c in counts)

    async def dump(self, after: int | None, limit: int) -> list[ArticleRecord]:
        """Read by id without a Scan (see `items_by_dense_ids`): ids without an article, deleted
        or used up by a create that failed, cost their share of the batch reads only."""
        items = await items_by_dense_ids(self._table, after, limit, article_key)
        return [ArticleRecord(s.article, s.tags) for s in map(stored_from, items)]

    async def restore(self, records: Sequence[ArticleRecord]) -> None:
        """Write each record as a change from what the table holds under its id now, so a
        batch restored twice changes no count and no claim the second time. Raises the id
        counter first, so no id handed out meanwhile collides with a restored one."""
        if not records:
            return
        latest = {r.article.id: r for r in records}
        await raise_counter(self._table, max(latest))
        pending = list(latest.values())
        for attempt in range(MAX_ATTEMPTS):
            current = await self._read_many([r.article.id for r in pending])
            changes = [_restoring(current.get(r.article.id), r) for r in pending]
            unwritten = await self._write(changes)
            if not unwritten:
                return
            pending = [latest[c.article_id] for c in unwritten]
            await _pause_before_redo(attempt)
        raise StoreUnavailable("DynamoDB: articles kept changing while they were restored")

    async def _rewrite(
        self,
        article_id: int,
        rewritten: Callable[[Stored], Stored | None],
        events: Sequence[DomainEvent] = (),
    ) -> Change | None:
        """Read the article and write what `rewritten` makes of it (None deletes it), on
        condition that it is still as read; from a fresh read again when another write came
        in between. The change written, or None when there is no such article."""
        for attempt in range(MAX_ATTEMPTS):
            before = await self._read(article_id)
            if before is None:
                return None
            change = Change(before, rewritten(before))
            if not await self._write_packed(transactions(self._table.name, [change]), events):
                return change
            await _pause_before_redo(attempt)
        raise StoreUnavailable(f"DynamoDB: article {article_id} kept changing while written")

    async def _write(self, changes: Sequence[Change]) -> list[Change]:
        """Write the changes in as few transactions as fit; the changes left unwritten since
        an article was no longer as read when its transaction ran (none when all went)."""
        return await self._write_packed(transactions(self._table.name, changes))

    async def _write_packed(
        self, packed: Sequence[Transaction], events: Sequence[DomainEvent] = ()
    ) -> list[Change]:
        """`events` are recorded by the first transaction: only a write of one article,
        which is one transaction, raises events."""
        for n, transaction in enumerate(packed):
            recorded = [] if n else [_outbox_action(self._table, e) for e in events]
            try:
                await self._transact([*transaction.actions(), *recorded])
            except _ArticleChanged:
                return [c for t in packed[n:] for c in t.changes]
        return []

    async def _transact(self, actions: Sequence[Action]) -> None:
        """Run one transaction: an article not as read is _ArticleChanged, a slug taken is a
        Conflict. The first goes first: the slug may be taken by the very write that changed
        the article, and a redo from a fresh read then finds it claimed already."""
        reasons = await transact(self._table, [a.request for a in actions])
        if reasons is None:
            return
        failed = {a.role for a, r in zip(actions, reasons, strict=True) if r == CONDITION_FAILED}
        if failed - {Role.SLUG_CLAIM}:
            raise _ArticleChanged
        if failed:
            raise Conflict.taken("slug")
        raise RuntimeError(f"DynamoDB cancelled an article transaction: {reasons}")

    async def _page_by_tag(self, tag: str, window: Window) -> list[Article]:
        """The tag's TAG items give the page's ids in order, then one batch read the articles."""
        tagged = await lists.read(
            self._table,
            lists.tagged(tag),
            lists.after_key(window),
            lists.wanted(window),
            attributes=["article_id"],
        )
        ids = [t["article_id"] for t in lists.cut(tagged, window)]
        found = {a["id"]: a for a in await self._table.get_many([article_key(i) for i in ids])}
        return [article_from(found[i]) for i in ids if i in found]

    async def _page_by_authors(
        self, author_ids: Sequence[int], tag: str | None, window: Window
    ) -> list[Article]:
        """One query per author (a feed's followees), each reading at most the window's worth
        of that author's newest articles, merged newest first: the calls grow with the number
        of authors, never with the number of articles."""
        tag_filter = None if tag is None else lists.carrying(tag)
        queries = [self._read_by_author(a, window, tag_filter) for a in set(author_ids)]
        merged = [i for found in await asyncio.gather(*queries) for i in found]
        return lists.cut(sorted(merged, key=sort_key, reverse=True), window)

    async def _read_by_author(
        self, author_id: int, window: Window, tag_filter: lists.Filter | None = None
    ) -> list[Article]:
        """At most the window's worth of the author's newest articles, offset included."""
        found = await lists.read(
            self._table,
            lists.by_author(author_id),
            lists.after_key(window),
            lists.wanted(window),
            tag_filter,
        )
        return [article_from(i) for i in found]

    async def _chosen(
        self, query: ArticleQuery, attributes: list[str] | None = None
    ) -> list[dict[str, Any]]:
        """The items of the articles `query.article_ids` names that match its other filters."""
        assert query.article_ids is not None
        keys = [article_key(i) for i in set(query.article_ids)]
        items = await self._table.get_many(keys, attributes=attributes)
        authors = None if query.author_ids is None else set(query.author_ids)
        return [
            i
            for i in items
            if (authors is None or i["author_id"] in authors)
            and (query.tag is None or query.tag in i["tags"])
        ]

    async def _sum_counts(self, keys: Sequence[Mapping[str, str]]) -> int:
        counts = await self._table.get_many(keys, attributes=[COUNT_ATTRIBUTE])
        return sum(int(c.get(COUNT_ATTRIBUTE, 0)) for c in counts)

    async def _read(self, article_id: int) -> Stored | None:
        found = await get_one(self._table, article_key(article_id))
        return None if found is None else stored_from(found)

    async def _read_many(self, article_ids: Sequence[int]) -> dict[int, Stored]:
        items = await self._table.get_many([article_key(i) for i in article_ids])
        return {s.article.id: s for s in map(stored_from, items)}

    async def _check_slugs_free(self, slugs: Sequence[str]) -> None:
        if await self._table.get_many([slug_key(s) for s in slugs], attributes=[PARTITION_KEY]):
            raise Conflict.taken("slug")


def _article(new: NewArticle, article_id: int) -> Article:
    return Article(
        id=article_id,
        slug=new.slug,
        title=new.title,
        description=new.description,
        body=new.body,
        author_id=new.author_id,
        created_at=new.created_at,
        updated_at=new.created_at,
    )


def _edited(article: Article, edit: ArticleEdit) -> Article:
    return replace(
        article,
        slug=edit.slug,
        title=edit.title,
        description=edit.description,
        body=edit.body,
        updated_at=edit.updated_at,
    )


def _restoring(current: Stored | None, record: ArticleRecord) -> Change:
    article = at_millisecond(record.article)
    if current is None:
        return Change(None, first_version(article, record.tags))
    return Change(current, current.replaced_by(article, record.tags))


def _outbox_action(table: DynamoTable, event: DomainEvent) -> Action:
    [request] = record_actions(table, [event])
    entry = entry_key(event)
    size = len(request["Put"]["Item"]["event"]["S"].encode())
    return Action(request, (entry["pk"], entry["sk"]), Role.OUTBOX, size)


async def _pause_before_redo(attempt: int) -> None:
    jitter = random.random()  # noqa: S311 - timing, not a secret
    await asyncio.sleep(FIRST_REDO_PAUSE_SECONDS * 2**attempt * jitter)
