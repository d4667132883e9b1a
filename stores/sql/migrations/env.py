"""Alembic's environment, the same for every domain: `stores.sql.versioning` names the domain
and passes an open connection (the caller owns its transaction and its event loop)."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext

from stores.sql.tables import METADATA_BY_DOMAIN, UtcDateTime
from stores.sql.versioning import MIGRATE_COMMAND, own_tables, version_table

config = context.config
domain: str = config.attributes["domain"]
connection = config.attributes["connection"]
if connection is None:
    raise RuntimeError(f"run the migrations through `{MIGRATE_COMMAND}`, not the alembic CLI")


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    # A revision must not import the application's code, which changes after it is written:
    # UtcDateTime is a plain DateTime column in the database.
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime()"
    return False


context.configure(
    connection=connection,
    target_metadata=METADATA_BY_DOMAIN[domain],
    version_table=version_table(domain),
    include_name=own_tables(domain),
    render_item=render_item,
    # SQLite alters most things by copying the table; batch mode writes revisions that way.
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
