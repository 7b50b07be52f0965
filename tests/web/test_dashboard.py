"""The dashboard's pages over real data (the Enron sample), signed in through the sandbox."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from keepwarm.services.core.crypto import TokenCipher
from keepwarm.services.models import (
    Account,
    AccountStatus,
    FollowUp,
    Interaction,
    LifecycleEvent,
    Message,
    Note,
    Person,
    User,
)
from tests.support.web import TwoUsers, csrf_of

_PERSON = re.compile(r'href="/contacts/(\d+)"')


def _count(two: TwoUsers, model: type, user_id: int) -> int:
    with two.runtime.session_factory() as session:
        query = select(func.count()).select_from(model).where(model.user_id == user_id)  # type: ignore[attr-defined]
        return int(session.scalar(query) or 0)


def test_the_queue_is_answered_in_place_or_by_a_plain_form(two: TwoUsers) -> None:
    page = two.a.client.get("/queue")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert page.headers["cache-control"] == "no-store"
    people = _PERSON.findall(page.text)
    assert len(people) == 25 and "More</a>" in page.text  # a page of 25, and a next page
    first, second = int(people[0]), int(people[1])
    csrf = csrf_of(page.text)

    # The page's script posts the form asking for JSON: one line back, no reload
    inplace = two.a.client.post(
        f"/contacts/{first}/answer",
        data={"csrf": csrf, "action": "snooze_1m", "next": "/queue"},
        headers={"Accept": "application/json"},
    )
    assert inplace.status_code == 200
    assert re.match(r"Snoozed .+ until 2001-03-30\.", inplace.json()["message"])
    # Without JavaScript the form posts and comes back to the page, saying what happened
    plain = two.a.client.post(
        f"/contacts/{second}/answer", data={"csrf": csrf, "action": "stop", "next": "/queue"}
    )
    assert plain.status_code == 303 and plain.headers["location"].startswith("/queue?notice=")
    after = two.a.client.get(plain.headers["location"])
    assert "will not be suggested again" in after.text
    ids = [int(p) for p in _PERSON.findall(after.text)]
    assert first not in ids and second not in ids
    with two.runtime.session_factory() as session:
        answers = session.execute(
            select(LifecycleEvent.person_id, LifecycleEvent.action).order_by(LifecycleEvent.id)
        ).all()
    assert [(p, str(a)) for p, a in answers] == [(first, "snooze"), (second, "stop")]
    # An unknown answer names the field; an open redirect is not followed
    bad = two.a.client.post(f"/contacts/{first}/answer", data={"csrf": csrf, "action": "nap"})
    assert bad.status_code == 400 and "action: unknown answer" in bad.text.lower()
    for elsewhere in ("//evil.example", "/\\evil.example", "https://evil.example"):
        away = two.a.client.post(
            f"/contacts/{first}/answer", data={"csrf": csrf, "action": "resume", "next": elsewhere}
        )
        assert away.headers["location"].startswith("/queue?")

    dormant = two.a.client.get("/dormant")
    assert dormant.status_code == 200 and "Dormant ties" in dormant.text


def test_a_contact_page_has_the_chart_timeline_notes_and_follow_ups(two: TwoUsers) -> None:
    queue = two.a.client.get("/queue")
    person = int(_PERSON.findall(queue.text)[0])
    page = two.a.client.get(f"/contacts/{person}")
    assert page.status_code == 200
    assert '<svg class="chart"' in page.text and "<title>" in page.text
    assert "you wrote" in page.text  # the timeline
    csrf = csrf_of(page.text)

    noted = two.a.client.post(
        f"/contacts/{person}/notes", data={"csrf": csrf, "text": "  Asked about <b>Q3</b>  "}
    )
    assert noted.status_code == 303
    followed = two.a.client.post(
        f"/contacts/{person}/follow-ups", data={"csrf": csrf, "due_in": "2w", "reason": "Q3"}
    )
    assert followed.status_code == 303
    page = two.a.client.get(f"/contacts/{person}")
    assert "Asked about &lt;b&gt;Q3&lt;/b&gt;" in page.text  # escaped, on the timeline
    assert "by <strong>2001-03-14</strong>: Q3" in page.text
    with two.runtime.session_factory() as session:
        [note] = session.scalars(select(Note)).all()
        [follow_up] = session.scalars(select(FollowUp)).all()
    assert (note.person_id, note.text) == (person, "Asked about <b>Q3</b>")
    empty = two.a.client.post(f"/contacts/{person}/notes", data={"csrf": csrf, "text": "  "})
    assert empty.status_code == 400 and "text: the text is empty" in empty.text.lower()
    dismissed = two.a.client.post(
        f"/follow-ups/{follow_up.id}/dismiss", data={"csrf": csrf, "next": f"/contacts/{person}"}
    )
    assert dismissed.status_code == 303
    assert "by <strong>2001-03-14" not in two.a.client.get(f"/contacts/{person}").text

    contacts = two.a.client.get("/contacts?q=enron")
    assert contacts.status_code == 200 and len(_PERSON.findall(contacts.text)) == 25
    intros = two.a.client.get("/intros?target=enron.com")
    assert intros.status_code == 200 and "on " in intros.text
    assert "not an address or a domain" in two.a.client.get("/intros?target=a b").text


def test_accounts_show_sync_health_and_offer_a_reconnect(two: TwoUsers) -> None:
    page = two.a.client.get("/accounts")
    assert page.status_code == 200
    assert "david.delainey@enron.com" in page.text and "Last successful sync" in page.text
    assert "Reconnect</button>" not in page.text
    with two.runtime.session_factory() as session, session.begin():
        account = session.scalars(select(Account).where(Account.user_id == two.a.user_id)).one()
        account.status = AccountStatus.RECONNECT_NEEDED
        account.status_reason = "Google says the grant was revoked"
    page = two.a.client.get("/accounts")
    assert "reconnect needed" in page.text and "Reconnect</button>" in page.text
    assert "the grant was revoked" in page.text


def test_accounts_whose_tokens_this_server_cannot_open_say_so(two: TwoUsers) -> None:
    # Tokens sealed with another key (the operator changed KEEPWARM_TOKEN_KEY): the account
    # cannot sync whatever its stored status says, and the page and the API tell the user
    other = TokenCipher(TokenCipher.generate_key())
    with two.runtime.session_factory() as session, session.begin():
        account = session.scalars(select(Account).where(Account.user_id == two.a.user_id)).one()
        account.token_ciphertext = other.seal({"refresh_token": "r"})
    page = two.a.client.get("/accounts")
    assert page.status_code == 200
    assert "token key mismatch" in page.text and "cannot decrypt tokens" in page.text
    assert "Reconnect</button>" in page.text  # connecting again seals new tokens with this key
    listed = two.a.client.get("/api/v1/accounts").json()["items"]
    assert [a["status"] for a in listed] == ["token_key_mismatch"]


def test_settings_change_the_queue_and_bad_values_name_the_field(two: TwoUsers) -> None:
    before = len(two.a.api("GET", "/api/v1/queue?limit=200").json()["items"])
    page = two.a.client.get("/settings")
    csrf = csrf_of(page.text)
    form = {
        "csrf": csrf,
        "digests_enabled": "yes",
        "digest_weekday": "fri",
        "digest_hour": "7",
        "timezone": "Europe/Berlin",
        "digest_size": "5",
        "floor_months": "12",
        "excluded": "enron.com",
    }
    saved = two.a.client.post("/settings", data=form)
    assert saved.status_code == 303
    with two.runtime.session_factory() as session:
        user = session.get(User, two.a.user_id)
        assert user is not None
        assert (user.digest_weekday, user.digest_hour, user.timezone) == (4, 7, "Europe/Berlin")
        assert (user.digest_size, user.floor_months, user.prompts_enabled) == (5, 12.0, False)
    after = two.a.api("GET", "/api/v1/queue?limit=200").json()["items"]
    assert len(after) < before
    assert not any(a.endswith("@enron.com") for s in after for a in s["contact"]["addresses"])

    bad = two.a.client.post("/settings", data={**form, "timezone": "Mars/Olympus"})
    assert bad.status_code == 400 and "timezone: unknown iana time zone" in bad.text.lower()
    with two.runtime.session_factory() as session:
        user = session.get(User, two.a.user_id)
        assert user is not None and user.timezone == "Europe/Berlin"


def test_export_holds_everything_but_secrets_and_delete_purges_and_revokes(
    two: TwoUsers,
) -> None:
    exported = two.a.client.get("/export")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    data = json.loads(exported.text)
    assert data["format"] == "keepwarm.export/1" and data["user"]["id"] == two.a.user_id
    tables = data["tables"]
    assert len(tables["interactions"]) == _count(two, Interaction, two.a.user_id) > 1000
    assert len(tables["messages"]) == _count(two, Message, two.a.user_id)
    assert len(tables["people"]) == _count(two, Person, two.a.user_id)
    [account] = tables["accounts"]
    assert "token_ciphertext" not in account and account["email"] == "david.delainey@enron.com"
    assert "web_sessions" not in tables
    assert "bea@other.example" not in exported.text  # B's contact is B's

    page = two.a.client.get("/delete")
    csrf = csrf_of(page.text)
    refused = two.a.client.post("/delete", data={"csrf": csrf, "confirm": "yes"})
    assert refused.status_code == 400 and "nothing was deleted" in refused.text
    revokes = two.sandbox_a.requests().count("POST /revoke")
    gone = two.a.client.post("/delete", data={"csrf": csrf, "confirm": "delete my account"})
    assert gone.status_code == 200 and "Your account is deleted" in gone.text
    assert two.sandbox_a.requests().count("POST /revoke") == revokes + 1
    for model in (Account, Person, Message, Interaction, Note, LifecycleEvent):
        assert _count(two, model, two.a.user_id) == 0, model
    with two.runtime.session_factory() as session:
        assert session.get(User, two.a.user_id) is None
        assert session.get(User, two.b.user_id) is not None
    assert _count(two, Person, two.b.user_id) == 1
    assert two.a.client.get("/queue").headers["location"] == "/signin"


def test_the_users_settings_shape_their_digest(two: TwoUsers) -> None:
    from keepwarm.services.notify.digest import compose_digest, rules_for
    from keepwarm.services.notify.previews import digest_preview
    from tests.support.web import AS_OF

    assert digest_preview(two.runtime, two.a.user_id, AS_OF).people == 6  # the operator's size
    changed = two.a.api("PATCH", "/api/v1/settings", json={"digest_size": 3})
    assert changed.status_code == 200 and changed.json()["digest_size"] == 3
    assert digest_preview(two.runtime, two.a.user_id, AS_OF).people == 3
    # Excluding the whole domain leaves only people from elsewhere
    two.a.api("PATCH", "/api/v1/settings", json={"excluded": ["@enron.com"]})
    with two.runtime.session_factory() as session:
        user = session.get(User, two.a.user_id)
        assert user is not None
        rules = rules_for(user, two.runtime.notify_rules.digest)
        digest = compose_digest(session, user.id, AS_OF, rules)
    assert rules.size == 3 and digest.items
    assert not any(i.address.endswith("@enron.com") for i in digest.items)
