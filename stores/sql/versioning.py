"""Schema versions per domain, kept by Alembic. Each domain has its own migration history (a
directory under `migrations/`) and its own version table, so it can live in a database of its
own or share one with the other domains (the embedded SQLite file holds all four)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from stores.sql.tables import METADATA_BY_DOMAIN

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATE_COMMAND = "python -m stores.sql.migrate upgrade"
# Held while a domain migrates on PostgreSQL, so that workers starting together (or two
# deploys) migrate one after the other and the later ones find the schema already at head.
_MIGRATION_LOCK = 0x636F6E64756974  # "conduit"

Action = Callable[[Config], None]
# What Alembic says at INFO each time it opens a migration context, even only to read the
# version (as every start does): not news. "Running upgrade ..." lines, when a migration does
# run, still go through.
_CONTEXT_CHATTER = ("Context impl ", "Will assume ")


def _not_context_chatter(record: logging.LogRecord) -> bool:
    return not (isinstance(record.msg, str) and record.msg.startswith(_CONTEXT_CHATTER))


logging.getLogger("alembic.runtime.migration").addFilter(_not_context_chatter)


class SchemaNotCurrent(RuntimeError):
    """Databases not at their domain's latest migration, where starting may not migrate them."""

    def __init__(self, behind: Mapping[str, Versions]) -> None:
        where = "; ".join(f"the {domain} database is {found}" for domain, found in behind.items())
        super().__init__(
            f"{where}: apply the migrations with `{MIGRATE_COMMAND}` (same CONDUIT_* settings), "
            "then start again"
        )


def version_table(domain: str) -> str:
    return f"alembic_version_{domain}"


def own_tables(domain: str) -> Callable[[str | None, str, object], bool]:
    """An Alembic `include_name` filter: only `domain`'s tables, because other domains (and
    their version tables) may share its database."""
    tables = METADATA_BY_DOMAIN[domain].tables

    def include(name: str | None, type_: str, _parent_names: object) -> bool:
        return type_ != "table" or name in tables

    return include


def alembic_config(domain: str, connection: Connection | None = None) -> Config:
    """The Alembic configuration of `domain`; `migrations/env.py` runs on `connection`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(MIGRATIONS / domain))
    config.attributes.update(domain=domain, connection=connection)
    return config


@dataclass(frozen=True)
class Versions:
    """Where a domain's database is, and where its migrations lead."""

    found: tuple[str, ...]
    latest: tuple[str, ...]

    @property
    def at_head(self) -> bool:
        return set(self.found) == set(self.latest)

    def __str__(self) -> str:
        where = f"at {', '.join(self.found)}" if self.found else "unmigrated"
        latest = "the latest" if self.at_head else f"the latest is {', '.join(self.latest)}"
        return f"{where} ({latest})"


async def versions(engine: AsyncEngine, domain: str) -> Versions:
    def read(conn: Connection) -> tuple[str, ...]:
        opts = {"version_table": version_table(domain)}
        return tuple(MigrationContext.configure(conn, opts=opts).get_current_heads())

    async with engine.connect() as conn:
        found = await conn.run_sync(read)
    return Versions(found, _heads(domain, (MIGRATIONS / domain).stat().st_mtime_ns))


@functools.cache
def _heads(domain: str, _directory_changed: int) -> tuple[str, ...]:
    # Read once per process, not at every start: loading the revisions takes milliseconds.
    # A new revision file changes its directory's mtime, and so the cache key.
    return tuple(ScriptDirectory.from_config(alembic_config(domain)).get_heads())


async def upgrade(engine: AsyncEngine, domain: str, revision: str = "head") -> None:
    await run(engine, domain, lambda config: command.upgrade(config, revision))


async def downgrade(engine: AsyncEngine, domain: str, revision: str) -> None:
    await run(engine, domain, lambda config: command.downgrade(config, revision))


async def run(engine: AsyncEngine, domain: str, action: Action) -> None:
    """Run an Alembic command on `domain`'s database, in one transaction."""
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        await conn.run_sync(lambda sync_conn: action(alembic_config(domain, sync_conn)))
