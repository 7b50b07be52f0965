"""The noise rules on header facts."""

from __future__ import annotations

import pytest

from keepwarm.services.mail.noise import FilterReason, MessageFacts, classify_message


def facts(**kw: object) -> MessageFacts:
    base: dict[str, object] = {
        "sender": "jane@example.com",
        "subject": "lunch?",
        "list_id": None,
        "list_unsubscribe": False,
        "precedence": None,
        "auto_submitted": None,
        "content_type": "text/plain",
        "auto_reply_header": False,
    }
    base.update(kw)
    return MessageFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"list_id": "<apparmor.lists.ubuntu.com>"}, FilterReason.MAILING_LIST),
        ({"list_unsubscribe": True}, FilterReason.MAILING_LIST),
        ({"precedence": "bulk"}, FilterReason.MAILING_LIST),
        ({"content_type": "multipart/report"}, FilterReason.BOUNCE),
        ({"sender": "mailer-daemon@example.com"}, FilterReason.BOUNCE),
        ({"subject": "Undeliverable: lunch?"}, FilterReason.BOUNCE),
        ({"auto_submitted": "auto-replied"}, FilterReason.AUTO_REPLY),
        ({"subject": "Out of Office: lunch?"}, FilterReason.AUTO_REPLY),
        ({"subject": "Automatic reply: lunch?"}, FilterReason.AUTO_REPLY),
        ({"subject": "Out of the office"}, FilterReason.AUTO_REPLY),
        ({"subject": "Out of Office AutoReply: Urgent request"}, FilterReason.AUTO_REPLY),
        ({"auto_reply_header": True}, FilterReason.AUTO_REPLY),
        ({"subject": "Invitation: Q3 plan @ Tue"}, FilterReason.CALENDAR_NOTIFICATION),
        ({"sender": "calendar-notification@google.com"}, FilterReason.CALENDAR_NOTIFICATION),
        ({"auto_submitted": "auto-generated"}, FilterReason.AUTOMATED),
        ({"sender": "no-reply@example.com"}, FilterReason.AUTOMATED),
        ({"sender": "notifications@github.com"}, FilterReason.AUTOMATED),
    ],
)
def test_each_rule(change: dict[str, object], reason: FilterReason) -> None:
    assert classify_message(facts(**change)) is reason


def test_personal_mail_passes() -> None:
    assert classify_message(facts()) is None
    assert classify_message(facts(auto_submitted="no")) is None
    assert classify_message(facts(subject="Re: Accepted offer details")) is None
    assert classify_message(facts(subject="Out of Office Procedure")) is None
    assert classify_message(facts(subject="Auto insurance quote")) is None


@pytest.mark.parametrize(
    "labels",
    ["CATEGORY_PROMOTIONS", "Inbox,Category Updates", "SOCIAL,CATEGORY_SOCIAL", "OUTLOOK_OTHER"],
)
def test_gmail_tabs_other_than_primary_and_outlooks_other_are_not_personal(labels: str) -> None:
    assert classify_message(facts(labels=labels)) is FilterReason.PROVIDER_CATEGORY


def test_primary_and_user_labels_pass() -> None:
    assert classify_message(facts(labels="INBOX,CATEGORY_PERSONAL,Projects")) is None


def test_munged_list_sender_names_the_author() -> None:
    from keepwarm.services.mail.noise import munged_author

    assert munged_author("Seth Arnold via AppArmor") == "Seth Arnold"
    assert munged_author("Seth Arnold") is None
    assert munged_author(None) is None
