"""Comments in SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select

from events import DomainEvent
from events.relay import EventsOf, no_events
from models.comments import Comment, NewComment
from models.pages import Window
from stores.sql._common import WindowedPages
from stores.sql.outbox import SqlOutboxStore, record
from stores.sql.reads import Reads, among
from stores.sql.restoring import advance_ids, hold_ids, replacing
from stores.sql.tables import comments, comments_outbox
from stores.sql.tombstones import COMMENTS


class SqlCommentStore(SqlOutboxStore):
    outbox = comments_outbox

    async def add(self, new: NewComment, *, events: EventsOf[Comment] = no_events) -> Comment:
        [comment] = await self._add([new], events)
        return comment

    async def add_many(self, new: Sequence[NewComment]) -> list[Comment]:
        return await self._add(new, no_events)

    async def _add(self, new: Sequence[NewComment], events: EventsOf[Comment]) -> list[Comment]:
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
        written_for = {n.article_id for n in new}
        async with self._begin() as conn, COMMENTS.unless_forgotten(conn, written_for):
            added = [_comment(m) for m in (await conn.execute(stmt, values)).mappings()]
            await record(conn, self.outbox, [e for c in added for e in events(c)])
        return added

    async def by_id(self, comment_id: int) -> Comment | None:
        async with self._connect() as conn:
            result = await conn.execute(select(comments).where(comments.c.id == comment_id))
            found = result.mappings().one_or_none()
        return None if found is None else _comment(found)

    async def by_ids(self, comment_ids: Sequence[int]) -> list[Comment]:
        if not comment_ids:
            return []
        found = await self._read(_BY_IDS, None, {"ids": list(set(comment_ids))})
        return [_comment(m) for m in found]

    async def pages(
        self, article_ids: Sequence[int], window: Window
    ) -> Mapping[int, list[Comment]]:
        return await self._pages(_OF_ARTICLE, article_ids, window, _comment)

    async def counts(self, article_ids: Sequence[int]) -> Mapping[int, int]:
        if not article_ids:
            return {}
        stmt = (
            select(comments.c.article_id, func.count())
            .where(comments.c.article_id.in_(set(article_ids)))
            .group_by(comments.c.article_id)
        )
        async with self._connect() as conn:
            return {article_id: n for article_id, n in (await conn.execute(stmt)).all()}

    async def delete(self, comment_id: int, *, events: Sequence[DomainEvent] = ()) -> None:
        async with self._begin() as conn:
            await conn.execute(delete(comments).where(comments.c.id == comment_id))
            await record(conn, self.outbox, events)

    async def forget_article(self, article_id: int) -> None:
        async with self._begin() as conn:
            await COMMENTS.bury(conn, article_id)
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


_BY_IDS = Reads(lambda dialect, _: select(comments).where(among(comments.c.id, "ids", dialect)))

_OF_ARTICLE = WindowedPages(comments, comments.c.article_id)


def _comment(m: Mapping[Any, Any]) -> Comment:
    return Comment(
        id=m["id"],
        article_id=m["article_id"],
        author_id=m["author_id"],
        body=m["body"],
        created_at=m["created_at"],
        updated_at=m["updated_at"],
    )
