"""What a start checks of the configured stores before it opens them, so that every mistake a
user can make there (a URL that is not one, a PostgreSQL server out of reach, a database or a
SQLite folder that does not exist, production on a database nobody migrated) stops the start
with one ConfigError naming the variable and the fix, instead of a driver's traceback.

`python -m server` runs `prepare` before uvicorn starts (and prints the error in one line); the
app's start-up runs `check_databases` too, so a production start never leaves an empty SQLite
file behind, however it is started. Messages never repeat a URL: it may hold a password."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from config import ConfigError, Settings
from stores.dynamodb.urls import is_dynamodb_url
from stores.factory import OpenStores, check_store_url

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

MIGRATE_COMMAND = "python -m stores.sql.migrate upgrade"
# PostgreSQL's SQLSTATEs for a database that does not exist, and for a refused role or password.
_NO_SUCH_DATABASE = "3D000"
_REFUSED_LOGIN = ("28000", "28P01")


def check_urls(settings: Settings) -> None:
    """Every domain's URL is one its store can open (parsed only: nothing is reached)."""
    for domain, url in settings.domain_urls().items():
        check_store_url(domain, url, settings.url_variable(domain))


async def check_databases(settings: Settings) -> None:
    """Every SQL database can be opened as the start will open it: a SQLite file's folder
    exists (and in production the file itself: starting there never creates one), and each
    PostgreSQL server answers, knows the database and takes the user. Run after check_urls."""
    from sqlalchemy.engine import make_url

    seen: set[str] = set()
    for domain, url in settings.domain_urls().items():
        if is_dynamodb_url(url) or url in seen:
            continue
        seen.add(url)
        variable = settings.url_variable(domain)
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            _check_sqlite_file(parsed.database, variable, production=settings.is_production)
        else:
            await _check_postgresql(url, parsed, variable)


async def prepare(settings: Settings) -> None:
    """The whole check before a server starts: URLs, databases, then the schemas brought to
    their latest migration (development) or found there (production), DynamoDB's tables too."""
    from stores.dynamodb.backend import TablesNotReady
    from stores.sql.versioning import SchemaNotCurrent

    check_urls(settings)
    await check_databases(settings)
    open_stores = OpenStores(settings.domain_urls(), settings.db_pool)
    try:
        await open_stores.prepare(migrate=not settings.is_production)
    except (SchemaNotCurrent, TablesNotReady) as error:
        raise ConfigError(str(error)) from None
    finally:
        await open_stores.close()


def _check_sqlite_file(database: str | None, variable: str, *, production: bool) -> None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return  # in memory, or a URI filename: SQLite's own business
    path = Path(database)
    folder = path.parent.resolve()
    if not folder.is_dir():
        raise ConfigError(
            f"{variable} names a SQLite file in {folder}, a folder that does not exist: "
            f"create it (mkdir -p {folder}) or name a file in an existing folder"
        )
    if production and not path.exists():
        raise ConfigError(
            f"{variable} names the SQLite file {path.resolve()}, which does not exist, and a "
            "production start (CONDUIT_ENV=production) never creates or migrates a database: "
            f"create it with `{MIGRATE_COMMAND}` (the same CONDUIT_* settings), then start again"
        )


async def _check_postgresql(url: str, parsed: URL, variable: str) -> None:
    from sqlalchemy.exc import DBAPIError

    from config import PoolSize
    from stores.sql.engine import create_engine

    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    engine = create_engine(url, PoolSize(size=1, max_overflow=0))
    try:
        async with engine.connect():
            pass
    except OSError as error:  # refused, no such host, timed out
        reason = error.strerror or str(error) or type(error).__name__
        raise ConfigError(
            f"{variable}: cannot reach PostgreSQL at {where} ({reason}): start the server, "
            f"or correct the host and port in {variable}"
        ) from None
    except DBAPIError as error:
        state = getattr(error.orig, "sqlstate", None)
        detail = str(error.orig).splitlines()[0] if error.orig is not None else str(error)
        if state == _NO_SUCH_DATABASE:
            raise ConfigError(
                f"{variable}: PostgreSQL at {where} has no database {parsed.database!r}: create "
                f"it (createdb -h {parsed.host or 'localhost'} -p {parsed.port or 5432} "
                f"-U {parsed.username or 'postgres'} {parsed.database}), or correct the "
                f"database name in {variable}"
            ) from None
        if state in _REFUSED_LOGIN:
            raise ConfigError(
                f"{variable}: PostgreSQL at {where} refused the login ({detail}): correct the "
                f"user or password in {variable}"
            ) from None
        raise ConfigError(
            f"{variable}: PostgreSQL at {where} refused the connection ({detail})"
        ) from None
    finally:
        await engine.dispose()
