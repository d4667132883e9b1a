"""Builds every domain's store from its configured URL."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from config import ConfigError, PoolSize
from stores.dynamodb._common import DynamoTable
from stores.dynamodb.articles import DynamoArticleStore
from stores.dynamodb.backend import DynamoBackend, is_dynamodb_url
from stores.dynamodb.comments import DynamoCommentStore
from stores.dynamodb.likes import DynamoLikeStore
from stores.dynamodb.users import DynamoUserStore
from stores.protocols import ArticleStore, CommentStore, LikeStore, Stores, UserStore
from stores.sql.articles import SqlArticleStore
from stores.sql.backend import SqlBackend
from stores.sql.comments import SqlCommentStore
from stores.sql.engine import DEFAULT_POOL
from stores.sql.likes import SqlLikeStore
from stores.sql.users import SqlUserStore

SQL_SCHEMES = ("sqlite", "postgresql")
_USE = "use sqlite+aiosqlite:///FILE, postgresql+asyncpg://HOST/DB or dynamodb://TABLE"


class OpenStores:
    """The stores of one process and what it takes to prepare and close them.

    Each domain is on SQL or on DynamoDB, as its URL says, independently of the others. A tool
    that works on one domain (stores.copy) names only that one and asks for its store alone."""

    def __init__(self, urls_by_domain: Mapping[str, str], pool: PoolSize = DEFAULT_POOL) -> None:
        on_dynamodb = {d: url for d, url in urls_by_domain.items() if is_dynamodb_url(url)}
        on_sql = {d: url for d, url in urls_by_domain.items() if d not in on_dynamodb}
        for domain, url in on_sql.items():
            check_sql_url(domain, url)
        self._sql = SqlBackend(on_sql, pool)
        self._dynamodb = DynamoBackend(on_dynamodb) if on_dynamodb else None
        self._on_dynamodb = frozenset(on_dynamodb)

    @cached_property
    def stores(self) -> Stores:
        """Every domain's store: every domain must have a URL."""
        return Stores(
            users=self.users(),
            articles=self.articles(),
            likes=self.likes(),
            comments=self.comments(),
        )

    def users(self) -> UserStore:
        table = self._table("users")
        return SqlUserStore(self._sql.engine("users")) if table is None else DynamoUserStore(table)

    def articles(self) -> ArticleStore:
        table = self._table("articles")
        if table is None:
            return SqlArticleStore(self._sql.engine("articles"))
        return DynamoArticleStore(table)

    def likes(self) -> LikeStore:
        table = self._table("likes")
        return SqlLikeStore(self._sql.engine("likes")) if table is None else DynamoLikeStore(table)

    def comments(self) -> CommentStore:
        table = self._table("comments")
        if table is None:
            return SqlCommentStore(self._sql.engine("comments"))
        return DynamoCommentStore(table)

    def _table(self, domain: str) -> DynamoTable | None:
        """The domain's DynamoDB table, or None when the domain is on SQL."""
        if self._dynamodb is None or domain not in self._on_dynamodb:
            return None
        return self._dynamodb.table(domain)

    async def prepare(self, *, migrate: bool) -> None:
        """Bring every domain's schema up to date: SQL databases to their latest migration and
        DynamoDB tables created from their design; or (`migrate=False`, production) refuse
        with SchemaNotCurrent or TablesNotReady unless they are there already."""
        await self._sql.prepare_schema(migrate=migrate)
        if self._dynamodb is not None:
            await self._dynamodb.prepare_tables(create=migrate)

    async def close(self) -> None:
        await self._sql.close()
        if self._dynamodb is not None:
            await self._dynamodb.close()


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
