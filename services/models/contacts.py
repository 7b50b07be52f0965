"""People the owner deals with, their addresses, and the interactions derived from them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keepwarm.services.core.db import Base, EnumText


class Person(Base):
    """Someone with one or more addresses, as seen from one user's mailbox."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    display_name: Mapped[str | None] = mapped_column(Text)


class PersonAddress(Base):
    """An address and the person it belongs to; an address maps to one person per user."""

    __tablename__ = "person_addresses"
    __table_args__ = (UniqueConstraint("user_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(320))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)


class InteractionKind(StrEnum):
    """How the owner and a person were in touch."""

    SENT = "sent"  # the owner wrote to them
    RECEIVED = "received"  # they wrote to the owner
    MET = "met"  # both were at a small meeting
    ELSEWHERE = "elsewhere"  # the user said they talked on another channel


class Interaction(Base):
    """One contact between the owner and a person, derived from a message or an event.

    `source_key` ("m:<message id>" or "e:<event id>") with the person and kind is the natural
    key, so deriving twice writes nothing new. `group_size` is how many other people shared it.
    """

    __tablename__ = "interactions"
    __table_args__ = (
        UniqueConstraint("user_id", "person_id", "kind", "source_key"),
        Index("ix_interactions_user_at", "user_id", "at"),
        # The user's newest interaction in one probe (the web's queue cache checks it).
        Index("ix_interactions_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    kind: Mapped[InteractionKind] = mapped_column(EnumText(InteractionKind, 10))
    at: Mapped[datetime]
    source_key: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(Text)
    group_size: Mapped[int] = mapped_column(Integer, default=1)
