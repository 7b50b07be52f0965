"""The user's own decisions about who is who, which later imports and derivations respect."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keepwarm.services.core.db import Base


class IdentityDecision(Base):
    """`merge`: the two addresses are one person. `split`: `address` is a person of its own,
    never merged automatically with `other` (or with anyone, when `other` is empty)."""

    __tablename__ = "identity_decisions"
    __table_args__ = (UniqueConstraint("user_id", "kind", "address", "other"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(320))
    other: Mapped[str] = mapped_column(String(320), default="")
    at: Mapped[datetime]
