"""The pages one-click links open: GET confirms, POST acts once, errors are plain pages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from keepwarm.services.models import FollowUp, LifecycleEvent, User
from keepwarm.services.notify.links import LABELS, LinkAction, LinkSigner, link_url
from keepwarm.services.web import create_app
from tests.support.links import MAX_AGE, NOW, SECRET, Site

UNSUBSCRIBE = (LinkAction.UNSUBSCRIBE_DIGEST, LinkAction.UNSUBSCRIBE_PROMPTS)


def assert_private(response: Any) -> None:
    """Tokens are in the URL: nothing may cache, index or pass on a page."""
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-robots-tag"] == "noindex"
    assert "set-cookie" not in response.headers


def assert_page(response: Any, status: int, *fragments: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert_private(response)
    for fragment in fragments:
        assert fragment in response.text, fragment
    assert "Traceback" not in response.text


def test_get_shows_what_will_happen_and_changes_nothing(site: Site) -> None:
    # Given every kind of link; when each is opened (as a mail scanner would, twice, and HEAD)
    before = site.stored()
    for action in LinkAction:
        person = None if action in UNSUBSCRIBE else site.jane
        url = site.url(action, person)
        for _ in range(2):
            response = site.client.get(url)
            who = ": Jane Doe" if person else ""
            assert_page(response, 200, f"<h1>{LABELS[action]}{who}</h1>", '<form method="post">')
        if action is LinkAction.NOTE:
            assert '<textarea id="text" name="text"' in response.text
        else:
            assert response.text.count("<button") == 1
        one_click = '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        assert (one_click in response.text) == (action in UNSUBSCRIBE)
        assert site.client.head(url).status_code == 200
    # Then nothing was stored: not the action, not even the nonce
    assert site.stored() == before


def test_snooze_acts_once_and_a_second_post_is_409(site: Site) -> None:
    url = site.url(LinkAction.SNOOZE_1M, site.jane)
    site.client.get(url)  # a link previewer got there first: still nothing happens

    first = site.client.post(url)
    assert_page(first, 200, "Snoozed 1 month: Jane Doe")
    second = site.client.post(url)
    assert_page(second, 409, "Already done", "Snoozed 1 month: Jane Doe")
    opened_after = site.client.get(url)
    assert_page(opened_after, 409, "Already done")

    with site.runtime.session_factory() as session:
        events = list(session.scalars(select(LifecycleEvent)))
    assert [(e.person_id, e.action, e.at, e.until) for e in events] == [
        (site.jane, "snooze", NOW, NOW + timedelta(days=30))
    ]


@pytest.mark.parametrize(
    ("action", "stored_as", "headline"),
    [
        (LinkAction.DONE, "done", "Marked done: Jane Doe"),
        (LinkAction.TALKED, "talked_elsewhere", "Noted that you talked: Jane Doe"),
        (LinkAction.STOP, "stop", "Stopped suggesting: Jane Doe"),
    ],
)
def test_done_talked_and_stop_act_once(
    site: Site, action: LinkAction, stored_as: str, headline: str
) -> None:
    before = site.stored()
    url = site.url(action, site.jane)
    assert_page(site.client.post(url), 200, headline)
    assert_page(site.client.post(url), 409, "Already done")

    after = site.stored()
    assert after.lifecycle == (*before.lifecycle, (site.user_id, site.jane, stored_as))
    # "Talked elsewhere" is contact too, so it adds an interaction; the others do not.
    assert after.interactions == before.interactions + (action is LinkAction.TALKED)
    assert after.used_links == before.used_links + 1


def test_note_link_stores_the_note_and_refuses_an_empty_one(site: Site) -> None:
    url = site.url(LinkAction.NOTE, site.jane)
    before = site.stored()

    # An empty note: the form again, with the reason, and nothing stored (the link still works)
    for body in ({"text": "   "}, {}):
        empty = site.client.post(url, data=body)
        assert_page(empty, 400, "<h1>Add a note: Jane Doe</h1>", "The text is empty", "<textarea")
    # One too long comes back as typed, escaped
    long_text = "<script>x</script>" + "a" * 5000
    too_long = site.client.post(url, data={"text": long_text})
    assert_page(too_long, 400, "&lt;script&gt;x&lt;/script&gt;aaaa")
    assert "<script>" not in too_long.text
    assert site.stored() == before

    saved = site.client.post(url, data={"text": "  Talked about the Q4 budget.  "})
    assert_page(saved, 200, "Note saved: Jane Doe")
    assert_page(site.client.post(url, data={"text": "again"}), 409, "Already done")
    assert site.stored().notes == ((site.jane, "Talked about the Q4 budget."),)


@pytest.mark.parametrize(
    ("action", "days"),
    [(LinkAction.FOLLOW_1W, 7), (LinkAction.FOLLOW_2W, 14), (LinkAction.FOLLOW_1M, 30)],
)
def test_follow_up_link_sets_a_follow_up(site: Site, action: LinkAction, days: int) -> None:
    url = site.url(action, site.jane)
    assert_page(site.client.post(url), 200, "Follow-up in", ": Jane Doe")
    assert_page(site.client.post(url), 409, "Already done")

    with site.runtime.session_factory() as session:
        rows = list(session.scalars(select(FollowUp)))
    assert [(f.user_id, f.person_id, f.created_at, f.due_at) for f in rows] == [
        (site.user_id, site.jane, NOW, NOW + timedelta(days=days))
    ]


def test_a_tampered_link_is_refused(site: Site) -> None:
    url = site.url(LinkAction.STOP, site.jane)
    rest, signature = url.rsplit(".", 1)
    # The first character of the signature: the last one may only carry base64 padding bits,
    # which decode to the same bytes, so flipping it could leave the signature valid.
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    tampered = f"{rest}.{flipped}"
    before = site.stored()

    assert_page(site.client.get(tampered), 400, "Link not valid")
    assert_page(site.client.post(tampered), 400, "Link not valid")
    assert_page(site.client.post("/a/not-a-token"), 400, "Link not valid")
    assert site.stored() == before


def test_an_expired_link_is_410(site: Site) -> None:
    # Given a link signed with the server's secret 31 days before the server's "now"
    month_ago = LinkSigner(SECRET, MAX_AGE, clock=lambda: NOW - timedelta(days=31))
    url = site.url(LinkAction.SNOOZE_2W, site.jane, signer=month_ago)
    fresh = site.signer.token(site.user_id, LinkAction.SNOOZE_2W, site.jane)
    before = site.stored()

    assert_page(site.client.get(url), 410, "Link expired", "newer emails carry fresh ones")
    assert_page(site.client.post(url), 410, "Link expired")
    assert site.stored() == before
    # And the same payload signed now works: it is the age alone that is refused
    assert_page(site.client.post(link_url("", LinkAction.SNOOZE_2W, fresh)), 200, "Snoozed")


def test_a_link_signed_with_another_secret_is_refused(site: Site) -> None:
    foreign = LinkSigner("some-other-server-secret", MAX_AGE)
    before = site.stored()
    for action in (LinkAction.DONE, LinkAction.UNSUBSCRIBE_DIGEST):
        person = None if action in UNSUBSCRIBE else site.jane
        url = site.url(action, person, signer=foreign)
        assert_page(site.client.get(url), 400, "Link not valid")
        assert_page(site.client.post(url, data={"List-Unsubscribe": "One-Click"}), 400)
    assert site.stored() == before


def test_a_link_cannot_touch_another_users_contact(site: Site) -> None:
    # A link for the user that names the other user's contact (or nobody that exists)
    before = site.stored()
    for person in (site.bob, site.bob + site.jane + 1000):
        for action in (LinkAction.STOP, LinkAction.NOTE, LinkAction.FOLLOW_1W):
            url = site.url(action, person)
            assert_page(site.client.get(url), 400)
            assert_page(site.client.post(url, data={"text": "hello"}), 400, "no longer exists")
    assert site.stored() == before


def test_one_click_unsubscribe_is_200_and_stays_200(site: Site) -> None:
    before = site.stored()
    digest_url = site.url(LinkAction.UNSUBSCRIBE_DIGEST)
    prompts_url = site.url(LinkAction.UNSUBSCRIBE_PROMPTS)

    # Gmail posts the RFC 8058 body urlencoded; others send it as multipart/form-data
    for _ in range(2):
        by_form = site.client.post(digest_url, data={"List-Unsubscribe": "One-Click"})
        by_multipart = site.client.post(
            prompts_url, files={"List-Unsubscribe": (None, "One-Click")}
        )
        assert_page(by_form, 200, "weekly digest")
        assert_page(by_multipart, 200, "meeting prompts")
    assert_page(site.client.get(digest_url), 200, "Already done")

    with site.runtime.session_factory() as session:
        user = session.get(User, site.user_id)
        other = session.get(User, site.other_user_id)
        assert user is not None and other is not None
        assert (user.digests_enabled, user.prompts_enabled) == (False, False)
        assert (other.digests_enabled, other.prompts_enabled) == (True, True)
    assert site.stored().used_links == before.used_links + 2


def test_each_link_works_only_under_its_own_path(site: Site) -> None:
    # An unsubscribe token under /a/ (where a repeat is 409) or an action under /u/ (where a
    # repeat is 200) is refused, so a repeated POST always means what its path says.
    unsubscribe = site.url(LinkAction.UNSUBSCRIBE_DIGEST).replace("/u/", "/a/")
    snooze = site.url(LinkAction.SNOOZE_2W, site.jane).replace("/a/", "/u/")
    before = site.stored()
    for url in (unsubscribe, snooze):
        assert_page(site.client.get(url), 400, "not valid here")
        assert_page(site.client.post(url), 400, "not valid here")
    assert site.stored() == before


def test_unknown_paths_and_methods_get_plain_pages(site: Site) -> None:
    assert_page(site.client.get("/nothing-here"), 404, "Page not found")
    assert_page(site.client.get("/a/"), 404, "Page not found")
    wrong_method = site.client.put(site.url(LinkAction.DONE, site.jane))
    assert_page(wrong_method, 405, "Not allowed here")
    assert "GET" in wrong_method.headers["allow"]


def test_healthz_checks_the_database(site: Site) -> None:
    response = site.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert_private(response)


def test_a_database_that_does_not_answer_gives_503_and_a_plain_500(tmp_path: Path) -> None:
    # SQLite cannot open a file in a folder that does not exist: every query fails
    engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'keepwarm.db'}")
    signer = LinkSigner(SECRET, MAX_AGE)
    app = create_app(sessionmaker(engine), signer, clock=lambda: NOW)
    with TestClient(app, raise_server_exceptions=False) as client:
        health = client.get("/healthz")
        assert (health.status_code, health.json()) == (503, {"status": "unavailable"})
        page = client.post(link_url("", LinkAction.DONE, signer.token(1, LinkAction.DONE, 1)))
        assert_page(page, 500, "Something went wrong")
    engine.dispose()
