"""Articles and their tags in SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, delete, exc, func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from models.articles import Article, ArticleEdit, ArticleQuery, NewArticle
from models.errors import Conflict, NotFound
from models.pages import Window
from models.validation import MISSING
from stores.sql._common import SqlStore, newest_first
from stores.sql.tables import article_tags, articles


class SqlArticleStore(SqlStore):
    async def create(self, new: NewArticle) -> Article:
        values = {
            "slug": new.slug,
            "title": new.title,
            "description": new.description,
            "body": new.body,
            "author_id": new.author_id,
            "created_at": new.created_at,
            "updated_at": new.created_at,
        }
        try:
            async with self._engine.begin() as conn:
                result = await conn.execute(insert(articles).values(values).returning(articles))
                article = _article(result.mappings().one())
                await _write_tags(conn, article.id, new.tags)
        except exc.IntegrityError:
            raise Conflict.taken("slug") from None
        return article

    async def update(self, article_id: int, edit: ArticleEdit) -> Article:
        values = {
            "slug": edit.slug,
            "title": edit.title,
            "description": edit.description,
            "body": edit.body,
            "updated_at": edit.updated_at,
        }
        try:
            async with self._engine.begin() as conn:
                result = await conn.execute(
                    update(articles)
                    .where(articles.c.id == article_id)
                    .values(values)
                    .returning(articles)
                )
                found = result.mappings().one_or_none()
                if found is None:
                    raise NotFound("article")
                if edit.tags is not MISSING:
                    await conn.execute(
                        delete(article_tags).where(article_tags.c.article_id == article_id)
                    )
                    await _write_tags(conn, article_id, edit.tags)
        except exc.IntegrityError:
            raise Conflict.taken("slug") from None
        return _article(found)

    async def delete(self, article_id: int) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(article_tags).where(article_tags.c.article_id == article_id))
            await conn.execute(delete(articles).where(articles.c.id == article_id))

    async def by_slug(self, slug: str) -> Article | None:
        async with self._engine.connect() as conn:
            result = await conn.execute(select(articles).where(articles.c.slug == slug))
            found = result.mappings().one_or_none()
        return None if found is None else _article(found)

    async def page(self, query: ArticleQuery, window: Window) -> list[Article]:
        stmt = newest_first(
            _filtered(select(articles), query), articles.c.created_at, articles.c.id, window
        )
        async with self._engine.connect() as conn:
            return [_article(m) for m in (await conn.execute(stmt)).mappings()]

    async def count(self, query: ArticleQuery) -> int:
        stmt = _filtered(select(func.count()).select_from(articles), query)
        async with self._engine.connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def tags_of(self, article_ids: Sequence[int]) -> Mapping[int, list[str]]:
        if not article_ids:
            return {}
        stmt = select(article_tags.c.article_id, article_tags.c.tag).where(
            article_tags.c.article_id.in_(article_ids)
        )
        tags: dict[int, list[str]] = {}
        async with self._engine.connect() as conn:
            for article_id, tag in await conn.execute(stmt):
                tags.setdefault(article_id, []).append(tag)
        # Sorted here, by code point, so the order never depends on a database collation.
        return {article_id: sorted(names) for article_id, names in tags.items()}

    async def all_tags(self) -> list[str]:
        stmt = select(article_tags.c.tag).distinct()
        async with self._engine.connect() as conn:
            # Sorted here, by code point, so the order never depends on a database collation.
            return sorted((await conn.execute(stmt)).scalars())


def _filtered(stmt: Select[Any], query: ArticleQuery) -> Select[Any]:
    if query.tag is not None:
        tagged = select(article_tags.c.article_id).where(article_tags.c.tag == query.tag)
        stmt = stmt.where(articles.c.id.in_(tagged))
    if query.author_ids is not None:
        stmt = stmt.where(articles.c.author_id.in_(query.author_ids))
    if query.article_ids is not None:
        stmt = stmt.where(articles.c.id.in_(query.article_ids))
    return stmt


async def _write_tags(conn: AsyncConnection, article_id: int, tags: Sequence[str]) -> None:
    if tags:
        await conn.execute(
            insert(article_tags), [{"article_id": article_id, "tag": t} for t in tags]
        )


def _article(m: RowMapping) -> Article:
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
