"""Articles and their tags in SQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    Select,
    String,
    bindparam,
    delete,
    exc,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from events import DomainEvent
from events.relay import EventsOf, no_events
from models.articles import Article, ArticleEdit, ArticleQuery, ArticleRecord, NewArticle
from models.errors import Conflict, NotFound
from models.pages import Position, Window
from models.validation import MISSING
from stores.sql._common import WindowedPages, cursor_of, older_than_cursor
from stores.sql.outbox import SqlOutboxStore, record
from stores.sql.reads import Reads, among
from stores.sql.restoring import advance_ids, hold_ids, replacing
from stores.sql.tables import article_counts, article_tags, articles, articles_outbox

ALL_KEY = "all"
_TAGS_OF = Reads(
    lambda dialect, _: select(article_tags.c.article_id, article_tags.c.tag).where(
        among(article_tags.c.article_id, "ids", dialect)
    )
)


class SqlArticleStore(SqlOutboxStore):
    outbox = articles_outbox

    async def create(self, new: NewArticle, *, events: EventsOf[Article] = no_events) -> Article:
        [article] = await self._create([new], events)
        return article

    async def create_many(self, new: Sequence[NewArticle]) -> list[Article]:
        return await self._create(new, no_events)

    async def _create(self, new: Sequence[NewArticle], events: EventsOf[Article]) -> list[Article]:
        if not new:
            return []
        values = [
            {
                "slug": n.slug,
                "title": n.title,
                "description": n.description,
                "body": n.body,
                "author_id": n.author_id,
                "created_at": n.created_at,
                "updated_at": n.created_at,
            }
            for n in new
        ]
        stmt = insert(articles).returning(articles, sort_by_parameter_order=True)
        try:
            async with self._begin() as conn:
                created = [_article(m) for m in (await conn.execute(stmt, values)).mappings()]
                await _write_tags(conn, [(a, n.tags) for a, n in zip(created, new, strict=True)])
                await _change_counts(conn, _keys((n.author_id, n.tags) for n in new))
                await record(conn, self.outbox, [e for a in created for e in events(a)])
        except exc.IntegrityError:
            raise Conflict.taken("slug") from None
        return created

    async def update(
        self, article_id: int, edit: ArticleEdit, *, events: Sequence[DomainEvent] = ()
    ) -> Article:
        values = {
            "slug": edit.slug,
            "title": edit.title,
            "description": edit.description,
            "body": edit.body,
            "updated_at": edit.updated_at,
        }
        try:
            async with self._begin() as conn:
                result = await conn.execute(
                    update(articles)
                    .where(articles.c.id == article_id)
                    .values(values)
                    .returning(articles)
                )
                found = result.mappings().one_or_none()
                if found is None:
                    raise NotFound("article")
                article = _article(found)
                if edit.tags is not MISSING:
                    dropped = await conn.execute(
                        delete(article_tags)
                        .where(article_tags.c.article_id == article_id)
                        .returning(article_tags.c.tag)
                    )
                    old = Counter(_tag_key(t) for t in dropped.scalars())
                    await _write_tags(conn, [(article, edit.tags)])
                    new = Counter(_tag_key(t) for t in edit.tags)
                    await _change_counts(conn, _difference(new, old))
                await record(conn, self.outbox, events)
        except exc.IntegrityError:
            raise Conflict.taken("slug") from None
        return article

    async def delete(self, article_id: int, *, events: Sequence[DomainEvent] = ()) -> None:
        async with self._begin() as conn:
            # Only the transaction that really deleted the row takes its counts away: a repeated
            # or concurrent delete of the same article finds nothing and changes nothing.
            deleted = await conn.execute(
                delete(articles).where(articles.c.id == article_id).returning(articles.c.author_id)
            )
            await record(conn, self.outbox, events)
            author_id = deleted.scalar_one_or_none()
            if author_id is None:
                return
            tags = await conn.execute(
                delete(article_tags)
                .where(article_tags.c.article_id == article_id)
                .returning(article_tags.c.tag)
            )
            await _change_counts(conn, _difference(Counter(), _keys([(author_id, tags.scalars())])))

    async def by_slug(self, slug: str) -> Article | None:
        found = await self._read(_BY_SLUG, None, {"slug": slug})
        return _article(found[0]) if found else None

    async def by_ids(self, article_ids: Sequence[int]) -> list[Article]:
        if not article_ids:
            return []
        found = await self._read(_BY_IDS, None, {"ids": list(set(article_ids))})
        return [_article(m) for m in found]

    async def page(self, query: ArticleQuery, window: Window) -> list[Article]:
        # Filtered by tag, the tag's rows (which carry their article's creation time) set the
        # order, so the index (tag, created_at, article_id) serves one page and stops.
        shape = _PageShape(
            tagged=query.tag is not None,
            authors=None
            if query.author_ids is None
            else "one"
            if len(query.author_ids) == 1
            else "many",
            among_ids=query.article_ids is not None,
            after=window.after is not None,
            limited=window.limit is not None,
        )
        params: dict[str, Any] = {
            "tag": query.tag,
            "author_ids": list(query.author_ids or ()),
            "author_id": (query.author_ids or (None,))[0],
            "article_ids": list(query.article_ids or ()),
            "limit": window.limit,
            "offset": window.offset,
        } | cursor_of(window)
        return [_article(m) for m in await self._read(_PAGE, shape, params)]

    async def count(self, query: ArticleQuery) -> int:
        if query.matches_nothing:
            return 0
        # The home page, a tag page and a feed read their kept counts (a missing row is 0);
        # filters combined count their rows, as few as the narrower filter selects.
        if query == ArticleQuery():
            kept = [ALL_KEY]
        elif query.tag is not None and query == ArticleQuery(tag=query.tag):
            kept = [_tag_key(query.tag)]
        elif query.author_ids is not None and query == ArticleQuery(author_ids=query.author_ids):
            kept = [_author_key(a) for a in sorted(set(query.author_ids))]
        else:
            stmt = _filtered(select(func.count()).select_from(articles), query)
            async with self._connect() as conn:
                return int((await conn.execute(stmt)).scalar_one())
        [row] = await self._read(_KEPT, None, {"keys": kept})
        return int(row["total"])

    async def pages_by_author(
        self, author_ids: Sequence[int], window: Window
    ) -> Mapping[int, list[Article]]:
        return await self._pages(_BY_AUTHOR, author_ids, window, _article)

    async def counts_by_author(self, author_ids: Sequence[int]) -> Mapping[int, int]:
        """The authors' kept counts: one primary-key probe each."""
        by_key = {_author_key(a): a for a in author_ids}
        if not by_key:
            return {}
        rows = await self._read(_KEPT_EACH, None, {"keys": list(by_key)})
        return {by_key[r["key"]]: int(r["count"]) for r in rows}

    async def positions_of(self, article_ids: Sequence[int]) -> Mapping[int, Position]:
        if not article_ids:
            return {}
        rows = await self._read(_POSITIONS, None, {"ids": list(set(article_ids))})
        return {r["id"]: Position(r["created_at"], r["id"]) for r in rows}

    async def tags_of(self, article_ids: Sequence[int]) -> Mapping[int, list[str]]:
        if not article_ids:
            return {}
        tags: dict[int, list[str]] = {}
        for row in await self._read(_TAGS_OF, None, {"ids": list(article_ids)}):
            tags.setdefault(row["article_id"], []).append(row["tag"])
        # Sorted here, by code point, so the order never depends on a database collation.
        return {article_id: sorted(names) for article_id, names in tags.items()}

    async def all_tags(self) -> list[str]:
        # Sorted here, by code point, so the order never depends on a database collation.
        return sorted(r["tag"] for r in await self._read(_ALL_TAGS, None, {}))

    async def dump(self, after: int | None, limit: int) -> list[ArticleRecord]:
        stmt = select(articles).order_by(articles.c.id).limit(limit)
        if after is not None:
            stmt = stmt.where(articles.c.id > after)
        async with self._connect() as conn:
            found = [_article(m) for m in (await conn.execute(stmt)).mappings()]
        tags = await self.tags_of([a.id for a in found])
        return [ArticleRecord(a, tuple(tags.get(a.id, []))) for a in found]

    async def restore(self, records: Sequence[ArticleRecord]) -> None:
        if not records:
            return
        ids = [r.article.id for r in records]
        try:
            async with self._begin() as conn:
                await hold_ids(conn, articles)
                # The counts change by the difference between what the records replace and the
                # records themselves, so a batch restored again changes none. Writing first
                # makes SQLite take its write lock before what is there is read.
                dropped = await conn.execute(
                    delete(article_tags)
                    .where(article_tags.c.article_id.in_(ids))
                    .returning(article_tags.c.article_id, article_tags.c.tag)
                )
                old_tags: dict[int, list[str]] = {}
                for article_id, tag in dropped:
                    old_tags.setdefault(article_id, []).append(tag)
                there = await conn.execute(
                    select(articles.c.id, articles.c.author_id).where(articles.c.id.in_(ids))
                )
                old = _keys((author_id, old_tags.get(i, [])) for i, author_id in there)
                await conn.execute(
                    replacing(articles, conn.dialect.name), [_columns(r.article) for r in records]
                )
                await _write_tags(conn, [(r.article, r.tags) for r in records])
                await _change_counts(
                    conn, _difference(_keys((r.article.author_id, r.tags) for r in records), old)
                )
                await advance_ids(conn, articles, max(ids))
        except exc.IntegrityError:
            raise Conflict.taken("slug") from None


def _filtered(stmt: Select[Any], query: ArticleQuery) -> Select[Any]:
    if query.tag is not None:
        # At most one row per article: (article_id, tag) is article_tags' primary key.
        tagged = (article_tags.c.article_id == articles.c.id) & (article_tags.c.tag == query.tag)
        stmt = stmt.join(article_tags, tagged)
    if query.author_ids is not None:
        stmt = stmt.where(articles.c.author_id.in_(query.author_ids))
    if query.article_ids is not None:
        stmt = stmt.where(articles.c.id.in_(query.article_ids))
    return stmt


async def _write_tags(conn: AsyncConnection, tags: Sequence[tuple[Article, Sequence[str]]]) -> None:
    """Tags of each article, all in one statement."""
    rows = [
        {"article_id": a.id, "tag": t, "created_at": a.created_at}
        for a, names in tags
        for t in names
    ]
    if rows:
        await conn.execute(insert(article_tags), rows)


def _tag_key(tag: str) -> str:
    return f"tag:{tag}"


def _author_key(author_id: int) -> str:
    return f"author:{author_id}"


def _keys(authored: Iterable[tuple[int, Iterable[str]]]) -> Counter[str]:
    """How many of the given articles (author id and tags) each count key counts."""
    keys: Counter[str] = Counter()
    for author_id, tags in authored:
        keys.update([ALL_KEY, _author_key(author_id), *map(_tag_key, tags)])
    return keys


def _difference(new: Counter[str], old: Counter[str]) -> Counter[str]:
    """`new` minus `old`, key by key, negative changes kept (Counter's `-` drops them)."""
    changes = Counter(new)
    changes.subtract(old)
    return changes


@dataclass(frozen=True)
class _PageShape:
    tagged: bool
    # None, or how many authors: the index (author_id, created_at, id) hands one author's
    # articles newest first, where `= ANY` of a list makes PostgreSQL sort what it reads.
    authors: Literal["one", "many"] | None
    among_ids: bool
    after: bool
    limited: bool


def _page_statement(dialect: str, shape: _PageShape) -> Select[Any]:
    """A page of articles newest first. Filtered by tag, the tag's rows (which carry their
    article's creation time) set the order, so the index (tag, created_at, article_id) serves
    one page and stops."""
    stmt = select(articles)
    created_at, ident = articles.c.created_at, articles.c.id
    if shape.tagged:
        # At most one row per article: (article_id, tag) is article_tags' primary key.
        tagged = (article_tags.c.article_id == articles.c.id) & (
            article_tags.c.tag == bindparam("tag")
        )
        stmt = stmt.join(article_tags, tagged)
        created_at, ident = article_tags.c.created_at, article_tags.c.article_id
    if shape.authors == "one":
        stmt = stmt.where(articles.c.author_id == bindparam("author_id", type_=BigInteger))
    elif shape.authors == "many":
        stmt = stmt.where(among(articles.c.author_id, "author_ids", dialect))
    if shape.among_ids:
        stmt = stmt.where(among(articles.c.id, "article_ids", dialect))
    if shape.after:
        stmt = older_than_cursor(stmt, created_at, ident)
    stmt = stmt.order_by(created_at.desc(), ident.desc()).offset(bindparam("offset"))
    return stmt.limit(bindparam("limit")) if shape.limited else stmt


def _all_tags_statement(_dialect: str, _shape: None) -> Select[Any]:
    """SELECT DISTINCT would read every tag row; this hops from each tag to the next one
    through the index on (tag, ...): one index probe per distinct tag."""
    hops = select(func.min(article_tags.c.tag).label("tag")).cte("tags", recursive=True)
    following = select(func.min(article_tags.c.tag)).where(article_tags.c.tag > hops.c.tag)
    hops = hops.union_all(select(following.scalar_subquery()).where(hops.c.tag.is_not(None)))
    return select(hops.c.tag).where(hops.c.tag.is_not(None))


_BY_AUTHOR = WindowedPages(articles, articles.c.author_id)
_PAGE = Reads(_page_statement)
_ALL_TAGS = Reads(_all_tags_statement)
_BY_SLUG = Reads(lambda _, __: select(articles).where(articles.c.slug == bindparam("slug")))
_BY_IDS = Reads(lambda dialect, _: select(articles).where(among(articles.c.id, "ids", dialect)))
# The sum of the kept counts of some keys: one primary-key probe per key.
_KEPT = Reads(
    lambda dialect, _: select(
        func.coalesce(func.sum(article_counts.c["count"]), 0).label("total")
    ).where(among(article_counts.c["key"], "keys", dialect, String))
)

_KEPT_EACH = Reads(
    lambda dialect, _: select(article_counts.c["key"], article_counts.c["count"]).where(
        among(article_counts.c["key"], "keys", dialect, String)
    )
)
_POSITIONS = Reads(
    lambda dialect, _: select(articles.c.id, articles.c.created_at).where(
        among(articles.c.id, "ids", dialect)
    )
)


async def _change_counts(conn: AsyncConnection, changes: Mapping[str, int]) -> None:
    """Add each change to its key's count, creating the row at need, in one statement. Keys go
    in sorted order, the order every writer locks their rows in, so that two writers sharing
    keys wait for each other instead of deadlocking."""
    rows = [{"key": key, "count": change} for key, change in sorted(changes.items()) if change]
    if not rows:
        return
    stmt = (
        postgresql.insert(article_counts)
        if conn.dialect.name == "postgresql"
        else sqlite.insert(article_counts)
    )
    total = article_counts.c["count"] + stmt.excluded["count"]
    await conn.execute(
        stmt.on_conflict_do_update(index_elements=["key"], set_={"count": total}), rows
    )


def _columns(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "slug": article.slug,
        "title": article.title,
        "description": article.description,
        "body": article.body,
        "author_id": article.author_id,
        "created_at": article.created_at,
        "updated_at": article.updated_at,
    }


def _article(m: Mapping[Any, Any]) -> Article:
    return Article(
        id=m["id"],
        slug=m["slug"],
        title=m["title"],
        description=m["description"],
        body=m["body"],
        author_id=m["author_id"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )
