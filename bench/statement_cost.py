"""What one read costs through the store layer against the same statement sent with asyncpg,
step by step, on a seeded PostgreSQL database: CPU microseconds per call, sequential, on
uvloop (as the server runs), alternating the variants in each round.

    python -m bench.statement_cost --rounds 3

The steps: a pooled connection checked out and given back with nothing sent, through
SQLAlchemy's AsyncConnection and as a hot read checks it out (stores/sql/reads.py); a trivial
statement on a connection already held; the tags of 20 articles as the store reads them
(statement built per call, an IN list of 20 parameters, rows turned into a mapping); the same
statement built once with one array parameter (`= ANY`); and asyncpg alone for the last two."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Awaitable, Callable

import asyncpg
import uvloop
from sqlalchemy import BigInteger, any_, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from bench.run import seed
from stores.sql.articles import SqlArticleStore
from stores.sql.engine import create_engine
from stores.sql.reads import _checked_out as reads_checked_out
from stores.sql.tables import article_tags
from tests.postgres import dsn, fresh_databases, server_url

ARTICLE_IDS = list(range(1, 21))
TAGS_SQL = "SELECT article_id, tag FROM article_tags WHERE article_id = ANY($1)"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.statement_cost", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=2000, help="calls per variant and round")
    args = parser.parse_args(argv)
    with fresh_databases(1, prefix="conduit_bench") as [database]:
        seed(database, 1000)
        uvloop.run(_measure(database, args.rounds, args.calls))
    return 0


async def _measure(database: str, rounds: int, calls: int) -> None:
    engine = create_engine(server_url(database))
    store = SqlArticleStore(engine)
    raw = await asyncpg.connect(dsn(database))
    built_once = select(article_tags.c.article_id, article_tags.c.tag).where(
        article_tags.c.article_id == any_(bindparam("ids", type_=ARRAY(BigInteger)))
    )

    async def checkout() -> None:
        async with store._connect():
            pass

    async def read_checkout() -> None:
        (await reads_checked_out(engine.sync_engine.pool)).close()

    async def tags_built_once() -> None:
        async with store._connect() as conn:
            (await conn.execute(built_once, {"ids": ARTICLE_IDS})).all()

    try:
        async with store._connect() as held:

            async def trivial() -> None:
                await held.execute(text("SELECT 1"))

            variants: dict[str, Callable[[], Awaitable[object]]] = {
                "checkout and give back, nothing sent": checkout,
                "the same for a hot read (ReadConnections)": read_checkout,
                "SELECT 1 on a held connection (SQLAlchemy)": trivial,
                "SELECT 1 (asyncpg)": lambda: raw.fetch("SELECT 1"),
                "tags of 20 articles (the store's tags_of)": lambda: store.tags_of(ARTICLE_IDS),
                "tags of 20, statement built once, = ANY (SQLAlchemy)": tags_built_once,
                "tags of 20, = ANY (asyncpg)": lambda: raw.fetch(TAGS_SQL, ARTICLE_IDS),
            }
            for _ in range(200):  # warm: prepared statements, SQLAlchemy's compiled cache
                for call in variants.values():
                    await call()
            for round_ in range(1, rounds + 1):
                for name, call in variants.items():
                    started = time.process_time()
                    for _ in range(calls):
                        await call()
                    spent = (time.process_time() - started) * 1e6 / calls
                    print(f"round {round_}: {name}: {spent:.0f} us CPU per call")
    finally:
        await raw.close()
        await engine.dispose()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
