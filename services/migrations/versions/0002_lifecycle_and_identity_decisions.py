"""lifecycle and identity decisions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 03:08:47.128169
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "identity_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("other", sa.String(length=320), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_identity_decisions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_decisions")),
        sa.UniqueConstraint(
            "user_id",
            "kind",
            "address",
            "other",
            name=op.f("uq_identity_decisions_user_id_kind_address_other"),
        ),
    )
    with op.batch_alter_table("identity_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_decisions_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "lifecycle_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_lifecycle_events_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_lifecycle_events_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_events")),
    )
    with op.batch_alter_table("lifecycle_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lifecycle_events_user_person", ["user_id", "person_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("lifecycle_events", schema=None) as batch_op:
        batch_op.drop_index("ix_lifecycle_events_user_person")

    op.drop_table("lifecycle_events")
    with op.batch_alter_table("identity_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_decisions_user_id"))

    op.drop_table("identity_decisions")
