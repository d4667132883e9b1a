"""Schema migrations, per domain: they build exactly the tables of stores/sql/tables.py, on SQLite
and PostgreSQL, with each domain in a database of its own or all four in one; they run again
harmlessly, and down to nothing and up again; a development start applies them, a production
start refuses a database they have not reached; and `python -m stores.sql.migrate` applies
them to the configured databases."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, func, inspect, select, text
from starlette.testclient import TestClient

from app import create_app
from config import DOMAINS, Environment, Settings
from models.articles import ArticleEdit, ArticleQuery, NewArticle
from models.pages import Window
from stores.factory import OpenStores
from stores.sql import tables as sql_tables
from stores.sql import versioning
from stores.sql.backend import SqlBackend
from stores.sql.tables import METADATA_BY_DOMAIN
from tests import postgres
from tests.conftest import TEST_BACKENDS, run_python, settings_for, sqlite_urls

# Migrating from nothing, up and down, again and again: left out of `dev.py test --fast`.
pytestmark = pytest.mark.slow

LAYOUTS = [
    layout
    for layout in ("sqlite", "sqlite-one-file", "postgresql", "postgresql-one-database")
    if layout.partition("-")[0] in TEST_BACKENDS
]
PRODUCTION_SECRET = "a-production-secret-that-is-long-enough"
T = TypeVar("T")


@pytest.fixture(params=LAYOUTS)
def empty_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """Databases with nothing in them, by domain: each domain in one of its own, or all in one."""
    layout: str = request.param
    if layout == "sqlite":
        yield sqlite_urls(tmp_path)
        return
    if layout == "sqlite-one-file":
        yield dict.fromkeys(DOMAINS, f"sqlite+aiosqlite:///{tmp_path}/conduit.db")
        return
    sets: postgres.DatabaseSets = request.getfixturevalue("postgres")
    lent = sets.borrow()
    asyncio.run(_wipe(lent))
    urls = lent.urls()
    try:
        yield urls if layout == "postgresql" else dict.fromkeys(DOMAINS, urls["users"])
    finally:
        asyncio.run(_wipe(lent))
        _run(urls, lambda backend: backend.prepare_schema(migrate=True))
        sets.give_back(lent)  # migrated and empty, as it was lent


async def _wipe(lent: postgres.DatabaseSet) -> None:
    for name in lent.names.values():
        await postgres.wipe(name)


def _run(urls: dict[str, str], work: Callable[[SqlBackend], Awaitable[T]]) -> T:
    """`work(backend)` on a SqlBackend of `urls`, closed afterwards."""

    async def run() -> T:
        backend = SqlBackend(urls)
        try:
            return await work(backend)
        finally:
            await backend.close()

    return asyncio.run(run())


def upgrade(urls: dict[str, str], revision: str = "head") -> None:
    """Migrate each domain of `urls` (every domain, or a few) to `revision`."""

    async def each(backend: SqlBackend) -> None:
        for domain in urls:
            await versioning.upgrade(backend.engine(domain), domain, revision)

    _run(urls, each)


def downgrade(urls: dict[str, str], revision: str) -> None:
    async def each(backend: SqlBackend) -> None:
        for domain in urls:
            await versioning.downgrade(backend.engine(domain), domain, revision)

    _run(urls, each)


def where(urls: dict[str, str]) -> dict[str, versioning.Versions]:
    async def each(backend: SqlBackend) -> dict[str, versioning.Versions]:
        return {d: await versioning.versions(backend.engine(d), d) for d in DOMAINS}

    return _run(urls, each)


def differences(urls: dict[str, str]) -> dict[str, list[Any]]:
    """What autogenerate would still change to reach tables.py, by domain: none, if the
    migrations built exactly its tables, columns, types, nullability, keys and indexes."""

    def compare(conn: Connection, domain: str) -> list[Any]:
        context = MigrationContext.configure(
            conn, opts={"include_name": versioning.own_tables(domain)}
        )
        return list(compare_metadata(context, METADATA_BY_DOMAIN[domain]))

    async def each(backend: SqlBackend) -> dict[str, list[Any]]:
        found = {}
        for domain in DOMAINS:
            async with backend.engine(domain).connect() as conn:
                found[domain] = await conn.run_sync(compare, domain)
        return {domain: changes for domain, changes in found.items() if changes}

    return _run(urls, each)


def tables(urls: dict[str, str]) -> set[str]:
    """Every table in the databases, version tables included."""

    async def each(backend: SqlBackend) -> set[str]:
        names: set[str] = set()
        for domain in DOMAINS:
            async with backend.engine(domain).connect() as conn:
                names |= set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        return names

    return _run(urls, each)


ALL_TABLES = {t for metadata in METADATA_BY_DOMAIN.values() for t in metadata.tables}
VERSION_TABLES = {versioning.version_table(d) for d in DOMAINS}


def test_migrations_build_exactly_the_tables_of_the_code(empty_urls: dict[str, str]) -> None:
    upgrade(empty_urls)
    assert differences(empty_urls) == {}
    assert tables(empty_urls) == ALL_TABLES | VERSION_TABLES
    assert all(found.at_head for found in where(empty_urls).values())


def test_upgrading_again_changes_nothing(empty_urls: dict[str, str]) -> None:
    upgrade(empty_urls)
    before = where(empty_urls)
    upgrade(empty_urls)
    assert where(empty_urls) == before
    assert differences(empty_urls) == {}


def test_down_to_nothing_and_up_again(empty_urls: dict[str, str]) -> None:
    upgrade(empty_urls)
    downgrade(empty_urls, "base")
    assert tables(empty_urls) == VERSION_TABLES  # Alembic keeps its (now empty) version tables
    assert all(found.found == () for found in where(empty_urls).values())
    upgrade(empty_urls)
    assert differences(empty_urls) == {}


def test_the_tag_order_migration_keeps_every_listable_tag(empty_urls: dict[str, str]) -> None:
    """articles_0002 copies each article's creation time into its tags (the order of a tag's
    page), and drops tags whose article is gone (they could never be listed)."""
    upgrade(empty_urls)
    articles_only = {"articles": empty_urls["articles"]}
    downgrade(articles_only, "articles_0001")
    # Ids in the opposite order of creation times, so a page ordered by anything but the copied
    # times comes out wrong.
    rows = ((1, "newer", datetime(2026, 2, 1)), (2, "older", datetime(2026, 1, 1)))

    async def fill(backend: SqlBackend) -> None:
        async with backend.engine("articles").begin() as conn:
            for number, slug, created in rows:
                await conn.execute(
                    text(
                        "INSERT INTO articles (id, slug, title, description, body, author_id,"
                        " created_at, updated_at) VALUES (:id, :slug, 't', 'd', 'b', 7, :at, :at)"
                    ),
                    {"id": number, "slug": slug, "at": created},
                )
            await conn.execute(
                text(
                    "INSERT INTO article_tags (article_id, tag)"
                    " VALUES (1, 'x'), (2, 'x'), (2, 'y'), (99, 'x'), (99, 'gone')"
                )
            )

    _run(articles_only, fill)
    upgrade(articles_only)

    async def read() -> tuple[list[str], int, list[str]]:
        open_stores = OpenStores(empty_urls)
        articles = open_stores.stores.articles
        try:
            page = await articles.page(ArticleQuery(tag="x"), Window(limit=10))
            count = await articles.count(ArticleQuery(tag="x"))
            return [a.slug for a in page], count, await articles.all_tags()
        finally:
            await open_stores.close()

    assert asyncio.run(read()) == (["newer", "older"], 2, ["x", "y"])


def test_the_counts_migration_counts_the_articles_there(empty_urls: dict[str, str]) -> None:
    """articles_0003 fills the kept counts from the articles there, and the store's writes
    carry on from them."""
    upgrade(empty_urls)
    articles_only = {"articles": empty_urls["articles"]}
    downgrade(articles_only, "articles_0002")
    authors = (7, 7, 7, 8, 1234567890123)

    async def fill(backend: SqlBackend) -> list[int]:
        # Ids from the sequence, as the store's own writes draw them afterwards.
        async with backend.engine("articles").begin() as conn:
            ids = [
                (
                    await conn.execute(
                        text(
                            "INSERT INTO articles (slug, title, description, body, author_id,"
                            " created_at, updated_at)"
                            " VALUES (:slug, 't', 'd', 'b', :author, :at, :at) RETURNING id"
                        ),
                        {"slug": f"a{n}", "author": author, "at": datetime(2026, 1, 1)},
                    )
                ).scalar_one()
                for n, author in enumerate(authors)
            ]
            tagged = ((0, "x"), (1, "x"), (1, "y"), (4, "ünïcode"))
            for n, tag in tagged:
                await conn.execute(
                    text(
                        "INSERT INTO article_tags (article_id, tag, created_at)"
                        " VALUES (:id, :tag, :at)"
                    ),
                    {"id": ids[n], "tag": tag, "at": datetime(2026, 1, 1)},
                )
        return ids

    ids = _run(articles_only, fill)
    upgrade(articles_only)
    queries = {
        "all": ArticleQuery(),
        "x": ArticleQuery(tag="x"),
        "y": ArticleQuery(tag="y"),
        "ünïcode": ArticleQuery(tag="ünïcode"),
        "none": ArticleQuery(tag="none"),
        "7": ArticleQuery(author_ids=(7,)),
        "feed": ArticleQuery(author_ids=(7, 8, 1234567890123, 9)),
    }

    async def counts(write: bool) -> dict[str, int]:
        open_stores = OpenStores(empty_urls)
        articles = open_stores.stores.articles
        try:
            if write:
                article = await articles.create(
                    NewArticle("new", "t", "d", "b", ("x",), 8, datetime(2026, 2, 1, tzinfo=UTC))
                )
                await articles.delete(ids[0])
                await articles.update(
                    ids[1], ArticleEdit("a1", "t", "d", "b", ("y",), article.created_at)
                )
            return {name: await articles.count(query) for name, query in queries.items()}
        finally:
            await open_stores.close()

    assert asyncio.run(counts(write=False)) == {
        "all": 5,
        "x": 2,
        "y": 1,
        "ünïcode": 1,
        "none": 0,
        "7": 3,
        "feed": 5,
    }
    assert asyncio.run(counts(write=True)) == {
        "all": 5,
        "x": 1,
        "y": 1,
        "ünïcode": 1,
        "none": 0,
        "7": 2,
        "feed": 5,
    }


# The tables whose ids must never come back: each one's revision before SQLite's ids stopped
# coming back, the table, and a row of it.
_ON = datetime(2026, 1, 1)
ID_TABLES = {
    "users": (
        "users_0001",
        sql_tables.users,
        {"username": "u", "email": "e", "password_hash": "h", "created_at": _ON, "updated_at": _ON},
    ),
    "articles": (
        "articles_0003",
        sql_tables.articles,
        {
            "slug": "s",
            "title": "t",
            "description": "d",
            "body": "b",
            "author_id": 1,
            "created_at": _ON,
            "updated_at": _ON,
        },
    ),
    "comments": (
        "comments_0001",
        sql_tables.comments,
        {"article_id": 1, "author_id": 1, "body": "b", "created_at": _ON, "updated_at": _ON},
    ),
}


def test_ids_of_deleted_rows_never_come_back_after_the_migrations(
    empty_urls: dict[str, str],
) -> None:
    """On SQLite the tables are rebuilt for AUTOINCREMENT, their rows with them, and new ids
    carry on from the largest ever given, not the largest left."""
    upgrade(empty_urls)
    for domain, (before, _, _) in ID_TABLES.items():
        downgrade({domain: empty_urls[domain]}, before)

    async def insert(backend: SqlBackend, domain: str, n: int, *, upgraded: bool) -> None:
        _, table, row = ID_TABLES[domain]
        unique: dict[str, str] = {
            c: f"{row[c]}{n}" for c in ("username", "email", "slug") if c in row
        }
        if upgraded and "username" in unique:  # users_0005 on: the name's key is what is unique
            unique["username_key"] = unique["username"]
        async with backend.engine(domain).begin() as conn:
            await conn.execute(table.insert().values({**row, **unique}))

    async def ids(backend: SqlBackend) -> dict[str, list[int]]:
        found = {}
        for domain, (_, table, _) in ID_TABLES.items():
            async with backend.engine(domain).connect() as conn:
                found[domain] = [*await conn.scalars(select(table.c.id).order_by(table.c.id))]
        return found

    async def fill(backend: SqlBackend) -> dict[str, list[int]]:
        for domain in ID_TABLES:
            for n in range(3):
                await insert(backend, domain, n, upgraded=False)
        return await ids(backend)

    async def delete_newest_and_add(backend: SqlBackend) -> dict[str, list[int]]:
        for domain, (_, table, _) in ID_TABLES.items():
            newest = select(func.max(table.c.id)).scalar_subquery()
            async with backend.engine(domain).begin() as conn:
                await conn.execute(table.delete().where(table.c.id == newest))
            await insert(backend, domain, 3, upgraded=True)
        return await ids(backend)

    written = _run(empty_urls, fill)
    upgrade(empty_urls)
    assert differences(empty_urls) == {}
    after = _run(empty_urls, delete_newest_and_add)
    assert after == {d: [*found[:2], found[2] + 1] for d, found in written.items()}


def test_a_development_start_migrates_empty_databases(empty_urls: dict[str, str]) -> None:
    settings = settings_for(empty_urls, "sqlite+aiosqlite:///:memory:")
    assert settings.environment is Environment.DEVELOPMENT
    with TestClient(create_app(settings)) as http:
        response = http.post(
            "/api/users",
            json={"user": {"username": "jake", "email": "jake@example.com", "password": "x" * 8}},
        )
        assert response.status_code == 201, response.text
    assert all(found.at_head for found in where(empty_urls).values())


def production(urls: dict[str, str]) -> Settings:
    return dataclasses.replace(
        settings_for(urls, "sqlite+aiosqlite:///:memory:"),
        environment=Environment.PRODUCTION,
        jwt_secret=PRODUCTION_SECRET,
    )


def test_production_refuses_to_start_on_unmigrated_databases(empty_urls: dict[str, str]) -> None:
    for url in empty_urls.values():  # SQLite files there but empty (none at all is refused
        if url.startswith("sqlite"):  # earlier: tests/test_start_up_errors.py)
            Path(url.removeprefix("sqlite+aiosqlite:///")).touch()
    with (
        pytest.raises(versioning.SchemaNotCurrent) as refused,
        TestClient(create_app(production(empty_urls))),
    ):
        pass
    message = str(refused.value)
    assert "the users database is unmigrated (the latest is users_0005)" in message
    assert "`python -m stores.sql.migrate upgrade`" in message
    assert tables(empty_urls) == set()  # it checked, and changed nothing


def test_production_refuses_a_database_one_migration_behind(empty_urls: dict[str, str]) -> None:
    upgrade(empty_urls)
    downgrade({"articles": empty_urls["articles"]}, "articles_0001")
    with (
        pytest.raises(versioning.SchemaNotCurrent) as refused,
        TestClient(create_app(production(empty_urls))),
    ):
        pass
    assert str(refused.value).startswith(
        "the articles database is at articles_0001 (the latest is articles_0005): "
    )
    upgrade(empty_urls)
    with TestClient(create_app(production(empty_urls))) as http:
        assert http.get("/ready").status_code == 200


def migrate_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_python("-m", "stores.sql.migrate", *args, env=env)


# Each command starts a Python process: two layouts cover both ways of naming the databases.
@pytest.mark.parametrize(
    "empty_urls",
    [layout for layout in ("sqlite-one-file", "postgresql") if layout in LAYOUTS],
    indirect=True,
)
def test_the_migrate_command_applies_one_domain_or_all(empty_urls: dict[str, str]) -> None:
    # The variables the server reads: one URL for all, or one per domain.
    shared = len(set(empty_urls.values())) == 1
    env = (
        {"CONDUIT_DATABASE_URL": empty_urls["users"]}
        if shared
        else {f"CONDUIT_{d.upper()}_URL": url for d, url in empty_urls.items()}
    )
    one = migrate_command(env, "upgrade", "--domain", "articles")
    assert one.returncode == 0, one.stderr
    assert one.stdout == "articles: at articles_0005 (the latest)\n"
    assert "Running upgrade articles_0004 -> articles_0005" in one.stderr

    behind = migrate_command(env, "current")
    assert behind.returncode == 1
    assert "users: unmigrated (the latest is users_0005)\n" in behind.stdout

    every = migrate_command(env, "upgrade")
    assert every.returncode == 0, every.stderr
    assert every.stdout.count("(the latest)") == len(DOMAINS)
    assert differences(empty_urls) == {}


def test_usernames_that_share_a_key_stop_the_upgrade_and_are_named(
    empty_urls: dict[str, str],
) -> None:
    """users_0005 makes usernames unique by their keys: names already stored that share one
    are reported, every one of them, and nothing is changed until they are renamed."""
    users = {"users": empty_urls["users"]}
    upgrade(users, "users_0004")
    names = ["Alice", "bob", "alice", "\uff41\uff4c\uff49\uff43\uff45", "Bob", "carol"]
    now = datetime(2026, 1, 1)  # as the column keeps it: UTC, without a zone

    async def insert(backend: SqlBackend) -> None:
        rows = [
            {"username": n, "email": f"{i}@x.test", "password_hash": "h", "created_at": now}
            for i, n in enumerate(names)
        ]
        async with backend.engine("users").begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (username, email, password_hash, created_at, updated_at)"
                    " VALUES (:username, :email, :password_hash, :created_at, :created_at)"
                ),
                rows,
            )

    _run(users, insert)
    with pytest.raises(Exception, match="users_0005: 2 group") as refused:
        upgrade(users)
    message = str(refused.value)
    assert "'Alice' (id 1), 'alice' (id 3), '\uff41\uff4c\uff49\uff43\uff45' (id 4)" in message
    assert "'bob' (id 2), 'Bob' (id 5)" in message
    assert "carol" not in message
    assert where(empty_urls)["users"].found == ("users_0004",)

    async def rename(backend: SqlBackend) -> None:
        async with backend.engine("users").begin() as conn:
            for user_id in (3, 4, 5):
                await conn.execute(
                    text("UPDATE users SET username = :name WHERE id = :id"),
                    {"name": f"renamed{user_id}", "id": user_id},
                )

    _run(users, rename)
    upgrade(users)
    assert where(empty_urls)["users"].at_head

    async def keys(backend: SqlBackend) -> list[tuple[str, str]]:
        async with backend.engine("users").connect() as conn:
            found = await conn.execute(text("SELECT username, username_key FROM users ORDER BY id"))
            return [(name, key) for name, key in found]

    assert _run(users, keys)[:2] == [("Alice", "alice"), ("bob", "bob")]
