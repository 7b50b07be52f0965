"""Enqueueing background jobs only after the unit of work that asked for them has committed.

Services never talk to the broker: they add `(actor name, kwargs)` to the unit's `JobBuffer`, and
`unit_of_work` hands the buffer to a `JobSink` once the transaction is committed, so a worker
never sees an id whose row is not yet visible, and a rolled-back unit sends nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Job", "JobBuffer", "JobSink", "UnitOfWork", "unit_of_work"]

JsonScalar = str | int | float | bool | None


@dataclass(frozen=True, slots=True)
class Job:
    """One message for an actor: a stable dotted actor name and JSON scalar arguments."""

    actor: str
    kwargs: dict[str, JsonScalar]


class JobSink(Protocol):
    """Where committed jobs go: the Dramatiq broker in `workers`, a list in tests."""

    def send(self, job: Job) -> None: ...


@dataclass
class JobBuffer:
    """Jobs asked for inside one unit of work, not yet sent."""

    jobs: list[Job] = field(default_factory=list)

    def enqueue(self, actor: str, **kwargs: JsonScalar) -> None:
        """Ask for `actor` to run with `kwargs` once this unit of work commits."""
        self.jobs.append(Job(actor, dict(kwargs)))


@dataclass(frozen=True, slots=True)
class UnitOfWork:
    """A session inside one transaction, and the jobs to send when it commits."""

    session: Session
    jobs: JobBuffer


@contextmanager
def unit_of_work(
    session_factory: sessionmaker[Session], sink: JobSink | None = None
) -> Iterator[UnitOfWork]:
    """Open a transaction; commit and then send its jobs on success, roll back on error."""
    buffer = JobBuffer()
    with session_factory() as session, session.begin():
        yield UnitOfWork(session, buffer)
    # Reached only when the block above committed.
    if sink is not None:
        for job in buffer.jobs:
            sink.send(job)
    elif buffer.jobs:
        raise RuntimeError(f"jobs {[j.actor for j in buffer.jobs]} asked for with no job sink")
