"""`keepwarm import`: stream files into storage, settle who the owner is, ask for derivation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from keepwarm.connectors.errors import ConnectorError
from keepwarm.connectors.files import read_paths
from keepwarm.connectors.types import CalendarEvent, MailMessage, PartlyRead, Unreadable
from keepwarm.services.core.clock import Clock
from keepwarm.services.core.errors import InvalidInput
from keepwarm.services.core.jobs import JobSink, unit_of_work
from keepwarm.services.mail.ingest import store_dead_letters, store_events, store_messages
from keepwarm.services.mail.ownership import settle_owner
from keepwarm.services.models import Event, ImportRun, Message

__all__ = [
    "DERIVE_ACTOR",
    "ImportOptions",
    "ImportSummary",
    "import_paths",
    "summarize_run",
]

DERIVE_ACTOR = "interactions.derive_pending"
BATCH = 500


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """What one import was asked to do."""

    me: tuple[str, ...] = ()
    calendar_years_back: int = 25
    calendar_days_ahead: int = 365


@dataclass(slots=True)
class ImportSummary:
    """What an import found: the figures printed at its end."""

    run_id: int
    messages_seen: int = 0
    messages_imported: int = 0
    events_seen: int = 0
    events_imported: int = 0
    events_updated: int = 0
    unreadable: int = 0
    unreadable_examples: list[str] = field(default_factory=list)
    # Records kept with a part not read as written (connectors.types.PartlyRead).
    partly_read: int = 0
    partly_read_examples: list[str] = field(default_factory=list)
    owner: list[str] = field(default_factory=list)
    owner_changed: bool = False
    filtered: dict[str, int] = field(default_factory=dict)

    @property
    def duplicates(self) -> int:
        """Messages already stored (an earlier import, or a copy in another folder)."""
        return self.messages_seen - self.messages_imported


class _Batcher:
    """Collects streamed records and writes each full batch in its own transaction."""

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        user_id: int,
        run_id: int,
        summary: ImportSummary,
        clock: Clock,
    ) -> None:
        self._factory = session_factory
        self._clock = clock
        self._user_id = user_id
        self._run_id = run_id
        self._summary = summary
        self._messages: list[MailMessage] = []
        self._events: list[CalendarEvent] = []
        self._bad: list[Unreadable] = []
        # Event fingerprints stored so far in this run (a few MB for 100k occurrences).
        self._events_seen: set[str] = set()

    def add(self, record: MailMessage | CalendarEvent | Unreadable) -> None:
        if isinstance(record, MailMessage):
            self._messages.append(record)
        elif isinstance(record, CalendarEvent):
            self._events.append(record)
        else:
            # Kept as dead letters either way: the part not read is on record with its reason.
            self._bad.append(record)
            partly = isinstance(record, PartlyRead)
            if partly:
                self._summary.partly_read += 1
            examples = (
                self._summary.partly_read_examples if partly else self._summary.unreadable_examples
            )
            if len(examples) < 5:
                examples.append(f"{record.source}: {record.reason}")
        if len(self._messages) + len(self._events) + len(self._bad) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not (self._messages or self._events or self._bad):
            return
        s = self._summary
        with self._factory() as session, session.begin():
            m = store_messages(session, self._user_id, self._run_id, self._messages)
            e = store_events(session, self._user_id, self._run_id, self._events, self._events_seen)
            store_dead_letters(session, self._user_id, self._run_id, self._bad, self._clock())
            s.messages_seen += m.seen
            s.messages_imported += m.imported
            s.events_seen += e.seen
            s.events_imported += e.imported
            s.events_updated += e.updated
            s.unreadable += sum(1 for b in self._bad if not isinstance(b, PartlyRead))
            run = session.get(ImportRun, self._run_id)
            assert run is not None
            run.messages_seen, run.messages_imported = s.messages_seen, s.messages_imported
            run.events_seen, run.events_imported = s.events_seen, s.events_imported
            run.unreadable = s.unreadable
        self._messages, self._events, self._bad = [], [], []


def import_paths(
    session_factory: sessionmaker[Session],
    user_id: int,
    paths: Sequence[Path],
    options: ImportOptions,
    sink: JobSink,
    clock: Clock,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import mailboxes and calendars at `paths` for the user; derivation is enqueued after.

    Raises InvalidInput, naming the path, when a path is missing or of no known kind; unreadable
    content inside valid paths is counted and kept as dead letters instead.
    """
    now = clock()
    window = (
        now - timedelta(days=365 * options.calendar_years_back),
        now + timedelta(days=options.calendar_days_ahead),
    )
    try:
        records = read_paths(list(paths), window=window, progress=progress)
        first = next(records, None)
    except ConnectorError as exc:
        raise InvalidInput(str(exc)) from exc
    with unit_of_work(session_factory) as uow:
        run = ImportRun(user_id=user_id, started_at=now, paths="\n".join(map(str, paths)))
        uow.session.add(run)
        uow.session.flush()
        run_id = run.id
    summary = ImportSummary(run_id=run_id)
    batcher = _Batcher(session_factory, user_id, run_id, summary, clock)
    if first is not None:
        batcher.add(first)
        for record in records:
            batcher.add(record)
    batcher.flush()
    with unit_of_work(session_factory, sink) as uow:
        summary.owner, summary.owner_changed = settle_owner(uow.session, user_id, options.me)
        finished = uow.session.get(ImportRun, run_id)
        assert finished is not None
        finished.finished_at = clock()
        uow.jobs.enqueue(DERIVE_ACTOR, user_id=user_id)
    return summary


def summarize_run(session: Session, summary: ImportSummary) -> ImportSummary:
    """Fill in, after derivation, how many of the run's new records each rule filtered."""
    counts: Counter[str] = Counter()
    for model in (Message, Event):
        for reason, n in session.execute(
            select(model.filter_reason, func.count())
            .where(model.import_run_id == summary.run_id, model.filter_reason.is_not(None))
            .group_by(model.filter_reason)
        ):
            counts[str(reason)] += int(n)
    summary.filtered = dict(counts.most_common())
    return summary
