"""Usernames unique as their keys: NFKC-normalised and case-folded (models.users.username_key),
so "Alice", "alice" and a fullwidth "alice" can no longer be three accounts. The spelling each
user chose stays in `username`.

Names already stored that share a key stop the upgrade before it changes anything: it names
every such group, and which account keeps the name is for an operator to decide (rename the
others, then upgrade again).

Revision ID: users_0005
Revises: users_0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "users_0005"
down_revision = "users_0004"
branch_labels = None
depends_on = None

# What every later SQLite rebuild of the table keeps: ids never handed out again (users_0002).
_TABLE_OPTIONS = {"sqlite_autoincrement": True}


class UsernameCollisions(Exception):
    """Stored usernames that are one name by their keys."""


def _key(username: str) -> str:
    # models.users.username_key as it was when this migration was written: a migration must
    # mean the same whenever it runs.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())


def upgrade() -> None:
    bind = op.get_bind()
    by_key: dict[str, list[tuple[int, str]]] = {}
    for user_id, username in bind.execute(sa.text("SELECT id, username FROM users ORDER BY id")):
        by_key.setdefault(_key(username), []).append((user_id, username))
    collisions = [named for named in by_key.values() if len(named) > 1]
    if collisions:
        groups = "; ".join(", ".join(f"{name!r} (id {i})" for i, name in c) for c in collisions)
        raise UsernameCollisions(
            f"users_0005: {len(collisions)} group(s) of usernames differ only in case or Unicode"
            f" width and cannot all stay: {groups}. Give all but one of each group another"
            " username (in the users table, by id), then run the upgrade again."
        )
    op.add_column("users", sa.Column("username_key", sa.String(160), nullable=True))
    if by_key:
        users = sa.table("users", sa.column("id"), sa.column("username_key"))
        bind.execute(
            users.update()
            .where(users.c.id == sa.bindparam("user_id"))
            .values(username_key=sa.bindparam("key")),
            [{"user_id": named[0][0], "key": key} for key, named in by_key.items()],
        )
    with op.batch_alter_table("users", table_kwargs=_TABLE_OPTIONS) as batch:
        batch.alter_column("username_key", existing_type=sa.String(160), nullable=False)
        batch.create_unique_constraint("uq_users_username_key", ["username_key"])
        batch.drop_constraint("uq_users_username", type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("users", table_kwargs=_TABLE_OPTIONS) as batch:
        batch.drop_constraint("uq_users_username_key", type_="unique")
        batch.drop_column("username_key")
        batch.create_unique_constraint("uq_users_username", ["username"])
