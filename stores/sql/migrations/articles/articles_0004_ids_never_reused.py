"""Article ids never handed out again: SQLite gave a new article the id of the newest one
deleted (the largest id left plus one), and with it whatever comments or likes had outlived
that one. AUTOINCREMENT makes SQLite keep the largest id it ever gave; the table is rebuilt
for it (SQLite cannot alter a table's key), its rows copied with their ids, which start the
count. PostgreSQL's sequences never go back: nothing changes there.

Revision ID: articles_0004
Revises: articles_0003
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "articles_0004"
down_revision = "articles_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)


def _rebuild(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        options = {"sqlite_autoincrement": autoincrement}
        with op.batch_alter_table("articles", recreate="always", table_kwargs=options):
            pass
