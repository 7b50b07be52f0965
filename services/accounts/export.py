"""Everything a user owns, as one JSON document streamed table by table.

Every table that belongs to the user is in it, every column but the secrets: the stored OAuth
tokens (encrypted or not, they are keys to the mailbox), API token digests and web sessions.
Rows are read in batches, so exporting half a million interactions holds no more than a batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from keepwarm.services.core.db import Base
from keepwarm.services.core.errors import NotFound
from keepwarm.services.models import (
    Account,
    ApiToken,
    DeadLetter,
    Delivery,
    Event,
    EventAttendee,
    Exclusion,
    FollowUp,
    Identity,
    IdentityDecision,
    ImportRun,
    Interaction,
    LifecycleEvent,
    Message,
    MessageRecipient,
    Note,
    OwnerAddress,
    Person,
    PersonAddress,
    RecordSource,
    SyncCursor,
    SyncRun,
    UsedLink,
    User,
)

__all__ = ["EXPORT_FORMAT", "SECRET_COLUMNS", "export_user"]

EXPORT_FORMAT = "keepwarm.export/1"
# (table, column) never exported.
SECRET_COLUMNS = frozenset({("accounts", "token_ciphertext"), ("api_tokens", "token_hash")})
_BATCH = 2000


def _tables(user_id: int) -> list[tuple[type[Base], Select[Any]]]:
    def own(model: Any) -> Select[Any]:
        return select(model).where(model.user_id == user_id).order_by(*model.__table__.primary_key)

    accounts = select(Account.id).where(Account.user_id == user_id)
    messages = select(Message.id).where(Message.user_id == user_id)
    events = select(Event.id).where(Event.user_id == user_id)
    return [
        (Identity, own(Identity)),
        (Account, own(Account)),
        (SyncCursor, select(SyncCursor).where(SyncCursor.account_id.in_(accounts))),
        (SyncRun, select(SyncRun).where(SyncRun.account_id.in_(accounts)).order_by(SyncRun.id)),
        (OwnerAddress, own(OwnerAddress)),
        (Person, own(Person)),
        (PersonAddress, own(PersonAddress)),
        (IdentityDecision, own(IdentityDecision)),
        (Interaction, own(Interaction)),
        (Message, own(Message)),
        (
            MessageRecipient,
            select(MessageRecipient)
            .where(MessageRecipient.message_id.in_(messages))
            .order_by(MessageRecipient.message_id),
        ),
        (RecordSource, own(RecordSource)),
        (Event, own(Event)),
        (
            EventAttendee,
            select(EventAttendee)
            .where(EventAttendee.event_id.in_(events))
            .order_by(EventAttendee.event_id),
        ),
        (LifecycleEvent, own(LifecycleEvent)),
        (Note, own(Note)),
        (FollowUp, own(FollowUp)),
        (Exclusion, own(Exclusion)),
        (Delivery, own(Delivery)),
        (UsedLink, own(UsedLink)),
        (ImportRun, own(ImportRun)),
        (DeadLetter, own(DeadLetter)),
        (ApiToken, own(ApiToken)),
    ]


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if hasattr(value, "value") and isinstance(value.value, str):  # a StrEnum
        return value.value
    return value


def _row(model: type[Base], row: Any) -> dict[str, Any]:
    table = model.__table__
    name = str(getattr(table, "name", ""))
    return {
        column.key: _value(getattr(row, column.key))
        for column in table.columns
        if (name, column.key) not in SECRET_COLUMNS
    }


def export_user(session: Session, user_id: int, now: datetime) -> Iterator[str]:
    """The export of `user_id` as JSON text in pieces; raises NotFound before the first piece."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    head = {"format": EXPORT_FORMAT, "exported_at": _value(now), "user": _row(User, user)}
    return _stream(session, user_id, json.dumps(head, ensure_ascii=False)[:-1])


def _stream(session: Session, user_id: int, head: str) -> Iterator[str]:
    yield head + ', "tables": {'
    for index, (model, query) in enumerate(_tables(user_id)):
        yield (
            ("" if index == 0 else ", ")
            + json.dumps(str(getattr(model.__table__, "name", "")))
            + ": ["
        )
        first = True
        for row in session.scalars(query.execution_options(yield_per=_BATCH)):
            yield ("" if first else ", ") + json.dumps(_row(model, row), ensure_ascii=False)
            first = False
        yield "]"
    yield "}}"
