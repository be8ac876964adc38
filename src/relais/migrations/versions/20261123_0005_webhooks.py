"""webhooks: the CTI webhook outbox and its cursor over task events

Revision ID: 0005_webhooks
Revises: 0004_callbacks
Create Date: 2026-11-23 10:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import relais.core.db

revision = "0005_webhooks"
down_revision = "0004_callbacks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("task_event_id", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", relais.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", relais.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", relais.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("failed_at", relais.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("task_event_id", name=op.f("uq_webhook_deliveries_task_event_id")),
    )
    op.create_index(
        "ix_webhook_deliveries_state_next",
        "webhook_deliveries",
        ["state", "next_attempt_at"],
        unique=False,
    )
    op.create_index("ix_webhook_deliveries_task", "webhook_deliveries", ["task_id"], unique=False)
    op.create_table(
        "webhook_cursors",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", relais.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_webhook_cursors")),
    )


def downgrade() -> None:
    op.drop_table("webhook_cursors")
    op.drop_index("ix_webhook_deliveries_task", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_state_next", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
