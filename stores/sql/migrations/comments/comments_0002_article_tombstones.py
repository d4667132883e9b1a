"""Tombstones of deleted articles, as likes_0002 keeps for likes: forget_article writes one in
the transaction that deletes the article's comments, and a comment on an article with one is
refused (stores/sql/tombstones.py). And comment ids never handed out again: on SQLite, as
articles_0004 does for articles (AUTOINCREMENT, by rebuilding the table).

Revision ID: comments_0002
Revises: comments_0001
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "comments_0002"
down_revision = "comments_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comment_tombstones",
        sa.Column("article_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("article_id", name="pk_comment_tombstones"),
    )
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
    op.drop_table("comment_tombstones")


def _rebuild(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        options = {"sqlite_autoincrement": autoincrement}
        with op.batch_alter_table("comments", recreate="always", table_kwargs=options):
            pass
