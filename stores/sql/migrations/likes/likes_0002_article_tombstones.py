"""Tombstones of deleted articles: forget_article writes one in the transaction that deletes
the article's likes, and a like of an article with one is refused, so that no like racing
the deletion outlives the article (stores/sql/tombstones.py). Articles deleted before this
migration have none: their deletion has long finished.

Revision ID: likes_0002
Revises: likes_0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "likes_0002"
down_revision = "likes_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "like_tombstones",
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("article_id", name="pk_like_tombstones"),
    )


def downgrade() -> None:
    op.drop_table("like_tombstones")
