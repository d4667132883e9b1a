"""What the SQL stores' `restore` shares: writing rows exactly as given over whatever their
keys hold, and keeping PostgreSQL's id sequences ahead of the ids written."""

from __future__ import annotations

from sqlalchemy import Insert, Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


def replacing(table: Table, dialect_name: str) -> Insert:
    """INSERT that overwrites every other column of a row whose primary key exists."""
    stmt = postgresql.insert(table) if dialect_name == "postgresql" else sqlite.insert(table)
    keys = [c.name for c in table.primary_key]
    others = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
    if not others:
        return stmt.on_conflict_do_nothing(index_elements=keys)
    return stmt.on_conflict_do_update(index_elements=keys, set_=others)


async def hold_ids(conn: AsyncConnection, table: Table) -> None:
    """Keep other writers from drawing ids from `table`'s sequence until the transaction ends,
    so that `advance_ids` reads and moves it with nobody in between. On SQLite a writer holds
    the whole database already."""
    if conn.dialect.name == "postgresql":
        # SHARE ROW EXCLUSIVE conflicts with the ROW EXCLUSIVE every INSERT takes before it
        # draws from the sequence (and with itself: two restores take turns).
        await conn.execute(text(f"LOCK TABLE {table.name} IN SHARE ROW EXCLUSIVE MODE"))


async def advance_ids(conn: AsyncConnection, table: Table, written: int) -> None:
    """Make ids handed out after this transaction exceed `written` (the largest id it wrote),
    never moving the sequence back. Call `hold_ids` first in the same transaction.

    SQLite needs nothing: with AUTOINCREMENT (these tables) it keeps the largest id ever
    written, ids given explicitly included, and hands out the next one."""
    if conn.dialect.name != "postgresql":
        return
    # pg_sequence_last_value is NULL until the sequence's first nextval (GREATEST skips it);
    # setval's default is_called=true makes the next id the value set plus one.
    await conn.execute(
        text(
            "SELECT setval(seq, GREATEST(:written, pg_sequence_last_value(seq))) "
            "FROM (SELECT pg_get_serial_sequence(:table, 'id')::regclass AS seq) AS s"
        ),
        {"written": written, "table": table.name},
    )
