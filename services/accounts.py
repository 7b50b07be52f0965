"""Connecting, listing and disconnecting provider accounts."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.crypto import TokenCipher
from services.models import Account, AccountStatus, Message, SyncRun

__all__ = ["account_overview", "save_account"]


def save_account(
    session: Session,
    user_id: int,
    *,
    provider: str,
    email: str,
    tokens: dict[str, Any],
    scopes: tuple[str, ...],
    cipher: TokenCipher,
    since: datetime,
    api_base: str | None,
) -> Account:
    """Store a new grant, encrypted; a reconnect of a known account replaces its tokens.

    Reconnecting keeps the account's cursors and data: sync continues where it stopped.
    """
    account = session.scalar(
        select(Account).where(
            Account.user_id == user_id, Account.provider == provider, Account.email == email
        )
    )
    sealed = cipher.seal(tokens)
    if account is None:
        account = Account(
            user_id=user_id,
            provider=provider,
            email=email,
            scopes=" ".join(scopes),
            token_ciphertext=sealed,
            api_base=api_base,
            since=since,
            created_at=datetime.now(UTC),
            backfill_phase="sent",
        )
        session.add(account)
    else:
        account.token_ciphertext = sealed
        account.scopes = " ".join(scopes)
        account.status, account.status_reason = AccountStatus.ACTIVE.value, None
        account.api_base = api_base
        if since < account.since:  # reaching further back needs a fresh backfill
            account.since = since
            account.mail_cursor, account.backfill_history_id = None, None
            account.backfill_phase, account.backfill_page_token = "sent", None
            account.calendar_cursor = None
    session.flush()
    return account


def account_overview(session: Session, user_id: int) -> list[dict[str, Any]]:
    """Each account with its status, last runs, and counts of what it brought."""
    out: list[dict[str, Any]] = []
    for account in session.scalars(
        select(Account).where(Account.user_id == user_id).order_by(Account.id)
    ):
        last = session.scalar(
            select(SyncRun)
            .where(SyncRun.account_id == account.id)
            .order_by(SyncRun.id.desc())
            .limit(1)
        )
        reasons = Counter(
            {
                str(reason): int(n)
                for reason, n in session.execute(
                    select(Message.filter_reason, func.count())
                    .where(Message.account_id == account.id, Message.filter_reason.is_not(None))
                    .group_by(Message.filter_reason)
                )
            }
        )
        messages = session.scalar(
            select(func.count()).select_from(Message).where(Message.account_id == account.id)
        )
        out.append(
            {
                "provider": account.provider,
                "email": account.email,
                "status": account.status,
                "status_reason": account.status_reason,
                "since": account.since.date().isoformat(),
                "phase": "incremental"
                if account.mail_cursor
                else f"backfill ({account.backfill_phase})",
                "last_sync_at": account.last_sync_at.isoformat() if account.last_sync_at else None,
                "last_success_at": (
                    account.last_success_at.isoformat() if account.last_success_at else None
                ),
                "messages": int(messages or 0),
                "filtered": dict(reasons.most_common()),
                "last_run": None
                if last is None
                else {
                    "status": last.status,
                    "seen": last.seen,
                    "imported": last.imported,
                    "events_seen": last.events_seen,
                    "events_imported": last.events_imported,
                    "failed": last.failed,
                    "error": last.error,
                },
            }
        )
    return out
