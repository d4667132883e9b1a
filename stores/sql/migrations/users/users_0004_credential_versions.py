"""Credential versions: each user's starts at 0, the version that tokens issued before there
were versions stand for (auth/tokens.py), so no one is signed out by the upgrade.

Revision ID: users_0004
Revises: users_0003
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "users_0004"
down_revision = "users_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    column = sa.Column("credential_version", sa.Integer(), nullable=False, server_default="0")
    op.add_column("users", column)


def downgrade() -> None:
    # Rebuilt on SQLite, as users_0002 left it: ids never handed out again.
    with op.batch_alter_table("users", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("credential_version")
