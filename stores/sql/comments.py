"""Comments in SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import RowMapping

from models.comments import Comment, NewComment
from models.pages import Window
from stores.sql._common import SqlStore, newest_first
from stores.sql.restoring import advance_ids, hold_ids, replacing
from stores.sql.tables import comments


class SqlCommentStore(SqlStore):
    async def add(self, new: NewComment) -> Comment:
        [comment] = await self.add_many([new])
        return comment

    async def add_many(self, new: Sequence[NewComment]) -> list[Comment]:
        if not new:
            return []
        values = [
            {
                "article_id": n.article_id,
                "author_id": n.author_id,
                "body": n.body,
                "created_at": n.created_at,
                "updated_at": n.created_at,
            }
            for n in new
        ]
        stmt = insert(comments).returning(comments, sort_by_parameter_order=True)
        async with self._begin() as conn:
            return [_comment(m) for m in (await conn.execute(stmt, values)).mappings()]

    async def by_id(self, comment_id: int) -> Comment | None:
        async with self._connect() as conn:
            result = await conn.execute(select(comments).where(comments.c.id == comment_id))
            found = result.mappings().one_or_none()
        return None if found is None else _comment(found)

    async def page(self, article_id: int, window: Window) -> list[Comment]:
        stmt = newest_first(
            select(comments).where(comments.c.article_id == article_id),
            comments.c.created_at,
            comments.c.id,
            window,
        )
        async with self._connect() as conn:
            return [_comment(m) for m in (await conn.execute(stmt)).mappings()]

    async def count(self, article_id: int) -> int:
        stmt = select(func.count()).where(comments.c.article_id == article_id)
        async with self._connect() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def delete(self, comment_id: int) -> None:
        async with self._begin() as conn:
            await conn.execute(delete(comments).where(comments.c.id == comment_id))

    async def forget_article(self, article_id: int) -> None:
        async with self._begin() as conn:
            await conn.execute(delete(comments).where(comments.c.article_id == article_id))

    async def dump(self, after: int | None, limit: int) -> list[Comment]:
        stmt = select(comments).order_by(comments.c.id).limit(limit)
        if after is not None:
            stmt = stmt.where(comments.c.id > after)
        async with self._connect() as conn:
            return [_comment(m) for m in (await conn.execute(stmt)).mappings()]

    async def restore(self, records: Sequence[Comment]) -> None:
        if not records:
            return
        values = [
            {
                "id": c.id,
                "article_id": c.article_id,
                "author_id": c.author_id,
                "body": c.body,
                "created_at": c.created_at,
                "updated_at": c.updated_at,
            }
            for c in records
        ]
        async with self._begin() as conn:
            await hold_ids(conn, comments)
            await conn.execute(replacing(comments, conn.dialect.name), values)
            await advance_ids(conn, comments, max(c.id for c in records))


def _comment(m: RowMapping) -> Comment:
    return Comment(
        id=m["id"],
        article_id=m["article_id"],
        author_id=m["author_id"],
        body=m["body"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )
