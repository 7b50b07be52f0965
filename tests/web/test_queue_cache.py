"""The web's cache of built queues serves only what cannot mislead."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from keepwarm.services.core.config import Settings
from keepwarm.services.reconnect.engine import Suggestion
from keepwarm.services.reconnect.history import ContactHistory, InteractionPoint
from keepwarm.services.reconnect.stats import compute_stats
from keepwarm.services.runtime import build_runtime
from keepwarm.services.web.queue_cache import MAX_PAGE_BYTES, QueueCache

AS_OF = datetime(2026, 11, 23, 9, tzinfo=UTC)


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Builds:
    """A queue builder that counts its builds."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, session: Session) -> list[Suggestion]:
        self.count += 1
        point = InteractionPoint(AS_OF - timedelta(days=200), "sent", 1, "hi")
        stats = compute_stats(ContactHistory(1, "Jane", ("jane@example.com",), (point,)))
        return [Suggestion(stats, 200.0, 91.0, "overdue", 0.5, "why")]


def test_a_built_queue_is_served_only_for_its_key_and_never_for_an_earlier_moment(
    embedded_settings: Settings,
) -> None:
    runtime = build_runtime(embedded_settings)
    ticks, builds = Ticks(), Builds()
    cache = QueueCache(runtime.session_factory, 60, monotonic=ticks)
    with runtime.session_factory() as session:

        def ask(key: object, at: datetime = AS_OF) -> list[Suggestion]:
            return cache.queue(session, 7, False, key, at, builds)

        first = ask(("newest", 1))
        assert ask(("newest", 1)) is first and builds.count == 1
        ask(("newest", 2))  # a new interaction or answer: built afresh
        assert builds.count == 2
        ask(("newest", 2), AS_OF - timedelta(hours=1))  # an earlier moment: built afresh
        assert builds.count == 3
        kept = ask(("newest", 2), AS_OF)
        assert builds.count == 4
        ticks.now = 30
        assert ask(("newest", 2), AS_OF + timedelta(seconds=30)) is kept
        ticks.now = 61  # past its time: this request builds it
        latest = ask(("newest", 2), AS_OF + timedelta(seconds=61))
        assert latest is not kept and builds.count == 5
        cache.forget(7)  # the user's data was deleted
        assert ask(("newest", 2), AS_OF + timedelta(seconds=61)) is not latest
        off = QueueCache(runtime.session_factory, 0)
        assert off.queue(session, 7, False, 1, AS_OF, builds) is not off.queue(
            session, 7, False, 1, AS_OF, builds
        )
    runtime.close()


def test_a_page_is_rendered_once_for_its_queue_and_never_outlives_it(
    embedded_settings: Settings,
) -> None:
    runtime = build_runtime(embedded_settings)
    ticks, builds = Ticks(), Builds()
    cache = QueueCache(runtime.session_factory, 60, monotonic=ticks)
    rendered: list[object] = []

    def render(queue: list[Suggestion]) -> bytes:
        rendered.append(queue)
        return f"{len(rendered)}".encode()

    def refuse(queue: list[Suggestion]) -> bytes:
        raise ValueError("a bad cursor")

    with runtime.session_factory() as session:

        def ask(key: object, view: object, at: datetime = AS_OF) -> bytes:
            return cache.page(session, 7, False, key, at, builds, view, render)

        # The same page of the same queue: rendered once, then the same bytes
        assert ask(1, ("cursor", 50)) == b"1" and ask(1, ("cursor", 50)) == b"1"
        assert ask(1, (None, 50)) == b"2"  # another page: rendered
        assert builds.count == 1 and len(rendered) == 2
        # What `render` raises is raised, and nothing is kept
        with pytest.raises(ValueError, match="a bad cursor"):
            cache.page(session, 7, False, 1, AS_OF, builds, ("bad", 50), refuse)
        assert ask(1, ("bad", 50)) == b"3"
        # A new key: a new queue, and its pages rendered anew
        assert ask(2, ("cursor", 50)) == b"4" and builds.count == 2
        # Past the queue's time: built and rendered again
        ticks.now = 61
        assert ask(2, ("cursor", 50), AS_OF + timedelta(seconds=61)) == b"5"
        assert builds.count == 3
        # And the queue() of the same key is the one the pages were rendered from
        assert (
            cache.queue(session, 7, False, 2, AS_OF + timedelta(seconds=61), builds)
            is (rendered[-1])
        )
    runtime.close()


def test_a_kept_page_is_offered_in_place_only_while_page_would_serve_it_unchanged(
    embedded_settings: Settings,
) -> None:
    # kept_page is what the event loop serves without the thread pool: it must never offer
    # bytes that page() would not serve as they are (another key, an earlier moment, a queue
    # past its time or due to be built again, a page not yet rendered)
    runtime = build_runtime(embedded_settings)
    ticks, builds = Ticks(), Builds()
    cache = QueueCache(runtime.session_factory, 60, monotonic=ticks)
    view = (None, 50)
    with runtime.session_factory() as session:
        assert cache.kept_page(7, False, 1, AS_OF, view) is None  # nothing built yet
        body = cache.page(session, 7, False, 1, AS_OF, builds, view, lambda q: b"page")
        assert cache.kept_page(7, False, 1, AS_OF, view) == body == b"page"
        assert cache.kept_page(7, False, 1, AS_OF, ("cursor", 50)) is None  # not rendered
        assert cache.kept_page(7, True, 1, AS_OF, view) is None  # the dormant view
        assert cache.kept_page(8, False, 1, AS_OF, view) is None  # another user
        assert cache.kept_page(7, False, 2, AS_OF, view) is None  # a new answer or mail
        assert cache.kept_page(7, False, 1, AS_OF - timedelta(seconds=1), view) is None
        ticks.now = 44  # within three quarters of its time
        assert cache.kept_page(7, False, 1, AS_OF + timedelta(seconds=44), view) == b"page"
        ticks.now = 46  # due to be built again by one request: page() decides
        assert cache.kept_page(7, False, 1, AS_OF + timedelta(seconds=46), view) is None
        cache.forget(7)
        ticks.now = 0
        assert cache.kept_page(7, False, 1, AS_OF, view) is None
        off = QueueCache(runtime.session_factory, 0)
        off.page(session, 7, False, 1, AS_OF, builds, view, lambda q: b"page")
        assert off.kept_page(7, False, 1, AS_OF, view) is None
    runtime.close()


def test_a_request_answered_after_a_build_for_a_later_moment_is_served_it(
    embedded_settings: Settings,
) -> None:
    runtime = build_runtime(embedded_settings)
    builds = Builds()
    wall = [AS_OF + timedelta(seconds=2)]
    cache = QueueCache(runtime.session_factory, 60, monotonic=Ticks(), clock=lambda: wall[0])
    with runtime.session_factory() as session:
        # Given a queue built for a request that started a second after this one
        later = cache.queue(session, 7, False, 1, AS_OF + timedelta(seconds=1), builds)
        # Then this one, answered by the clock's now, is served it (not built again for its start)
        assert cache.queue(session, 7, False, 1, AS_OF, builds) is later and builds.count == 1
        # But with a stopped clock (`--as-of`) an earlier moment is never served a later queue
        wall[0] = AS_OF
        assert cache.queue(session, 7, False, 1, AS_OF, builds) is not later
        assert builds.count == 2
    runtime.close()


def test_a_queue_near_its_end_is_built_again_by_one_request_while_the_others_are_served(
    embedded_settings: Settings,
) -> None:
    runtime = build_runtime(embedded_settings)
    ticks, builds = Ticks(), Builds()
    started, release = threading.Event(), threading.Event()

    def gated(session: Session) -> list[Suggestion]:
        if builds.count:  # the first build is not held
            started.set()
            assert release.wait(timeout=30)
        return builds(session)

    cache = QueueCache(runtime.session_factory, 60, monotonic=ticks)
    with runtime.session_factory() as session:
        kept = cache.queue(session, 7, False, 1, AS_OF, gated)
        ticks.now = 50  # past three quarters of its time
        refreshed: list[list[Suggestion]] = []

        def refresh() -> None:
            with runtime.session_factory() as own:
                refreshed.append(cache.queue(own, 7, False, 1, AS_OF, gated))

        # When one request finds it so and builds it again
        builder = threading.Thread(target=refresh)
        builder.start()
        assert started.wait(timeout=30)
        # Then another is served the kept queue meanwhile, without waiting for that build
        assert cache.queue(session, 7, False, 1, AS_OF, gated) is kept
        release.set()
        builder.join(timeout=30)
        # And once built, the new queue is the one served
        assert refreshed and refreshed[0] is not kept and builds.count == 2
        assert cache.queue(session, 7, False, 1, AS_OF, gated) is refreshed[0]
    runtime.close()


def test_the_pages_kept_with_a_queue_are_bounded_in_bytes(embedded_settings: Settings) -> None:
    runtime = build_runtime(embedded_settings)
    builds, renders = Builds(), [0]
    cache = QueueCache(runtime.session_factory, 60, monotonic=Ticks())

    def render(queue: list[Suggestion]) -> bytes:
        renders[0] += 1
        return b"x" * (MAX_PAGE_BYTES // 2)

    with runtime.session_factory() as session:
        for view in ("a", "b", "c", "a", "b", "c"):
            cache.page(session, 7, False, 1, AS_OF, builds, view, render)
    # Two halves fit and are kept; the third page is rendered each time it is asked for
    assert renders[0] == 4 and builds.count == 1
    runtime.close()
