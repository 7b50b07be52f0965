"""Server-side web sessions: the cookie carries a random token, the table its SHA-256.

A session starts anonymous (someone on the way to "Continue with Google"); it carries that
consent under way and a CSRF token. Signing in replaces it with a new session for the user
(a fixed session id cannot be planted before sign-in and used after). Sign-out deletes it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from keepwarm.services.core.errors import PermissionDenied
from keepwarm.services.models import WebSession

__all__ = [
    "ANONYMOUS_LIFETIME",
    "CsrfFailed",
    "OpenSession",
    "check_csrf",
    "end_session",
    "load_session",
    "save_data",
    "start_session",
]

# A session that never signs in (a consent abandoned) lasts an hour.
ANONYMOUS_LIFETIME = timedelta(hours=1)


class CsrfFailed(PermissionDenied):
    """A state-changing request without its session's CSRF token."""


@dataclass(frozen=True, slots=True)
class OpenSession:
    """A live session: the cookie's token (only the holder has it), its user and CSRF token."""

    token: str
    user_id: int | None
    csrf_token: str
    expires_at: datetime
    data: dict[str, Any]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(
    session: Session, user_id: int | None, now: datetime, lifetime: timedelta
) -> OpenSession:
    """A new session (anonymous when `user_id` is None); its token goes in the cookie."""
    token = secrets.token_urlsafe(32)
    row = WebSession(
        id=_hash(token),
        user_id=user_id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + (lifetime if user_id is not None else ANONYMOUS_LIFETIME),
        data=None,
    )
    session.add(row)
    session.flush()
    return OpenSession(token, user_id, row.csrf_token, row.expires_at, {})


def load_session(session: Session, token: str | None, now: datetime) -> OpenSession | None:
    """The live session the cookie's `token` names, or None (unknown, expired, malformed)."""
    if not token or len(token) > 200:
        return None
    row = session.get(WebSession, _hash(token))
    if row is None or row.expires_at <= now:
        return None
    data = json.loads(row.data) if row.data else {}
    return OpenSession(token, row.user_id, row.csrf_token, row.expires_at, data)


def save_data(session: Session, token: str, data: dict[str, Any]) -> None:
    """Replace what the session carries (the consent under way)."""
    row = session.get(WebSession, _hash(token))
    if row is not None:
        row.data = json.dumps(data) if data else None
        session.flush()


def end_session(session: Session, token: str, now: datetime) -> None:
    """Forget the session (sign-out, or replaced at sign-in), and any expired ones."""
    session.execute(
        delete(WebSession).where((WebSession.id == _hash(token)) | (WebSession.expires_at <= now))
    )


def check_csrf(open_session: OpenSession | None, given: str | None) -> None:
    """Raise CsrfFailed unless `given` is the session's CSRF token (compared in constant time)."""
    if open_session is None or not given:
        raise CsrfFailed("this form has expired: reload the page and try again")
    if not hmac.compare_digest(open_session.csrf_token.encode(), given.encode()):
        raise CsrfFailed("this form has expired: reload the page and try again")
