"""provider-neutral sync cursors, one row per account stream; skipped records in the ledger

Carries connected Google accounts' cursors over, so they go on where they stood instead of
reading their mail again: the Gmail history or backfill position becomes the cursor of the
stream "gmail", each calendar's sync token the cursor of that calendar's stream.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_OLD_COLUMNS = (
    "backfill_phase",
    "backfill_page_token",
    "backfill_history_id",
    "mail_cursor",
    "calendar_cursor",
)


def upgrade() -> None:
    op.create_table(
        "sync_cursors",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("stream", sa.String(length=200), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("caught_up", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_sync_cursors_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "kind", "stream", name=op.f("pk_sync_cursors")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("skipped", sa.Text(), nullable=True))

    bind = op.get_bind()
    now = datetime.now(UTC)
    cursors = sa.table(
        "sync_cursors",
        sa.column("account_id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("stream", sa.String()),
        sa.column("cursor", sa.Text()),
        sa.column("caught_up", sa.Boolean()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    rows = []
    for account in bind.execute(
        sa.text(
            "SELECT id, backfill_phase, backfill_page_token, backfill_history_id, mail_cursor,"
            " calendar_cursor FROM accounts"
        )
    ).mappings():
        mail = _gmail_cursor(account)
        if mail is not None:
            cursor, caught_up = mail
            rows.append(_row(account["id"], "mail", "gmail", cursor, caught_up, now))
        for calendar, token in json.loads(account["calendar_cursor"] or "{}").items():
            cursor = json.dumps({"page": None, "sync": token}, sort_keys=True)
            rows.append(_row(account["id"], "calendar", calendar, cursor, True, now))
    if rows:
        op.bulk_insert(cursors, rows)

    with op.batch_alter_table("accounts", schema=None) as batch_op:
        for column in _OLD_COLUMNS:
            batch_op.drop_column(column)


def _gmail_cursor(account: sa.RowMapping) -> tuple[str, bool] | None:
    if account["mail_cursor"]:
        state = {"history": account["mail_cursor"], "page": None, "phase": "history"}
        return json.dumps(state, sort_keys=True), True
    if account["backfill_history_id"] and account["backfill_phase"] in {"sent", "rest", "trash"}:
        state = {
            "history": account["backfill_history_id"],
            "page": account["backfill_page_token"],
            "phase": account["backfill_phase"],
        }
        return json.dumps(state, sort_keys=True), False
    return None  # nothing read yet: the stream starts over


def _row(
    account_id: int, kind: str, stream: str, cursor: str, caught_up: bool, now: datetime
) -> dict[str, object]:
    return {
        "account_id": account_id,
        "kind": kind,
        "stream": stream,
        "cursor": cursor,
        "caught_up": caught_up,
        "updated_at": now,
    }


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("backfill_phase", sa.String(length=10), nullable=False, server_default="sent")
        )
        for column in _OLD_COLUMNS[1:]:
            batch_op.add_column(sa.Column(column, sa.Text(), nullable=True))
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_column("skipped")
    op.drop_table("sync_cursors")
