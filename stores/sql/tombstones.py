"""Tombstones of deleted articles, kept by the domains that hold data about articles (comments,
likes), so that a write racing an article's deletion cannot outlive it. The article is
deleted first and its ArticleDeleted event then reaches `forget_article`, so a write may
check that the article exists, lose it meanwhile, and commit after its data was forgotten.

`forget_article` buries the article (writes its tombstone) and deletes its data in one
transaction; a write of new data for articles checks, after writing and in the same
transaction, that none of them is buried, and rolls back if one is. Either the write commits
first, and the forgetting, which starts later, deletes what it wrote; or the forgetting does,
and the write's check sees the tombstone:

- SQLite: a transaction that has written holds the database's one write lock until it ends,
  so a check after the write sees every tombstone committed before it, and no tombstone can
  commit between the check and the commit.
- PostgreSQL (read committed: each statement sees what was committed when it began): both
  first take a lock on the article, in a statement of their own, a shared one to write, an
  exclusive one to forget (advisory locks, held to the transaction's end). Whichever comes
  second waits for the first to commit, and its next statements see that commit: a write sees
  the tombstone, a forgetting sees the write's rows. Writes do not wait for each other."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import Table, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from stores.errors import ArticleForgotten
from stores.sql.engine import insert_ignoring_duplicates
from stores.sql.tables import comment_tombstones, like_tombstones

_INT32 = 2**32
_SHARED = text(
    "SELECT count(pg_advisory_xact_lock_shared(:class, k))"
    " FROM unnest(CAST(:keys AS integer[])) AS k"
)
_EXCLUSIVE = text(
    "SELECT count(pg_advisory_xact_lock(:class, k)) FROM unnest(CAST(:keys AS integer[])) AS k"
)


@dataclass(frozen=True)
class Tombstones:
    table: Table  # one article_id column
    # The first key of the domain's advisory locks on PostgreSQL (the article is the second),
    # so that the domains sharing a database lock articles apart.
    lock_class: int

    @asynccontextmanager
    async def unless_forgotten(
        self, conn: AsyncConnection, article_ids: Iterable[int]
    ) -> AsyncIterator[None]:
        """Around a write of data for `article_ids` in `conn`'s transaction: raise
        ArticleForgotten after it, which rolls the transaction back, if one was buried."""
        wanted = sorted(set(article_ids))
        await self._lock(conn, wanted, exclusive=False)
        yield
        found = await conn.execute(
            select(self.table.c.article_id).where(self.table.c.article_id.in_(wanted)).limit(1)
        )
        buried = found.scalar()
        if buried is not None:
            raise ArticleForgotten(buried)

    async def bury(self, conn: AsyncConnection, article_id: int) -> None:
        """Write the article's tombstone (again: no change), before deleting its data in the
        same transaction."""
        await self._lock(conn, [article_id], exclusive=True)
        await conn.execute(
            insert_ignoring_duplicates(self.table, conn.dialect.name), {"article_id": article_id}
        )

    async def _lock(
        self, conn: AsyncConnection, article_ids: list[int], *, exclusive: bool
    ) -> None:
        if conn.dialect.name != "postgresql":
            return
        # Ids beyond 32 bits wrap around: two articles sharing a lock only wait for each other.
        keys = sorted({(a + _INT32 // 2) % _INT32 - _INT32 // 2 for a in article_ids})
        await conn.execute(
            _EXCLUSIVE if exclusive else _SHARED, {"class": self.lock_class, "keys": keys}
        )


COMMENTS = Tombstones(comment_tombstones, lock_class=0x636D6E74)  # "cmnt"
LIKES = Tombstones(like_tombstones, lock_class=0x6C696B65)  # "like"
