"""The SQL side of a deployment: one engine per distinct URL, shared by the domains on it."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncEngine

from config import PoolSize
from stores.sql import spans, versioning
from stores.sql.engine import DEFAULT_POOL, create_engine


class SqlBackend:
    def __init__(self, urls_by_domain: Mapping[str, str], pool: PoolSize = DEFAULT_POOL) -> None:
        self._engines: dict[str, AsyncEngine] = {}
        self._domain_engines: dict[str, AsyncEngine] = {}
        for domain, url in urls_by_domain.items():
            if url not in self._engines:
                self._engines[url] = create_engine(url, pool)
            self._domain_engines[domain] = spans.for_domain(self._engines[url], domain)

    def engine(self, domain: str) -> AsyncEngine:
        return self._domain_engines[domain]

    async def prepare_schema(self, *, migrate: bool) -> None:
        """Bring each domain's schema to its latest migration (embedded and development mode),
        or only check that it is there: in production, migrating is a deliberate deploy step
        (`python -m stores.sql.migrate upgrade`), not a side effect of starting a worker."""
        domains = list(self._domain_engines)
        found = await asyncio.gather(
            *(versioning.versions(self._domain_engines[d], d) for d in domains)
        )
        behind = {d: where for d, where in zip(domains, found, strict=True) if not where.at_head}
        if behind and not migrate:
            raise versioning.SchemaNotCurrent(behind)
        # One domain after the other: Alembic keeps the migration it runs in module state.
        for domain in behind:
            await versioning.upgrade(self._domain_engines[domain], domain)

    async def close(self) -> None:
        for engine in self._engines.values():
            await engine.dispose()
