"""The SQL side of a deployment: one engine per distinct URL, shared by the domains on it."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncEngine

from stores.sql.engine import create_engine
from stores.sql.tables import METADATA_BY_DOMAIN


class SqlBackend:
    def __init__(self, urls_by_domain: Mapping[str, str]) -> None:
        self._engines: dict[str, AsyncEngine] = {}
        self._domain_engines: dict[str, AsyncEngine] = {}
        for domain, url in urls_by_domain.items():
            if url not in self._engines:
                self._engines[url] = create_engine(url)
            self._domain_engines[domain] = self._engines[url]

    def engine(self, domain: str) -> AsyncEngine:
        return self._domain_engines[domain]

    async def create_schema(self) -> None:
        """Create each domain's missing tables (embedded and development mode)."""
        for domain, engine in self._domain_engines.items():
            async with engine.begin() as conn:
                await conn.run_sync(METADATA_BY_DOMAIN[domain].create_all)

    async def close(self) -> None:
        for engine in self._engines.values():
            await engine.dispose()
