"""INSERT … ON CONFLICT for both backends we run on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

__all__ = ["insert_for"]


def insert_for(session: Session, table: Table | Any) -> Any:
    """An `insert()` of the session's dialect, which offers `on_conflict_do_nothing/update`."""
    name = session.get_bind().dialect.name
    target = getattr(table, "__table__", table)
    if name == "postgresql":
        return postgresql.insert(target)
    if name == "sqlite":
        return sqlite.insert(target)
    raise NotImplementedError(f"no upsert for the {name} dialect")
