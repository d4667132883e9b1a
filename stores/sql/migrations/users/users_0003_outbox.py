"""The users domain's transactional outbox: its events, recorded in the transaction of the
write that raised them, until the relay has sent them.

Revision ID: users_0003
Revises: users_0002
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "users_0003"
down_revision = "users_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users_outbox",
        sa.Column("event_id", sa.String(32), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_users_outbox"),
    )
    op.create_index("ix_users_outbox_claimed", "users_outbox", ["claimed_at"])


def downgrade() -> None:
    op.drop_table("users_outbox")
