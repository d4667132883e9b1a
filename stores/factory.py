"""Builds every domain's store from its configured URL.

Each backend's modules are imported when a domain uses it, so a process pays only for its
own: a Lambda with every domain on DynamoDB never loads SQLAlchemy and Alembic, about half a
second of its cold start."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING

from config import ConfigError, PoolSize
from stores.dynamodb.urls import is_dynamodb_url, table_name
from stores.protocols import ArticleStore, CommentStore, LikeStore, Stores, UserStore

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from stores.dynamodb._common import DynamoTable
    from stores.dynamodb.backend import DynamoBackend
    from stores.sql.backend import SqlBackend

SQL_SCHEMES = ("sqlite", "postgresql")
_USE = "use sqlite+aiosqlite:///FILE, postgresql+asyncpg://HOST/DB or dynamodb://TABLE"


class OpenStores:
    """The stores of one process and what it takes to prepare and close them.

    Each domain is on SQL or on DynamoDB, as its URL says, independently of the others. A tool
    that works on one domain (stores.copy) names only that one and asks for its store alone."""

    def __init__(self, urls_by_domain: Mapping[str, str], pool: PoolSize | None = None) -> None:
        on_dynamodb = {d: url for d, url in urls_by_domain.items() if is_dynamodb_url(url)}
        on_sql = {d: url for d, url in urls_by_domain.items() if d not in on_dynamodb}
        for domain, url in on_sql.items():
            check_sql_url(domain, url)
        self._sql: SqlBackend | None = None
        self._dynamodb: DynamoBackend | None = None
        if on_sql:
            from stores.sql.backend import SqlBackend

            self._sql = SqlBackend(on_sql, pool or PoolSize())
        if on_dynamodb:
            from stores.dynamodb.backend import DynamoBackend

            self._dynamodb = DynamoBackend(on_dynamodb)
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
        if (table := self._table("users")) is not None:
            from stores.dynamodb.users import DynamoUserStore

            return DynamoUserStore(table)
        from stores.sql.users import SqlUserStore

        return SqlUserStore(self._engine("users"))

    def articles(self) -> ArticleStore:
        if (table := self._table("articles")) is not None:
            from stores.dynamodb.articles import DynamoArticleStore

            return DynamoArticleStore(table)
        from stores.sql.articles import SqlArticleStore

        return SqlArticleStore(self._engine("articles"))

    def likes(self) -> LikeStore:
        if (table := self._table("likes")) is not None:
            from stores.dynamodb.likes import DynamoLikeStore

            return DynamoLikeStore(table)
        from stores.sql.likes import SqlLikeStore

        return SqlLikeStore(self._engine("likes"))

    def comments(self) -> CommentStore:
        if (table := self._table("comments")) is not None:
            from stores.dynamodb.comments import DynamoCommentStore

            return DynamoCommentStore(table)
        from stores.sql.comments import SqlCommentStore

        return SqlCommentStore(self._engine("comments"))

    def _table(self, domain: str) -> DynamoTable | None:
        """The domain's DynamoDB table, or None when the domain is on SQL."""
        if self._dynamodb is None or domain not in self._on_dynamodb:
            return None
        return self._dynamodb.table(domain)

    def _engine(self, domain: str) -> AsyncEngine:
        if self._sql is None:
            raise KeyError(domain)  # the domain has no URL at all
        return self._sql.engine(domain)

    async def prepare(self, *, migrate: bool) -> None:
        """Bring every domain's schema up to date: SQL databases to their latest migration and
        DynamoDB tables created from their design; or (`migrate=False`, production) refuse
        with SchemaNotCurrent or TablesNotReady unless they are there already."""
        if self._sql is not None:
            await self._sql.prepare_schema(migrate=migrate)
        if self._dynamodb is not None:
            await self._dynamodb.prepare_tables(create=migrate)

    async def close(self) -> None:
        if self._sql is not None:
            await self._sql.close()
        if self._dynamodb is not None:
            await self._dynamodb.close()


def check_store_url(domain: str, url: str, given_by: str) -> None:
    """A ConfigError for a URL no store can open (a SQL URL or `dynamodb://TABLE`, parsed only:
    nothing is reached), its message starting with `given_by`, the variable or option that
    gave the URL."""
    try:
        if is_dynamodb_url(url):
            table_name(domain, url)
        else:
            check_sql_url(domain, url)
    except ConfigError as error:
        raise ConfigError(f"{given_by}: {error}") from None


def check_sql_url(domain: str, url: str) -> None:
    """A clear ConfigError for a URL no SQL store can open, instead of a traceback at start.
    Messages never repeat the URL: it may hold a password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

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
