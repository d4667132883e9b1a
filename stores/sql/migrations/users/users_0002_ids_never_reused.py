"""User ids never handed out again: on SQLite, as articles_0004 does for articles (AUTOINCREMENT,
by rebuilding the table); PostgreSQL's sequences never go back.

Revision ID: users_0002
Revises: users_0001
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "users_0002"
down_revision = "users_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)


def _rebuild(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        options = {"sqlite_autoincrement": autoincrement}
        with op.batch_alter_table("users", recreate="always", table_kwargs=options):
            pass
