"""the reconnect queue's candidates packed in the user's queue state

Every relationship's person id, last interaction (microseconds), usual gap and ranker figures,
as four arrays in one row, so a read of the current queue fetches one row, not one per due
person (services/reconnect/store.py). Derived data: NULL until the next build, and a state
without them is built again on the next current read.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_COLUMNS = ("candidate_ids", "candidate_last_us", "candidate_gaps", "candidate_figures")


def upgrade() -> None:
    for name in _COLUMNS:
        op.add_column("queue_states", sa.Column(name, sa.LargeBinary(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # Packed float64s hardly compress: stored as they are, a read does not pay for
        # decompressing a few megabytes that were never made smaller.
        for name in _COLUMNS:
            op.execute(f"ALTER TABLE queue_states ALTER COLUMN {name} SET STORAGE EXTERNAL")


def downgrade() -> None:
    with op.batch_alter_table("queue_states") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
