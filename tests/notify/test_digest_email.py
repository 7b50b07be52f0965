"""The digest as received by a real SMTP server: headers, both parts, people, links."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.demo import SAMPLE_MAILBOX
from keepwarm.services.models import Account, Delivery, LifecycleEvent, User
from keepwarm.services.notify import outbox
from keepwarm.services.notify.due import send_due_now
from keepwarm.services.notify.links import LinkAction, LinkError, LinkExpired, LinkSigner
from keepwarm.services.notify.plan import plan_due
from keepwarm.services.runtime import Runtime
from keepwarm.services.web import create_app
from tests.support.builders import Clock
from tests.support.cli import run_cli, run_json
from tests.support.smtp import Received

# Wednesday 28 Feb 2001, 09:00 UTC: the sample's owner still writes every day then.
SLOT = datetime(2001, 2, 28, 9, tzinfo=UTC)
OWNER_INBOX = "owner@kw.example"
LINK = re.compile(r"https://kw\.example/([au])/([\w.\-]+)")


def _scheduled(runtime: Runtime, now: datetime) -> Runtime:
    run_cli(runtime.settings, "import", str(SAMPLE_MAILBOX))
    with runtime.session_factory() as session, session.begin():
        user = ensure_user(session)
        user.email, user.timezone = OWNER_INBOX, "UTC"
        user.digest_weekday, user.digest_hour = 2, 9
    return replace(runtime, clock=Clock(now))


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def test_the_digest_arrives_once_with_both_parts_headers_and_signed_links(
    mail_runtime: Runtime, smtp: tuple[int, Received]
) -> None:
    _, received = smtp
    runtime = _scheduled(mail_runtime, SLOT + timedelta(minutes=3))
    assert send_due_now(runtime) == ["sent"]
    assert send_due_now(runtime) == []  # the week's digest is done
    [message] = received.to(OWNER_INBOX)

    assert message.get_content_type() == "multipart/alternative"
    assert message["From"] == "keepwarm <digest@kw.example>"
    assert message["Subject"] == "6 people to reconnect with this week"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<https://kw\.example/u/[\w.\-]+>", str(message["List-Unsubscribe"]))
    with runtime.session_factory() as session:
        delivery = session.scalars(select(Delivery)).one()
    assert message["Message-ID"] == delivery.message_id
    assert (delivery.key, delivery.status, delivery.variant) == ("2001-W09", "sent", "digest")

    text, html = _parts(message)
    assert "rodney.malcolm@enron.com" in text and "rodney.malcolm@enron.com" in html
    assert "; last: " in text  # each person comes with the reasons that raised them
    assert "Your network:" in text and "active ties" in html
    # Six people, six one-click links each, in both parts, plus the unsubscribe link.
    for part in (text, html):
        links = LINK.findall(part)
        actions = [kind for kind, _ in links if kind == "a"]
        assert len(actions) == 36
        assert len({token for _, token in links}) == 37
    signer = runtime.link_signer()
    targets = [signer.verify(token) for _, token in LINK.findall(text)]
    assert {t.action for t in targets} == {
        LinkAction.DONE,
        LinkAction.TALKED,
        LinkAction.SNOOZE_2W,
        LinkAction.SNOOZE_1M,
        LinkAction.SNOOZE_3M,
        LinkAction.STOP,
        LinkAction.UNSUBSCRIBE_DIGEST,
    }
    # Inline styles only: mail clients drop <style> blocks and external sheets.
    assert "<style" not in html and "stylesheet" not in html


def test_a_refused_send_is_retried_with_backoff_and_sent_once(
    mail_runtime: Runtime, smtp: tuple[int, Received]
) -> None:
    _, received = smtp
    received.refuse_next.append("451 4.3.0 try again later")
    clock = Clock(SLOT)
    runtime = replace(_scheduled(mail_runtime, SLOT), clock=clock)
    assert send_due_now(runtime) == ["retry"]
    with runtime.session_factory() as session:
        failed = session.scalars(select(Delivery)).one()
    assert failed.status == "failed" and "451" in (failed.last_error or "")
    assert failed.retry_at == SLOT + timedelta(minutes=1)
    clock.now = SLOT + timedelta(seconds=30)
    assert send_due_now(runtime) == []  # backing off
    clock.now = SLOT + timedelta(minutes=1)
    assert send_due_now(runtime) == ["sent"]
    assert len(received.to(OWNER_INBOX)) == 1
    with runtime.session_factory() as session:
        delivery = session.scalars(select(Delivery)).one()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, None)


def test_a_permanent_refusal_is_reported_not_retried(
    mail_runtime: Runtime, smtp: tuple[int, Received]
) -> None:
    _, received = smtp
    received.refuse_next.append("550 5.1.1 no such mailbox")
    clock = Clock(SLOT)
    runtime = replace(_scheduled(mail_runtime, SLOT), clock=clock)
    assert send_due_now(runtime) == ["failed"]
    clock.now = SLOT + timedelta(hours=3)
    assert send_due_now(runtime) == []
    assert received.messages == []
    out = run_cli(runtime.settings, "digest", "--history")
    assert "failed" in out and "550" in out


def test_a_send_whose_worker_died_is_taken_over_once_its_claim_is_stale(
    mail_runtime: Runtime, smtp: tuple[int, Received]
) -> None:
    _, received = smtp
    clock = Clock(SLOT)
    runtime = replace(_scheduled(mail_runtime, SLOT), clock=clock)
    rules = runtime.notify_rules
    with runtime.session_factory() as session, session.begin():
        [delivery_id] = plan_due(session, SLOT, rules)
        # A worker claims it and dies before talking to the mail server.
        assert outbox.claim(session, delivery_id, SLOT, rules.outbox)
    clock.now = SLOT + rules.outbox.claim_timeout / 2
    assert send_due_now(runtime) == []  # the claim still counts
    clock.now = SLOT + rules.outbox.claim_timeout + timedelta(seconds=1)
    assert send_due_now(runtime) == ["sent"]
    assert send_due_now(runtime) == []
    assert len(received.to(OWNER_INBOX)) == 1


def test_no_digest_from_stale_data_the_user_is_told_why(
    mail_runtime: Runtime, smtp: tuple[int, Received]
) -> None:
    _, received = smtp
    runtime = _scheduled(mail_runtime, SLOT)
    with runtime.session_factory() as session, session.begin():
        user = session.scalars(select(User)).one()
        session.add(
            Account(
                user_id=user.id,
                provider="google",
                email="owner@gmail.example",
                status="reconnect_needed",
                status_reason="the grant was revoked",
                scopes="",
                token_ciphertext="",
                since=SLOT - timedelta(days=900),
                created_at=SLOT - timedelta(days=10),
                last_success_at=SLOT - timedelta(days=3),
            )
        )
    assert send_due_now(runtime) == ["sent"]
    [message] = received.to(OWNER_INBOX)
    assert message["Subject"] == "No digest this week: your mail is not up to date"
    text, _ = _parts(message)
    assert "owner@gmail.example needs reconnecting (the grant was revoked)" in text
    assert "rodney.malcolm" not in text
    with runtime.session_factory() as session:
        assert session.scalars(select(Delivery.variant)).one() == "stale"


def test_turning_digests_off_sends_nothing(
    mail_runtime: Runtime, smtp: tuple[int, Received]
) -> None:
    _, received = smtp
    runtime = _scheduled(mail_runtime, SLOT)
    run_cli(runtime.settings, "digest", "--off")
    assert send_due_now(runtime) == []
    assert received.messages == []


def test_following_a_digest_link_changes_the_suggestion_once(
    mail_runtime: Runtime, smtp: tuple[int, Received]
) -> None:
    _, received = smtp
    runtime = _scheduled(mail_runtime, SLOT + timedelta(minutes=3))
    assert send_due_now(runtime) == ["sent"]
    [message] = received.to(OWNER_INBOX)
    text, _ = _parts(message)
    # The first person's "Snooze 1 month" link, as the reader would click it.
    snooze = re.search(r"Snooze 1 month: https://kw\.example(/a/[\w.\-]+)", text)
    assert snooze is not None
    path = snooze.group(1)
    client = TestClient(create_app(runtime))
    before = run_json(runtime.settings, "suggestions", "--as-of", "2001-02-28")
    first = before[0]["contact"]["addresses"][0]
    assert first in text.split("Snooze 1 month")[0]

    assert client.get(path).status_code == 200  # a confirmation page; nothing changes
    with runtime.session_factory() as session:
        assert session.scalars(select(LifecycleEvent)).all() == []
    assert client.post(path).status_code == 200
    assert client.post(path).status_code == 409  # once only
    with runtime.session_factory() as session:
        events = session.scalars(select(LifecycleEvent)).all()
    assert [(e.action, e.until - e.at) for e in events] == [("snooze", timedelta(days=30))]
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert client.post(tampered).status_code == 400
    with runtime.session_factory() as session:
        assert len(session.scalars(select(LifecycleEvent)).all()) == 1
    # The unsubscribe link works the way mail providers use it (RFC 8058 one-click POST).
    unsubscribe = str(message["List-Unsubscribe"]).strip("<>").removeprefix("https://kw.example")
    response = client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    with runtime.session_factory() as session:
        assert session.scalars(select(User.digests_enabled)).one() is False


def test_action_links_expire_but_unsubscribe_links_do_not(mail_runtime: Runtime) -> None:
    signer = mail_runtime.link_signer()
    later = mail_runtime.clock() + signer.max_age + timedelta(days=1)
    done = signer.token(1, LinkAction.DONE, person_id=5)
    leave = signer.token(1, LinkAction.UNSUBSCRIBE_DIGEST)
    assert signer.verify(done).action is LinkAction.DONE
    with pytest.raises(LinkExpired):
        signer.verify(done, later)
    assert (
        signer.verify(leave, later + timedelta(days=3650)).action is LinkAction.UNSUBSCRIBE_DIGEST
    )
    with pytest.raises(LinkError):
        LinkSigner("another-secret", signer.max_age).verify(done)
