"""Initial schema: likes.

Revision ID: likes_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "likes_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "likes",
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("article_id", "user_id", name="pk_likes"),
    )
    op.create_index("ix_likes_user", "likes", ["user_id", "article_id"])


def downgrade() -> None:
    op.drop_table("likes")
