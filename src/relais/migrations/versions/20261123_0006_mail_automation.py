"""mail automation: triage rules, learnt models, SLA clocks

Revision ID: 0006_mail_automation
Revises: 0005_webhooks
Create Date: 2026-11-23 09:49:14

The stored triage rules (versioned), the intent model as JSON, the SLA clocks of e-mail tasks,
and when a resolved conversation was learnt from.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import relais.core.db

revision = "0006_mail_automation"
down_revision = "0005_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_models",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("examples", sa.Integer(), nullable=False),
        sa.Column("updated_at", relais.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_mail_models")),
    )
    op.create_table(
        "mail_rule_sets",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", relais.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_mail_rule_sets")),
    )
    op.create_table(
        "mail_slas",
        sa.Column("task_id", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=32), nullable=True),
        sa.Column("queue_id", sa.String(length=32), nullable=False),
        sa.Column("received_at", relais.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_response_due", relais.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolution_due", relais.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("business_hours", sa.Boolean(), nullable=False),
        sa.Column("first_response_at", relais.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", relais.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalated", sa.JSON(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_mail_slas_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_mail_slas_task_id_tasks"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_mail_slas")),
    )
    with op.batch_alter_table("mail_slas", schema=None) as batch_op:
        batch_op.create_index("ix_mail_slas_open_queue", ["open", "queue_id"], unique=False)

    with op.batch_alter_table("mail_threads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("learned_at", relais.core.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("mail_threads", schema=None) as batch_op:
        batch_op.drop_column("learned_at")

    with op.batch_alter_table("mail_slas", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_slas_open_queue")

    op.drop_table("mail_slas")
    op.drop_table("mail_rule_sets")
    op.drop_table("mail_models")
