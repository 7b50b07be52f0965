"""Personal API tokens: made once and shown once, stored as a SHA-256, revocable.

A token is 32 random bytes; a slow password hash adds nothing against guessing that many, and
a plain digest lets every API call find its token by an indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, select, update
from sqlalchemy.orm import Session

from keepwarm.services.core.errors import InvalidInput, NotFound
from keepwarm.services.models import ApiToken

__all__ = [
    "PREFIX",
    "NewToken",
    "TokenInfo",
    "TokenOwner",
    "create_token",
    "list_tokens",
    "owner_of_token",
    "owner_statement",
    "revoke_token",
    "user_for_token",
]

PREFIX = "kw_"
MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token as its owner sees it later: never the secret."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just made: `secret` is shown this once and is not kept."""

    info: TokenInfo
    secret: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.id, row.name, row.prefix, row.created_at, row.last_used_at, row.revoked_at)


def create_token(session: Session, user_id: int, name: str, now: datetime) -> NewToken:
    """Make a token named `name`; raises InvalidInput (field "name") for an empty or long one."""
    name = name.strip()
    if not name:
        raise InvalidInput("name: give the token a name", "name")
    if "\x00" in name:
        raise InvalidInput("name: contains a NUL character", "name")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"name: at most {MAX_NAME} characters", "name")
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user_id,
        name=name,
        prefix=secret[: len(PREFIX) + 6],
        token_hash=_digest(secret),
        created_at=now,
    )
    session.add(row)
    session.flush()
    return NewToken(_info(row), secret)


def list_tokens(session: Session, user_id: int) -> list[TokenInfo]:
    """The user's tokens, newest first, revoked ones included (marked)."""
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
    )
    return [_info(r) for r in rows]


def revoke_token(session: Session, user_id: int, token_id: int, now: datetime) -> TokenInfo:
    """Revoke one of the user's tokens (again is a no-op); raises NotFound for another's."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"no API token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
    return _info(row)


def user_for_token(session: Session, secret: str, now: datetime) -> int | None:
    """The user a live token belongs to (and notes its use), or None."""
    found = owner_of_token(session, secret, now)
    return found.user_id if found is not None else None


@dataclass(frozen=True, slots=True)
class TokenOwner:
    """Who a live token belongs to, and the values of the columns asked for with it."""

    user_id: int
    values: tuple[Any, ...]
    noted: bool  # its use was written (the caller's unit of work must commit)


def owner_statement(*also: ColumnElement[Any]) -> Select[Any]:
    """The statement owner_of_token runs, with `also`: more columns, which may refer to
    ApiToken.user_id (scalar subqueries on the owner), so a request reads its token and what
    it needs of its owner in one round trip. Build it once and reuse it: making a statement
    costs more than running a small one."""
    return select(
        ApiToken.id, ApiToken.user_id, ApiToken.revoked_at, ApiToken.last_used_at, *also
    ).where(ApiToken.token_hash == bindparam("token_hash"))


_PLAIN = owner_statement()


def owner_of_token(
    session: Session, secret: str, now: datetime, statement: Select[Any] = _PLAIN
) -> TokenOwner | None:
    """The owner of a live token (and notes its use), or None; `statement`: owner_statement's,
    whose extra columns' values come back in TokenOwner.values."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    row = session.execute(statement, {"token_hash": _digest(secret)}).one_or_none()
    if row is None or row[2] is not None:
        return None
    token_id, user_id, _revoked, last_used = row[:4]
    # Written at most once a minute: a busy script must not turn every read into a write.
    noted = last_used is None or (now - last_used).total_seconds() > 60
    if noted:
        session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
    return TokenOwner(user_id, tuple(row[4:]), noted)
