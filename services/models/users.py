"""The people who use keepwarm, and the addresses that are theirs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keepwarm.services.core.clock import system_clock
from keepwarm.services.core.db import Base


def _now() -> datetime:
    # Only a default for rows made without one; code passes the runtime's clock.
    return system_clock()


class User(Base):
    """An owner of a mailbox; every other row belongs to exactly one user."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    handle: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    # Where and when the weekly digest goes: the chosen weekday (0 = Monday) and hour in the
    # user's own IANA time zone. No address, no email.
    email: Mapped[str | None] = mapped_column(String(320))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    digest_weekday: Mapped[int] = mapped_column(default=0)
    digest_hour: Mapped[int] = mapped_column(default=8)
    digests_enabled: Mapped[bool] = mapped_column(default=True)
    prompts_enabled: Mapped[bool] = mapped_column(default=True)


class OwnerAddress(Base):
    """An address that belongs to the user: given with `--me` or inferred from sent mail."""

    __tablename__ = "owner_addresses"
    __table_args__ = (UniqueConstraint("user_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(320))
    source: Mapped[str] = mapped_column(String(20))  # "given" | "inferred"
