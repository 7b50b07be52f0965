"""Who may use the web app and how: sign-in identities, sessions, API tokens, exclusions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keepwarm.services.core.db import Base


class Identity(Base):
    """A provider's sign-in identity (OpenID Connect `sub`) and the user it signs in as.

    One user may have several (Google and Microsoft, two mailboxes); one identity belongs to one
    user. `email` is the address the provider vouched for at the last sign-in.
    """

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]
    last_sign_in_at: Mapped[datetime | None]


class WebSession(Base):
    """A browser's session, kept server-side; the cookie holds a random token whose SHA-256 is
    `id`, so a leaked table cannot be replayed as cookies.

    A session without a user is one signing in: it carries the consent under way in `data`.
    """

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    data: Mapped[str | None] = mapped_column(Text)  # JSON: the consent under way


class ApiToken(Base):
    """A personal token for the REST API; only its SHA-256 is stored, and it can be revoked."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # shown to tell tokens apart
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Exclusion(Base):
    """An address ("jane@example.com") or a domain ("@example.com") never suggested."""

    __tablename__ = "exclusions"
    __table_args__ = (UniqueConstraint("user_id", "pattern"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    pattern: Mapped[str] = mapped_column(String(320))
