"""What the pages and the API read, scoped to one user: the queue, contacts, one contact with
its months of contact, accounts with their sync health; and cursor pagination over them.

Both the HTML pages and /api/v1 call these, so a page and its API answer always agree.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from keepwarm.services.accounts.connected import account_overview
from keepwarm.services.core.crypto import TokenCipher
from keepwarm.services.core.errors import InvalidInput, NotFound
from keepwarm.services.models import (
    Account,
    AccountStatus,
    Exclusion,
    Interaction,
    LifecycleEvent,
    Message,
    Person,
    PersonAddress,
    RunStatus,
    StreamKind,
    SyncCursor,
    SyncRun,
    User,
)
from keepwarm.services.reconnect import QueueRules
from keepwarm.services.reconnect.engine import Suggestion
from keepwarm.services.reconnect.intro import IntroPath
from keepwarm.services.reconnect.lifecycle import LifecycleRules
from keepwarm.services.reconnect.notes import open_follow_ups
from keepwarm.services.reconnect.views import (
    contact_detail,
    list_contacts,
    suggestion_json,
    suggestions,
)
from keepwarm.services.web.queue_cache import QueueCache

__all__ = [
    "MAX_LIMIT",
    "Month",
    "Paged",
    "QueueKey",
    "account_rows",
    "contact_view",
    "contacts",
    "intro_rows",
    "months_of_contact",
    "own_person",
    "page",
    "queue_key",
    "queue_key_columns",
    "queue_page",
    "ranked",
    "rendered_queue_page",
    "timeline_key",
]

T = TypeVar("T")
MAX_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Paged(Generic[T]):
    """One page of a list, and the cursor of the next (None on the last page)."""

    items: list[T]
    next_cursor: str | None


def _encode(key: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError):
        raise InvalidInput("cursor: not a cursor this server gave out", "cursor") from None
    if not isinstance(key, list) or not key:
        raise InvalidInput("cursor: not a cursor this server gave out", "cursor")
    return key


def page(
    items: Sequence[T], key: Callable[[T], Sequence[Any]], cursor: str | None, limit: int
) -> Paged[T]:
    """The `limit` items after `cursor` in `items` (sorted by `key`, ascending).

    The cursor is the last item's key, not an offset: a list that changed between two pages
    (someone snoozed) neither repeats nor skips the items that stayed.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit: must be between 1 and {MAX_LIMIT}", "limit")
    start = 0
    if cursor:
        after = _decode(cursor)
        if items and not _same_shape(after, list(key(items[0]))):
            raise InvalidInput("cursor: not a cursor this server gave out", "cursor")
        try:
            start = next((i for i, item in enumerate(items) if list(key(item)) > after), len(items))
        except TypeError:
            raise InvalidInput("cursor: not a cursor this server gave out", "cursor") from None
    chosen = list(items[start : start + limit])
    more = start + limit < len(items)
    return Paged(chosen, _encode(key(chosen[-1])) if more and chosen else None)


def _same_shape(given: list[Any], model: list[Any]) -> bool:
    def kind(value: Any) -> str:
        return (
            "number"
            if isinstance(value, int | float) and not isinstance(value, bool)
            else (type(value).__name__)
        )

    return len(given) == len(model) and all(
        kind(a) == kind(b) for a, b in zip(given, model, strict=False)
    )


def suggestion_key(s: Suggestion) -> tuple[Any, ...]:
    """The queue's own order (best first), as a cursor key."""
    h = s.stats.history
    return (-s.score, s.stats.last_at.isoformat(), list(h.addresses), h.person_id)


def queue_key_columns(
    dialect: str, user: ColumnElement[int] | InstrumentedAttribute[int]
) -> tuple[ColumnElement[Any], ...]:
    """What the queue of `user` (a column, or a bound id) is built from besides the clock and
    the operator's rules, as scalar subqueries for one statement: newest interaction id,
    newest answer id (answers are an append-only log), exclusions, the user's silence floor.
    A sync, an import, "talked elsewhere" all add an interaction; anything else a user does to
    the queue is an answer, an exclusion or the floor."""
    patterns = (
        select(Exclusion.pattern).where(Exclusion.user_id == user).order_by(Exclusion.pattern)
    )
    excluded: ColumnElement[Any] = (
        func.array(patterns.scalar_subquery())
        if dialect == "postgresql"
        # SQLite (embedded) has no arrays: the patterns as one JSON text (in no set order: a
        # new order only rebuilds the queue, and different patterns never read the same).
        else select(func.json_group_array(Exclusion.pattern))
        .where(Exclusion.user_id == user)
        .scalar_subquery()
    )
    return (
        select(func.max(Interaction.id)).where(Interaction.user_id == user).scalar_subquery(),
        select(func.max(LifecycleEvent.id)).where(LifecycleEvent.user_id == user).scalar_subquery(),
        excluded,
        select(User.floor_months).where(User.id == user).scalar_subquery(),
    )


@dataclass(frozen=True, slots=True)
class QueueKey:
    """What a user's queue was built from (queue_key_columns), and the rules it uses."""

    parts: tuple[Any, ...]
    rules: QueueRules

    @classmethod
    def of(cls, row: Sequence[Any], rules: QueueRules, lifecycle: LifecycleRules) -> QueueKey:
        """From the four values of queue_key_columns, with the operator's rules."""
        newest, answered, excluded, floor = row
        if floor is not None:
            rules = replace(rules, floor_months=floor)
        excluded = tuple(excluded) if isinstance(excluded, list) else excluded
        return cls((newest, answered, excluded, rules, lifecycle), rules)


def queue_key(
    session: Session, user_id: int, rules: QueueRules, lifecycle: LifecycleRules
) -> QueueKey:
    """The user's QueueKey: one statement."""
    statement = _key_statement(session.get_bind().dialect.name)
    row = session.execute(statement, {"user_id": user_id}).one()
    return QueueKey.of(tuple(row), rules, lifecycle)


@functools.cache
def _key_statement(dialect: str) -> Select[Any]:
    # Made once: building the statement costs more than running it.
    return select(*queue_key_columns(dialect, bindparam("user_id", type_=Integer)))


def ranked(
    session: Session,
    user_id: int,
    now: datetime,
    rules: QueueRules,
    lifecycle: LifecycleRules,
    *,
    dormant: bool = False,
    cache: QueueCache | None = None,
    key: QueueKey | None = None,
    builds: sessionmaker[Session] | None = None,
) -> list[Suggestion]:
    """The whole reconnect queue (or the dormant ties) as of `now`, best first, with the
    user's own silence floor; built by the same use case the CLI calls. `key`: the user's
    QueueKey when the caller has read it already; `builds`: where a build opens its own
    session, when `session` only reads (in autocommit mode)."""
    if key is None:
        key = queue_key(session, user_id, rules, lifecycle)
    build = _builder(user_id, now, key.rules, lifecycle, dormant, builds)
    if cache is None:
        return build(session)
    return cache.queue(session, user_id, dormant, key.parts, now, build)


def _builder(
    user_id: int,
    now: datetime,
    rules: QueueRules,
    lifecycle: LifecycleRules,
    dormant: bool,
    builds: sessionmaker[Session] | None,
) -> Callable[[Session], list[Suggestion]]:
    def build(s: Session) -> list[Suggestion]:
        if builds is not None:
            # The caller's session only reads (autocommit): what the build writes commits
            # together, in a session of its own.
            with builds() as own:
                return build_in(own)
        return build_in(s)

    def build_in(s: Session) -> list[Suggestion]:
        # The web's clock is its now (`serve --as-of` stops it): the current queue, whose
        # statistics a read builds and keeps when the worker has not yet.
        queue = suggestions(
            s, user_id, now, rules, None, lifecycle=lifecycle, dormant=dormant, current=True
        )
        s.commit()
        return queue

    return build


def rendered_queue_page(
    session: Session,
    user_id: int,
    now: datetime,
    lifecycle: LifecycleRules,
    key: QueueKey,
    *,
    dormant: bool,
    cursor: str | None,
    limit: int,
    render: Callable[[Paged[dict[str, Any]]], bytes],
    cache: QueueCache | None = None,
    builds: sessionmaker[Session] | None = None,
) -> bytes:
    """`render` of queue_page's page: with `cache`, the bytes kept beside the user's queue for
    this cursor and limit (QueueCache.page); raises InvalidInput for a bad cursor or limit.
    `builds` as for ranked."""

    def render_page(queue: list[Suggestion]) -> bytes:
        return render(_page_of(queue, cursor, limit))

    build = _builder(user_id, now, key.rules, lifecycle, dormant, builds)
    if cache is None:
        return render_page(build(session))
    view = (cursor, limit)
    return cache.page(session, user_id, dormant, key.parts, now, build, view, render_page)


def _page_of(queue: list[Suggestion], cursor: str | None, limit: int) -> Paged[dict[str, Any]]:
    chosen = page(queue, suggestion_key, cursor, limit)
    return Paged(
        [{"id": s.stats.history.person_id, **suggestion_json(s)} for s in chosen.items],
        chosen.next_cursor,
    )


def queue_page(
    session: Session,
    user_id: int,
    now: datetime,
    rules: QueueRules,
    lifecycle: LifecycleRules,
    *,
    dormant: bool,
    cursor: str | None,
    limit: int,
    cache: QueueCache | None = None,
    builds: sessionmaker[Session] | None = None,
) -> Paged[dict[str, Any]]:
    """One page of the queue (or the dormant ties): the contract's JSON, with the person's id.
    `builds` as for ranked."""
    items = ranked(
        session, user_id, now, rules, lifecycle, dormant=dormant, cache=cache, builds=builds
    )
    return _page_of(items, cursor, limit)


def contacts(
    session: Session, user_id: int, now: datetime, query: str | None
) -> list[dict[str, Any]]:
    """Relationships, strongest first, with their person id; `query` filters by name or address."""
    rows = list_contacts(session, user_id, now)
    ids = _ids_by_address(session, user_id, [r["addresses"][0] for r in rows])
    needle = (query or "").strip().lower()
    out = []
    for row in rows:
        if needle and not (
            needle in (row["name"] or "").lower() or any(needle in a for a in row["addresses"])
        ):
            continue
        out.append({"id": ids[row["addresses"][0]], **row})
    return out


def contact_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (-float(row["strength"]), list(row["addresses"]), int(row["id"]))


def _ids_by_address(session: Session, user_id: int, addresses: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(addresses), 500):
        chunk = addresses[start : start + 500]
        for address, person_id in session.execute(
            select(PersonAddress.address, PersonAddress.person_id).where(
                PersonAddress.user_id == user_id, PersonAddress.address.in_(chunk)
            )
        ):
            found[address] = person_id
    return found


def own_person(session: Session, user_id: int, person_id: int) -> Person:
    """The user's person `person_id`; NotFound for anyone else's (never says whose)."""
    person = session.get(Person, person_id)
    if person is None or person.user_id != user_id:
        raise NotFound(f"no contact {person_id}")
    return person


@dataclass(frozen=True, slots=True)
class Month:
    """Interactions in one calendar month (UTC)."""

    month: str  # "2001-02"
    sent: int
    received: int
    met: int
    elsewhere: int

    @property
    def total(self) -> int:
        return self.sent + self.received + self.met + self.elsewhere


def _month_index(at: datetime) -> int:
    return at.year * 12 + at.month - 1


def months_of_contact(
    session: Session, user_id: int, person_id: int, as_of: datetime, span: int = 36
) -> list[Month]:
    """Interactions per month over `span` months: the months up to `as_of`, or, for a tie quiet
    for longer than that, the months around its last contact (so the chart is never empty)."""
    rows = session.execute(
        select(Interaction.at, Interaction.kind).where(
            Interaction.user_id == user_id,
            Interaction.person_id == person_id,
            Interaction.at <= as_of,
        )
    ).all()
    if not rows:
        return []
    counts: Counter[tuple[int, str]] = Counter((_month_index(at), str(kind)) for at, kind in rows)
    first = min(m for m, _ in counts)
    last = max(m for m, _ in counts)
    end = _month_index(as_of)
    if end - last >= span:
        end = min(last + 6, end)
    start = max(first, end - span + 1)
    return [
        Month(
            f"{m // 12:04d}-{m % 12 + 1:02d}",
            counts[(m, "sent")],
            counts[(m, "received")],
            counts[(m, "met")],
            counts[(m, "elsewhere")],
        )
        for m in range(start, end + 1)
    ]


def contact_view(session: Session, user_id: int, person_id: int, as_of: datetime) -> dict[str, Any]:
    """One of the user's contacts: the stable contract of `keepwarm contact --json`, with its id.

    Raises NotFound for a person that is not the user's.
    """
    person = own_person(session, user_id, person_id)
    address = session.scalar(
        select(PersonAddress.address)
        .where(PersonAddress.person_id == person.id)
        .order_by(PersonAddress.address)
        .limit(1)
    )
    if address is None:
        raise NotFound(f"no contact {person_id}")
    detail = contact_detail(session, user_id, address, as_of)
    follow_ups = [
        {"id": f.id, "due_at": _iso(f.due_at), "set_at": _iso(f.created_at), "reason": f.reason}
        for f in open_follow_ups(session, user_id, as_of, due_only=False, person_id=person.id)
    ]
    return {"id": person.id, **detail, "follow_ups": follow_ups}


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def timeline_key(entry: dict[str, Any]) -> tuple[Any, ...]:
    """Newest first: the timeline's order as a cursor key."""
    at = datetime.fromisoformat(str(entry["at"]).replace("Z", "+00:00"))
    return (-at.timestamp(), str(entry["kind"]), str(entry["subject"] or ""))


def account_rows(
    session: Session, user_id: int, cipher: TokenCipher | None = None, key_name: str = ""
) -> list[dict[str, Any]]:
    """Each of the user's accounts: `keepwarm accounts --json` with its id and, while a
    backfill runs, how far it has got. With `cipher`, an account whose tokens it cannot open
    says so (account_overview), as the CLI does."""
    ids = list(
        session.scalars(select(Account.id).where(Account.user_id == user_id).order_by(Account.id))
    )
    rows = account_overview(session, user_id, cipher, key_name)
    out = []
    for account_id, row in zip(ids, rows, strict=True):
        out.append({"id": account_id, **row, "progress": _progress(session, account_id)})
    return out


def _progress(session: Session, account_id: int) -> dict[str, Any] | None:
    """While the first full read runs: streams done of streams begun, messages stored so far,
    and how far back in time the mail read has reached (the window starts at `since`)."""
    account = session.get(Account, account_id)
    if account is None or account.status != AccountStatus.ACTIVE:
        return None
    streams = session.execute(
        select(SyncCursor.kind, SyncCursor.caught_up).where(SyncCursor.account_id == account_id)
    ).all()
    mail = [done for kind, done in streams if kind == StreamKind.MAIL]
    if mail and all(mail):
        return None
    running = session.scalar(
        select(SyncRun.started_at)
        .where(SyncRun.account_id == account_id, SyncRun.status == RunStatus.RUNNING)
        .order_by(SyncRun.id.desc())
        .limit(1)
    )
    oldest = session.scalar(
        select(func.min(Message.sent_at)).where(Message.account_id == account_id)
    )
    return {
        "running_since": running.isoformat() if running else None,
        "streams_done": sum(1 for _, done in streams if done),
        "streams_started": len(streams),
        "reached_back_to": oldest.date().isoformat() if oldest else None,
        "window_starts": account.since.date().isoformat(),
    }


def intro_rows(session: Session, user_id: int, paths: list[IntroPath]) -> list[dict[str, Any]]:
    """Introduction paths as JSON, each with the introducer's person id."""
    ids = _ids_by_address(session, user_id, [p.addresses[0] for p in paths if p.addresses])
    return [
        {
            "id": ids.get(p.addresses[0]) if p.addresses else None,
            "name": p.name,
            "addresses": list(p.addresses),
            "tie_strength": p.tie_strength,
            "threads": p.threads,
            "meetings": p.meetings,
            "last_together": _iso(p.last_together),
            "score": p.score,
            "evidence": p.evidence,
        }
        for p in paths
    ]
