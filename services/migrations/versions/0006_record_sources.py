"""record_sources: every source (an account, or files) that brought a message or an event

A record is stored once however many sources hold it; until now it named only the account that
brought it first, and purging that account deleted it even when an import or another account
also had it. Each record's existing source becomes its first row here, and messages and events
no longer go with their first account by cascade: purging decides what to delete.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_sources",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_record_sources_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_record_sources_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kind", "record_id", "source", name=op.f("pk_record_sources")),
    )
    with op.batch_alter_table("record_sources", schema=None) as batch_op:
        batch_op.create_index("ix_record_sources_account", ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_record_sources_user_id"), ["user_id"], unique=False)
    for table, kind in (("messages", "message"), ("events", "event")):
        op.execute(
            f"INSERT INTO record_sources (kind, record_id, source, user_id, account_id) "
            f"SELECT '{kind}', id, CASE WHEN account_id IS NULL THEN 'files' "
            f"ELSE 'account:' || CAST(account_id AS VARCHAR(20)) END, user_id, account_id "
            f"FROM {table}"
        )
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_account_id_accounts", type_="foreignkey")
            batch_op.create_foreign_key(
                f"fk_{table}_account_id_accounts",
                "accounts",
                ["account_id"],
                ["id"],
                ondelete="SET NULL",
            )


def downgrade() -> None:
    for table in ("messages", "events"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_account_id_accounts", type_="foreignkey")
            batch_op.create_foreign_key(
                f"fk_{table}_account_id_accounts",
                "accounts",
                ["account_id"],
                ["id"],
                ondelete="CASCADE",
            )
    op.drop_table("record_sources")
