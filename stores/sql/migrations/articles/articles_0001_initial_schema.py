"""Initial schema: articles and their tags.

Revision ID: articles_0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "articles_0001"
down_revision = None
branch_labels = None
depends_on = None

# SQLite only autoincrements a column declared exactly INTEGER PRIMARY KEY.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("slug", sa.String(length=300), nullable=False),
        sa.Column("title", sa.String(length=256), nullable=False),
        sa.Column("description", sa.String(length=1024), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
        sa.UniqueConstraint("slug", name="uq_articles_slug"),
    )
    op.create_index("ix_articles_newest", "articles", ["created_at", "id"])
    op.create_index("ix_articles_author_newest", "articles", ["author_id", "created_at", "id"])
    op.create_table(
        "article_tags",
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("article_id", "tag", name="pk_article_tags"),
    )
    op.create_index("ix_article_tags_tag", "article_tags", ["tag", "article_id"])


def downgrade() -> None:
    op.drop_table("article_tags")
    op.drop_table("articles")
