"""Likes in SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, bindparam, case, delete, func, literal, select, tuple_

from events import DomainEvent
from models.likes import Like, LikeStats
from stores.sql.engine import insert_ignoring_duplicates
from stores.sql.outbox import SqlOutboxStore, record
from stores.sql.reads import Reads, among
from stores.sql.tables import likes, likes_outbox
from stores.sql.tombstones import LIKES


def _stats_statement(dialect: str, signed_in: bool) -> Select[Any]:
    by_viewer = (
        func.max(case((likes.c.user_id == bindparam("viewer_id"), 1), else_=0))
        if signed_in
        else literal(0)
    )
    return (
        select(likes.c.article_id, func.count().label("likes"), by_viewer.label("by_viewer"))
        .where(among(likes.c.article_id, "ids", dialect))
        .group_by(likes.c.article_id)
    )


_STATS = Reads(_stats_statement)
# Through the index on (user_id, article_id).
_LIKED_BY = Reads(
    lambda dialect, _: select(likes.c.user_id, likes.c.article_id).where(
        among(likes.c.user_id, "ids", dialect)
    )
)


class SqlLikeStore(SqlOutboxStore):
    outbox = likes_outbox

    async def like(
        self, user_id: int, article_id: int, *, events: Sequence[DomainEvent] = ()
    ) -> None:
        await self._like([Like(user_id, article_id)], events)

    async def like_many(self, pairs: Sequence[Like]) -> None:
        await self._like(pairs, ())

    async def _like(self, pairs: Sequence[Like], events: Sequence[DomainEvent]) -> None:
        if not pairs:
            return
        written_for = {p.article_id for p in pairs}
        async with self._begin() as conn, LIKES.unless_forgotten(conn, written_for):
            stmt = insert_ignoring_duplicates(likes, conn.dialect.name)
            await conn.execute(
                stmt, [{"user_id": p.user_id, "article_id": p.article_id} for p in pairs]
            )
            await record(conn, self.outbox, events)

    async def unlike(
        self, user_id: int, article_id: int, *, events: Sequence[DomainEvent] = ()
    ) -> None:
        async with self._begin() as conn:
            await conn.execute(
                delete(likes).where(likes.c.user_id == user_id, likes.c.article_id == article_id)
            )
            await record(conn, self.outbox, events)

    async def stats(
        self, article_ids: Sequence[int], viewer_id: int | None
    ) -> Mapping[int, LikeStats]:
        if not article_ids:
            return {}
        params = {"ids": list(article_ids), "viewer_id": viewer_id}
        rows = await self._read(_STATS, viewer_id is not None, params)
        return {
            r["article_id"]: LikeStats(count=r["likes"], liked_by_viewer=bool(r["by_viewer"]))
            for r in rows
        }

    async def liked_article_ids(self, user_id: int) -> list[int]:
        stmt = select(likes.c.article_id).where(likes.c.user_id == user_id)
        async with self._connect() as conn:
            return list((await conn.execute(stmt)).scalars())

    async def liked_article_ids_of(self, user_ids: Sequence[int]) -> Mapping[int, list[int]]:
        if not user_ids:
            return {}
        liked: dict[int, list[int]] = {}
        for row in await self._read(_LIKED_BY, None, {"ids": list(set(user_ids))}):
            liked.setdefault(row["user_id"], []).append(row["article_id"])
        return liked

    async def dump(self, after: Like | None, limit: int) -> list[Like]:
        stmt = select(likes.c.user_id, likes.c.article_id).order_by(
            likes.c.article_id, likes.c.user_id
        )
        if after is not None:
            stmt = stmt.where(
                tuple_(likes.c.article_id, likes.c.user_id) > (after.article_id, after.user_id)
            )
        async with self._connect() as conn:
            return [Like(u, a) for u, a in await conn.execute(stmt.limit(limit))]

    async def restore(self, records: Sequence[Like]) -> None:
        # A like is its key and nothing more: writing one that is there changes nothing.
        await self.like_many(records)

    async def forget_article(self, article_id: int) -> None:
        async with self._begin() as conn:
            await LIKES.bury(conn, article_id)
            await conn.execute(delete(likes).where(likes.c.article_id == article_id))
