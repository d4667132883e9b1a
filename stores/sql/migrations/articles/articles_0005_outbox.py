"""The articles domain's transactional outbox: its events, recorded in the transaction of the
write that raised them, until the relay has sent them.

Revision ID: articles_0005
Revises: articles_0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "articles_0005"
down_revision = "articles_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "articles_outbox",
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_articles_outbox"),
    )
    op.create_index("ix_articles_outbox_claimed", "articles_outbox", ["claimed_at"])


def downgrade() -> None:
    op.drop_table("articles_outbox")
