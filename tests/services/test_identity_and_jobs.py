"""Address normalisation and the after-commit job buffer."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from keepwarm.services.core.db import make_engine, make_session_factory, migrate
from keepwarm.services.core.jobs import Job, unit_of_work
from keepwarm.services.identity.addresses import normalize_address
from keepwarm.services.models import User


def test_normalize_address() -> None:
    assert normalize_address("  <Jane.Doe@Example.COM> ") == "jane.doe@example.com"
    assert normalize_address("Ａlice@example.com".replace("Ａ", "A")) == "alice@example.com"
    assert normalize_address("not an address") is None
    assert normalize_address("@example.com") is None


class ListSink:
    def __init__(self) -> None:
        self.sent: list[Job] = []

    def send(self, job: Job) -> None:
        self.sent.append(job)


def test_jobs_are_sent_after_commit_and_never_after_rollback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    migrate(engine)
    factory = make_session_factory(engine)
    sink = ListSink()
    with pytest.raises(RuntimeError, match="boom"), unit_of_work(factory, sink) as uow:
        uow.session.add(User(handle="a"))
        uow.jobs.enqueue("x.y", user_id=1)
        raise RuntimeError("boom")
    assert sink.sent == []
    with unit_of_work(factory, sink) as uow:
        uow.session.add(User(handle="b"))
        uow.jobs.enqueue("x.y", user_id=2)
        assert sink.sent == []  # not before the commit
    assert sink.sent == [Job("x.y", {"user_id": 2})]
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 1
    engine.dispose()
