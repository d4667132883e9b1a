"""Pieces every SQL store shares: the ping and newest-first windows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from models.pages import Window


class SqlStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def ping(self) -> None:
        async with self._engine.connect() as conn:
            await conn.execute(text("SELECT 1"))


def newest_first(
    stmt: Select[Any], created_at: Column[Any], ident: Column[Any], window: Window
) -> Select[Any]:
    if window.after is not None:
        # A plain tuple on the right binds each value with its column's type, so the instant
        # goes through UtcDateTime like every stored one (a `tuple_` of literals would bind a
        # bare DateTime: wrong for a non-UTC instant, and rejected by asyncpg when aware).
        stmt = stmt.where(tuple_(created_at, ident) < (window.after.created_at, window.after.id))
    return stmt.order_by(created_at.desc(), ident.desc()).limit(window.limit).offset(window.offset)
