"""Tag pages newest first from the index: article_tags carries its article's creation time.

Listing a tag's articles newest first used to walk the whole newest-first index of articles and
probe each one for the tag (about page size / share of articles tagged rows per page), or read
every article of the tag and sort them. With the creation time beside the tag, the index
(tag, created_at, article_id) yields one page directly, at any depth.

Revision ID: articles_0002
Revises: articles_0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "articles_0002"
down_revision = "articles_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A tag row without its article cannot be listed anyway, and would block NOT NULL below.
    op.execute("DELETE FROM article_tags WHERE article_id NOT IN (SELECT id FROM articles)")
    op.add_column("article_tags", sa.Column("created_at", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE article_tags SET created_at ="
        " (SELECT articles.created_at FROM articles WHERE articles.id = article_tags.article_id)"
    )
    with op.batch_alter_table("article_tags") as batch:
        batch.alter_column("created_at", existing_type=sa.DateTime(), nullable=False)
    op.drop_index("ix_article_tags_tag", table_name="article_tags")
    op.create_index(
        "ix_article_tags_tag_newest", "article_tags", ["tag", "created_at", "article_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_article_tags_tag_newest", table_name="article_tags")
    op.create_index("ix_article_tags_tag", "article_tags", ["tag", "article_id"])
    with op.batch_alter_table("article_tags") as batch:
        batch.drop_column("created_at")
