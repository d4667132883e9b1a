"""Builds every domain's store from its configured URL."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from config import ConfigError, PoolSize
from stores.protocols import Stores
from stores.sql.articles import SqlArticleStore
from stores.sql.backend import SqlBackend
from stores.sql.comments import SqlCommentStore
from stores.sql.engine import DEFAULT_POOL
from stores.sql.likes import SqlLikeStore
from stores.sql.users import SqlUserStore

SQL_SCHEMES = ("sqlite", "postgresql")
_USE = "use sqlite+aiosqlite:///FILE or postgresql+asyncpg://HOST/DB"


class OpenStores:
    """The stores of one process and what it takes to prepare and close them."""

    def __init__(self, urls_by_domain: Mapping[str, str], pool: PoolSize = DEFAULT_POOL) -> None:
        for domain, url in urls_by_domain.items():
            check_sql_url(domain, url)
        self._sql = SqlBackend(urls_by_domain, pool)
        self.stores = Stores(
            users=SqlUserStore(self._sql.engine("users")),
            articles=SqlArticleStore(self._sql.engine("articles")),
            likes=SqlLikeStore(self._sql.engine("likes")),
            comments=SqlCommentStore(self._sql.engine("comments")),
        )

    async def prepare(self, *, migrate: bool) -> None:
        """Migrate every domain's schema to head, or (`migrate=False`, production) refuse with
        SchemaNotCurrent unless it is there already."""
        await self._sql.prepare_schema(migrate=migrate)

    async def close(self) -> None:
        await self._sql.close()


def check_sql_url(domain: str, url: str) -> None:
    """A clear ConfigError for a URL no SQL store can open, instead of a traceback at start.
    Messages never repeat the URL: it may hold a password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"the {domain} store URL is not a database URL: {_USE}") from None
    scheme = parsed.get_backend_name()
    if scheme not in SQL_SCHEMES:
        raise ConfigError(f"the {domain} store URL has the unsupported scheme {scheme!r}: {_USE}")
    try:
        dialect = parsed.get_dialect()
    except NoSuchModuleError:
        raise ConfigError(
            f"the {domain} store URL names the unknown driver {parsed.drivername!r}: {_USE}"
        ) from None
    if not dialect.is_async:
        raise ConfigError(
            f"the {domain} store URL names {parsed.drivername!r}, which is not an asyncio "
            f"driver: {_USE}"
        )
    try:
        dialect.import_dbapi()
    except ImportError as error:
        raise ConfigError(
            f"the {domain} store URL needs the {error.name or dialect.driver!r} package, "
            "which is not installed"
        ) from None
