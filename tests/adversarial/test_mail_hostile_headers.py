"""Hostile header values: control characters, markup, encoded words, absurd dates.

Anyone can write any header. Whatever a message says, reading it never raises, every value
that reaches a record is one line with no control character (a CR or LF in a Gmail header
value once started a header of its own in the block it was joined into; an event title with
one left its prompt stuck in "sending"), the valid addresses are kept, and an absurd date is
no date rather than a contact's clock stuck in the year 9999.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from keepwarm.connectors.files.headers import parse_header_block
from keepwarm.connectors.google.calendar import to_calendar_event
from keepwarm.connectors.google.gmail import to_mail_message
from keepwarm.connectors.text import one_line
from keepwarm.connectors.types import CalendarEvent, MailMessage
from keepwarm.services.core.config import Settings
from tests.support.cli import run_cli, run_json
from tests.support.hostile_mail import OWNER, Mail, write_mbox

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
NASTY = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("\r\n\t\x00\x1b\x07\x7f\x85\u2028[]/<>=?\"'@:;,")),
        st.characters(codec="utf-8"),
    ),
    max_size=60,
)


def texts(message: MailMessage) -> list[str]:
    values = [message.subject, message.message_id, message.in_reply_to, message.list_id]
    for address in (message.sender, *message.to, *message.cc, *message.bcc, *message.reply_to):
        if address is not None:
            values += [address.email, address.name]
    return [value for value in values if value]


def assert_clean(message: MailMessage) -> None:
    for value in texts(message):
        assert not CONTROL.search(value), repr(value)


# A display name as mail programs write one (specials in a name would need quoting), with
# every control character among its letters.
NAME = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("\r\n\t\x00\x1b\x07\x7f\x85\u2028")),
        st.characters(codec="utf-8", exclude_characters='<>@",;:\\()[]'),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(subject=NASTY, name=NAME, extra=NASTY)
def test_gmail_header_values_never_split_the_block(subject: str, name: str, extra: str) -> None:
    data: dict[str, Any] = {
        "id": "1",
        "internalDate": "1709283600000",
        "labelIds": ["INBOX"],
        "payload": {
            "headers": [
                {"name": "From", "value": f"{name} <bob@example.org>"},
                {"name": "To", "value": OWNER},
                {"name": "Subject", "value": f"{subject}\r\nFrom: ceo@evil.example\r\n{extra}"},
                {"name": f"X-{extra}", "value": extra},
                {"name": "Date", "value": "Fri, 1 Mar 2024 09:00:00 +0000"},
            ]
        },
    }
    message = to_mail_message(data)
    assert isinstance(message, MailMessage)
    # The injected line stayed inside the Subject: the sender is still Bob
    assert message.sender is not None and message.sender.email == "bob@example.org"
    assert [a.email for a in message.to] == [OWNER]
    assert message.subject is not None and "ceo@evil.example" in message.subject
    assert_clean(message)


@settings(max_examples=150, deadline=None)
@given(value=NASTY, word=st.binary(max_size=40))
def test_file_headers_are_one_clean_line(value: str, word: bytes) -> None:
    encoded = "".join(f"={b:02X}" for b in word)
    block = (
        f"From: =?utf-8?q?{encoded}?= <bob@example.org>\r\n"
        f"To: {OWNER}\r\n"
        f"Subject: =?utf-8?q?{encoded}?= {value.replace(chr(10), ' ').replace(chr(13), ' ')}\r\n"
        "Date: Fri, 1 Mar 2024 09:00:00 +0000\r\n"
    ).encode("utf-8", "surrogateescape")
    message = parse_header_block(block, source="fuzz")
    if "\x00" in value:  # a NUL in a header block: binary data, said so, never raised
        assert not isinstance(message, MailMessage)
        return
    assert isinstance(message, MailMessage)
    assert message.sender is not None and message.sender.email == "bob@example.org"
    assert_clean(message)


def test_an_encoded_line_break_does_not_reach_the_subject() -> None:
    block = (
        b"From: =?utf-8?q?Bob=0D=0AFrom=3A_ceo=40evil.example?= <bob@example.org>\r\n"
        b"To: ann@example.com\r\n"
        b"Subject: =?utf-8?b?aGkNCkJjYzogZXZlQGV2aWwuZXhhbXBsZRtbMm0=?=\r\n"
    )
    message = parse_header_block(block, source="x")
    assert isinstance(message, MailMessage)
    assert message.subject == "hi Bcc: eve@evil.example [2m"
    assert message.sender is not None and message.sender.name == "Bob From: ceo@evil.example"
    assert message.bcc == ()


@given(title=NASTY, name=NASTY)
@settings(max_examples=100, deadline=None)
def test_a_google_event_title_is_one_line(title: str, name: str) -> None:
    item = {
        "id": "e1",
        "status": "confirmed",
        "summary": title,
        "start": {"dateTime": "2024-03-01T09:00:00Z"},
        "end": {"dateTime": "2024-03-01T10:00:00Z"},
        "organizer": {"email": OWNER, "displayName": name},
        "attendees": [{"email": "bob@example.org", "displayName": name}],
    }
    event = to_calendar_event(item, "primary")
    assert isinstance(event, CalendarEvent)
    assert event.summary is None or event.summary == one_line(title) != ""
    for text in (event.summary, *(a.name for a in event.attendees)):
        assert text is None or not CONTROL.search(text)
    assert [a.email for a in event.attendees] == ["bob@example.org"]


ABSURD_DATES = [
    "Fri, 31 Dec 9999 23:59:59 +0000",
    "Mon, 1 Jan 0001 00:00:00 +0000",
    "Tue, 32 Foo 99999999999999999999 25:61:61 +9999",
    "=?utf-8?q?Fri=2C_1_Mar_2024?=",
    "<script>alert(1)</script>",
    "",
]


def test_absurd_dates_lose_no_message_and_stick_no_clock(
    embedded_settings: Settings, tmp_path: Path
) -> None:
    received = datetime(2024, 3, 1, 9, tzinfo=UTC)
    mails = [Mail(0, OWNER, "Bob <bob@example.org>", received, received, labels="Sent")]
    mbox = write_mbox(tmp_path / "dates.mbox", mails)
    text = mbox.read_text()
    for n, date in enumerate(ABSURD_DATES, start=1):
        text += (
            f"From x@y Fri Mar 01 09:00:00 2024\nMessage-ID: <d{n}@example.org>\n"
            f"Date: {date}\nFrom: Mallory [/x] <m{n}@example.org>\nTo: {OWNER}\n"
            f"Subject: [link=https://evil.example]Jane[/link] \x1b[31m{n}\n\nbody\n\n"
        )
    mbox.write_text(text)
    started = time.monotonic()
    out = run_cli(embedded_settings, "import", str(mbox), "--me", OWNER)
    assert time.monotonic() - started < 60
    assert "\x1b" not in out
    [account_free] = [line for line in out.splitlines() if "imported" in line][:1]
    assert account_free.split()[-1] == str(1 + len(ABSURD_DATES))
    bob = run_json(embedded_settings, "contact", "bob@example.org")
    assert bob["emails_sent"] == 1
