"""The shared header parser, on real messages (values read off the files) and on garbage."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from email.utils import getaddresses
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from keepwarm.connectors.files.headers import (
    enron_names,
    parse_header_block,
    read_header_block,
    split_addresses,
)
from keepwarm.connectors.types import Address, MailMessage, Unreadable

DATA = Path(__file__).resolve().parents[1] / "data"
ENRON = DATA / "enron" / "delainey-d"
MIME = DATA / "mime"


def parse_file(path: Path, folder: str | None = None) -> MailMessage | Unreadable:
    with path.open("rb") as stream:
        block, incomplete = read_header_block(stream)
    return parse_header_block(block, source=str(path), folder=folder, incomplete=incomplete)


def message(path: Path, folder: str | None = None) -> MailMessage:
    parsed = parse_file(path, folder)
    assert isinstance(parsed, MailMessage), parsed
    return parsed


def test_enron_sent_message() -> None:
    # sent/126_: From david.delainey@enron.com, X-From "David W Delainey",
    # X-To: "Zeringue,Oswald J" <ojzeringue@tva.gov> @ ENRON, Thu, 9 Nov 2000 04:08:00 -0800.
    sent = message(ENRON / "sent" / "126_", folder="sent")
    assert sent.message_id == "3736589.1075854465427.JavaMail.evans@thyme"
    assert sent.sender == Address("david.delainey@enron.com", "David W Delainey")
    assert sent.to == (Address("ojzeringue@tva.gov", "Oswald J Zeringue"),)
    assert sent.cc == sent.bcc == ()
    assert sent.sent_at == datetime(2000, 11, 9, 12, 8, tzinfo=UTC)
    assert sent.subject == "RE: Confidential"
    assert sent.folder == "sent"
    assert sent.in_sent_folder
    assert sent.content_type == "text/plain"
    assert sent.problems == ()


def test_enron_exchange_style_names_become_first_last() -> None:
    # X-From: Fleming, Rosalee </O=ENRON/...>; X-To holds "Bowen Jr., Raymond </O=...>" and,
    # among the Exchange entries, "Sherriff, John <jsherriff@btinternet.com>".
    memo = message(ENRON / "inbox" / "6_")
    assert memo.sender == Address("rosalee.fleming@enron.com", "Rosalee Fleming")
    assert len(memo.to) == 17
    assert memo.to[0] == Address("raymond.bowen@enron.com", "Raymond Bowen Jr.")
    assert memo.to[3] == Address("w..delainey@enron.com", "David W. Delainey")
    assert memo.to[15] == Address("john.sherriff@enron.com", "John Sherriff")
    assert memo.cc[1] == Address("kay.chapman@enron.com", "Kay Chapman")


def test_enron_names_only_where_counts_match() -> None:
    # X-cc: 'laidlaw01@msn.com' names nobody; To matches its X-To entry for entry.
    forward = message(ENRON / "sent_items" / "43_", folder="sent_items")
    assert forward.to == (
        Address("kalen.pieper@enron.com", "Kalen Pieper"),
        Address("daniel.brown@enron.com", "Daniel Brown"),
    )
    assert forward.cc == (Address("laidlaw01@msn.com", None),)
    assert forward.in_sent_folder
    # X-cc mixes bare addresses and "Name <addr>": four entries for four Cc addresses.
    invitation = message(ENRON / "inbox" / "11_")
    assert [a.name for a in invitation.cc] == [None, None, "Kathy Scott", "Joel Reed"]


def test_enron_x_header_shapes() -> None:
    assert enron_names("Chapman, Kay </O=ENRON/OU=NA/CN=RECIPIENTS/CN=KCHAPMA>") == ["Kay Chapman"]
    assert enron_names("Brian Redmond, Rob Milnthorp, Janet R Dietrich") == [
        "Brian Redmond",
        "Rob Milnthorp",
        "Janet R Dietrich",
    ]
    assert enron_names("Enron In Action@ENRON, pkrain@att.net, Don W Smith/HOU/ECT@ECT") == [
        "Enron In Action",
        None,
        "Don W Smith",
    ]
    assert enron_names("") == []


def test_bogus_enron_date_is_kept_as_a_problem() -> None:
    # The "ENA 2000 Offsite" memo says Mon, 31 Dec 1979 16:00:00 -0800: the DOS epoch in UTC.
    memo = message(ENRON / "all_documents" / "1_")
    assert memo.sent_at is None
    assert memo.problems == ("impossible date: Mon, 31 Dec 1979 16:00:00 -0800 (PST)",)
    assert memo.to == (Address("kay.chapman@enron.com", "Kay Chapman"),)


def test_two_digit_style_year_is_read_like_the_stdlib() -> None:
    # "Wed, 28 Dec 0001 08:45:27 -0800": RFC 5322 obsolete years below 100 count from 1900/2000.
    concur = message(ENRON / "inbox" / "1_")
    assert concur.sent_at == datetime(2001, 12, 28, 16, 45, 27, tzinfo=UTC)
    assert concur.sender == Address("enron_update@concureworkplace.com", None)


def test_mailing_list_bounce_headers() -> None:
    bounce = message(MIME / "cpython" / "msg_16.txt")
    assert bounce.sender == Address("postmaster@ucla.edu", "Internet Mail Delivery")
    assert bounce.list_id == "SoCal-Raves <scr.socal-raves.org>"
    assert bounce.list_unsubscribe
    assert bounce.precedence == "bulk"
    assert bounce.content_type == "multipart/report"
    assert bounce.sent_at == datetime(2001, 9, 24, 3, 14, 35, tzinfo=UTC)


def test_delivery_report_is_auto_submitted() -> None:
    report = message(MIME / "flanker" / "messages" / "bounce" / "mailbox-full.eml")
    # From: MAILER-DAEMON@AOL.com (Mail Delivery System): the comment is the display name.
    assert report.sender == Address("mailer-daemon@aol.com", "Mail Delivery System")
    assert report.auto_submitted == "auto-replied"
    assert report.content_type == "multipart/report"
    assert not report.auto_reply_header


def test_encoded_words_in_names_and_subject() -> None:
    # From: =?UTF-8?B?Rm9vLCBCYXI=?= <foo.bar@example.com>  ("Foo, Bar": a comma inside)
    encoded = message(MIME / "flanker" / "messages" / "encoded-header.eml")
    assert encoded.sender == Address("foo.bar@example.com", "Foo, Bar")
    assert encoded.sent_at is None
    assert encoded.problems == ("no Date header",)
    japanese = message(MIME / "ruby-mail" / "emails" / "multi_charset" / "japanese_iso_2022.eml")
    assert japanese.subject == "まみむめも"
    assert japanese.to == (Address("raasdnil@gmail.com", "みける"),)
    # A windows-1251 encoded display name.
    spam = message(MIME / "ruby-mail" / "emails" / "plain_emails" / "raw_email_bad_time.eml")
    assert spam.sender == Address("yusuf75thu@auracom.net", "Атиковa")


def test_raw_latin1_and_raw_utf8_headers() -> None:
    latin1 = message(MIME / "flanker" / "messages" / "from-encoding.eml")
    assert latin1.sender == Address("ingo@blank.pages.de", "Ingo Lütkebohle")
    assert latin1.problems == ("not UTF-8, read as Latin-1: From",)
    assert latin1.reply_to == (Address("new-httpd@apache.org", None),)
    utf8 = message(MIME / "ruby-mail" / "emails" / "rfc6532" / "utf8_headers.eml")
    assert utf8.sender == Address("jdöe@mächine.example", "Jöhn Doe")
    assert utf8.subject == "Säying Hello"


def test_impossible_and_unparseable_dates() -> None:
    plain = MIME / "ruby-mail" / "emails" / "plain_emails"
    future = message(plain / "raw_email_bad_time.eml")
    # The Date says the year 3609; the receiving server's own line says when it arrived.
    assert future.sent_at == future.received_at == datetime(2008, 6, 30, 9, 34, tzinfo=UTC)
    assert future.problems == (
        "impossible date: Mon, 30 Jun 3609 15:33:50 +0600",
        "no usable Date: the receipt time is used",
    )
    garbled = message(plain / "raw_email_with_bad_date.eml")
    assert garbled.sent_at == garbled.received_at == datetime(2007, 11, 5, 9, 17, 37, tzinfo=UTC)
    assert garbled.problems == (
        "unparseable date: Pn, 29 paX 2007 21:13:00 +0100",
        "no usable Date: the receipt time is used",
    )


def test_messages_without_addresses_are_unreadable() -> None:
    # "From: foo" / "To: baz": no address anywhere.
    assert parse_file(MIME / "cpython" / "msg_05.txt") == Unreadable(
        str(MIME / "cpython" / "msg_05.txt"), "no sender or recipient address"
    )
    subject_only = MIME / "ruby-mail" / "emails" / "error_emails" / "bad_encoded_subject.eml"
    assert isinstance(parse_file(subject_only), Unreadable)


def test_header_fields_from_bytes() -> None:
    block = (
        b"From ignored@envelope Thu Jan  1 00:00:00 2001\r\n"
        b'Sender: "Ann O\'Nymous" <ANN@Example.COM >\r\n'
        b"To: undisclosed-recipients:;\r\n"
        b"Bcc: b@example.com\r\n"
        b"Subject: =?utf-8?q?caf=C3=A9?=\r\n  and\tmore\r\n"
        b"Message-ID:\r\n <id-1@example.com>\r\n"
        b"In-Reply-To: <parent@example.com> (Ann's message of Monday)\r\n"
        b"Date: Mon, 01 Jan 2024 10:00:00 +0200\r\n"
        b"X-Autoreply: yes\r\n"
        b"Precedence: Bulk\r\n"
        b"Auto-Submitted: Auto-Replied\r\n"
        b"Content-Type: Multipart/Report; report-type=delivery-status\r\n"
        b'X-Gmail-Labels: Sent,"Work, 2024",=?UTF-8?Q?F=C3=BCr_mich?=\r\n'
        b"X-GM-THRID: 1785\r\n"
    )
    parsed = parse_header_block(block, source="inline")
    assert isinstance(parsed, MailMessage)
    # No From: the Sender is who sent it.
    assert parsed.sender == Address("ann@example.com", "Ann O'Nymous")
    assert parsed.to == ()
    assert parsed.bcc == (Address("b@example.com", None),)
    assert parsed.subject == "café and more"
    assert parsed.message_id == "id-1@example.com"
    assert parsed.in_reply_to == "parent@example.com"
    assert parsed.sent_at == datetime(2024, 1, 1, 8, 0, tzinfo=UTC)
    assert parsed.auto_reply_header
    assert parsed.precedence == "bulk"
    assert parsed.auto_submitted == "auto-replied"
    assert parsed.content_type == "multipart/report"
    assert parsed.labels == ("Sent", "Work, 2024", "Für mich")
    assert parsed.in_sent_folder
    assert parsed.thread_id == "1785"
    assert parsed.folder is None


def test_header_block_stops_at_the_first_blank_line() -> None:
    body = b"From: a@example.com\nTo: b@example.com\n\nFrom: not-a-header@example.com\n"
    assert read_header_block(io.BytesIO(body)) == (b"From: a@example.com\nTo: b@example.com", None)
    crlf = b"From: a@example.com\r\n\r\nbody"
    assert read_header_block(io.BytesIO(crlf)) == (b"From: a@example.com\r", None)
    headers_only = b"From: a@example.com\n"
    assert read_header_block(io.BytesIO(headers_only)) == (headers_only, None)
    cut = b"From: a@example.com\nTo: b@exa"
    assert read_header_block(io.BytesIO(cut))[1] == "truncated inside the headers"
    assert read_header_block(io.BytesIO(b"\nbody"))[0] == b""


def test_sent_labels_and_folders() -> None:
    block = b"From: me@example.com\nTo: you@example.com\nX-Gmail-Labels: Inbox,Important\n"
    inbox = parse_header_block(block, source="x", folder="Sent Items/2001")
    assert isinstance(inbox, MailMessage)
    assert not inbox.in_sent_folder  # only the last folder component counts
    for folder in ("Sent Items", "INBOX/Sent Messages", "_sent_mail", "sent"):
        filed = parse_header_block(block, source="x", folder=folder)
        assert isinstance(filed, MailMessage)
        assert filed.in_sent_folder, folder
    outbox = parse_header_block(block, source="x", folder="Outbox")
    assert isinstance(outbox, MailMessage)
    assert not outbox.in_sent_folder


# Fragments real headers are made of, so generated blocks reach the address and date code.
FIELD_NAMES = st.sampled_from(
    ["From", "To", "Cc", "Bcc", "Sender", "Reply-To", "Date", "Subject", "Message-ID",
     "In-Reply-To", "List-Id", "Content-Type", "X-From", "X-To", "X-cc", "X-Gmail-Labels",
     "Received", "From ", " ", "\t", ""]
)  # fmt: skip
VALUE_PARTS = st.sampled_from(
    ['"', "<", ">", ",", ";", ":", "@", "(", ")", "\\", "=?utf-8?q?", "=?bogus?b?", "?=", " ",
     "a", "b.c", "Mon, 1 Jan 2024 10:00:00 +0000", "</O=ENRON/CN=X>", "Last, First", "\xe9",
     "\u00ff\u00fe", "99 Foo 99999 99:99:99 +9999", "@ ENRON"]
)  # fmt: skip
HEADER_LINES = st.lists(
    st.tuples(FIELD_NAMES, st.lists(VALUE_PARTS, max_size=12).map("".join)).map(
        lambda pair: f"{pair[0]}:{pair[1]}"
    ),
    max_size=12,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_parser_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    block, incomplete = read_header_block(io.BytesIO(raw))
    result = parse_header_block(block, source="fuzz", incomplete=incomplete)
    assert isinstance(result, MailMessage | Unreadable)


@settings(max_examples=500, deadline=None)
@given(HEADER_LINES, st.sampled_from(["utf-8", "latin-1"]))
def test_parser_never_raises_on_header_like_garbage(lines: list[str], encoding: str) -> None:
    block = "\n".join(lines).encode(encoding, "replace")
    result = parse_header_block(block, source="fuzz")
    assert isinstance(result, MailMessage | Unreadable)
    if isinstance(result, MailMessage):
        for address in (result.sender, *result.to, *result.cc, *result.bcc, *result.reply_to):
            if address is not None:
                assert "@" in address.email
                assert address.email == address.email.strip().lower()
        assert result.sent_at is None or result.sent_at.tzinfo is UTC


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.lists(VALUE_PARTS, max_size=16).map("".join),
        st.text(alphabet='"<>,;:@()\\ ab.\t=?', max_size=30),
    )
)
def test_fast_address_split_agrees_with_the_stdlib(value: str) -> None:
    def normal(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [
            (" ".join(name.split()), address.strip()) for name, address in pairs if name or address
        ]

    assert normal(split_addresses([value])) == normal(getaddresses([value]))
