"""Builds every domain's store from its configured URL."""

from __future__ import annotations

from collections.abc import Mapping

from config import ConfigError
from stores.protocols import Stores
from stores.sql.articles import SqlArticleStore
from stores.sql.backend import SqlBackend
from stores.sql.comments import SqlCommentStore
from stores.sql.likes import SqlLikeStore
from stores.sql.users import SqlUserStore

SQL_SCHEMES = ("sqlite", "postgresql")


class OpenStores:
    """The stores of one process and what it takes to prepare and close them."""

    def __init__(self, urls_by_domain: Mapping[str, str]) -> None:
        for domain, url in urls_by_domain.items():
            scheme = url.partition(":")[0].partition("+")[0]
            if scheme not in SQL_SCHEMES:
                raise ConfigError(
                    f"the {domain} store URL has the unsupported scheme {scheme!r}: use "
                    "sqlite+aiosqlite:///FILE or postgresql+asyncpg://HOST/DB"
                )
        self._sql = SqlBackend(urls_by_domain)
        self.stores = Stores(
            users=SqlUserStore(self._sql.engine("users")),
            articles=SqlArticleStore(self._sql.engine("articles")),
            likes=SqlLikeStore(self._sql.engine("likes")),
            comments=SqlCommentStore(self._sql.engine("comments")),
        )

    async def prepare(self) -> None:
        await self._sql.create_schema()

    async def close(self) -> None:
        await self._sql.close()
