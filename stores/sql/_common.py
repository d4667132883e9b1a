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
        stmt = stmt.where(
            tuple_(created_at, ident) < tuple_(window.after.created_at, window.after.id)
        )
    return stmt.order_by(created_at.desc(), ident.desc()).limit(window.limit).offset(window.offset)
