"""Rebuild the test data slices in this folder from the full sets in ../shared/data.

Run from the repository root: `python tests/data/make_slices.py [SHARED_DATA]`. The output is
deterministic, so a re-run on the same shared data changes nothing; see README.md for what each
slice is for. Only the standard library is used, on purpose: the selection must not depend on the
code under test.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import random
import re
import shutil
import sys
from collections import defaultdict
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[2] / "shared" / "data"

OWNER = {"david.delainey@enron.com", "w..delainey@enron.com"}
# Correspondents of delainey-d with several one-to-one messages spread over months; every
# message involving one of them is copied, in every folder it sits in.
CORRESPONDENTS = {
    "joseph.sutton@enron.com",
    "michael.guerriero@enron.com",
    "ojzeringue@tva.gov",
    "wayne.mays@enron.com",
    "mark.palmer@enron.com",
    "christi.nicolay@enron.com",
    "stuart.zisman@enron.com",
    "william.bradford@enron.com",
    "benjamin.rogers@enron.com",
    "mike.coleman@enron.com",
    "daniel.brown@enron.com",
}
NOISE_FOLDERS = {"inbox", "deleted_items"}  # copied whole: announcements, an auto-reply, ...
APPARMOR_MESSAGES = 150
APPARMOR_MAX_BYTES = 4500  # keeps tests/data near 1.5 MB; list headers make up most of each
APPARMOR_VIA = 4  # DMARC-munged "Name via AppArmor" senders, the smallest ones
APPARMOR_GZ_MESSAGES = 40

MIME = [
    "cpython/msg_05.txt",
    "cpython/msg_16.txt",
    "flanker/messages/bounce/mailbox-full.eml",
    "flanker/messages/bounce/gmail-invalid-address.eml",
    "flanker/messages/encoded-header.eml",
    "flanker/messages/from-encoding.eml",
    "ruby-mail/emails/error_emails/bad_encoded_subject.eml",
    "ruby-mail/emails/multi_charset/japanese_iso_2022.eml",
    "ruby-mail/emails/plain_emails/raw_email_bad_time.eml",
    "ruby-mail/emails/plain_emails/raw_email_with_bad_date.eml",
    "ruby-mail/emails/rfc6532/utf8_headers.eml",
]
MIME_LICENSES = {
    "flanker/LICENSE": "flanker/LICENSE",
    "ruby-mail/MIT-LICENSE": "ruby-mail/MIT-LICENSE",
}
CALENDARS = {
    "icaljs/daily_recur.ics": "icaljs/daily_recur.ics",
    "icaljs/recur_instances.ics": "icaljs/recur_instances.ics",
    "icaljs/LICENSE": "icaljs/LICENSE",
    "recurring-ical-events/recurring_ical_events/test/calendars/issue_18_cancel_status.ics": (
        "recurring-ical-events/issue_18_cancel_status.ics"
    ),
    "recurring-ical-events/recurring_ical_events/test/calendars/subcomponents.ics": (
        "recurring-ical-events/subcomponents.ics"
    ),
    "recurring-ical-events/LICENSE": "recurring-ical-events/LICENSE",
    "icalendar/calendars/issue_104_broken_calendar.ics": "icalendar/issue_104_broken_calendar.ics",
    "icalendar/calendars/issue_1050_multiple_calendars.ics": (
        "icalendar/issue_1050_multiple_calendars.ics"
    ),
    "icalendar/calendars/invalid_duration.ics": "icalendar/invalid_duration.ics",
    "icalendar/LICENSE.rst": "icalendar/LICENSE.rst",
}


def main() -> None:
    if not SHARED.is_dir():
        sys.exit(f"shared data not found: {SHARED}")
    enron = enron_slice()
    apparmor_slice()
    takeout(enron)
    maildir()
    copy_files(SHARED / "mime", HERE / "mime", {name: name for name in MIME} | MIME_LICENSES)
    python_license()
    copy_files(SHARED / "calendars", HERE / "ics", CALENDARS)
    (HERE / "ics/apparmor").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(
        SHARED / "mailing-list/apparmor/text-calendar-parts/008.ics",
        HERE / "ics/apparmor/008-declined.ics",
    )
    bad_inputs()


def enron_slice() -> Path:
    source = SHARED / "enron/delainey-d"
    target = HERE / "enron/delainey-d"
    shutil.rmtree(target, ignore_errors=True)
    parser = BytesParser(policy=compat32)
    copies: dict[str, list[Path]] = defaultdict(list)
    wanted: set[str] = set()
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        message = parser.parsebytes(raw)
        senders = {
            a.lower() for _, a in getaddresses([str(v) for v in message.get_all("From", [])])
        }
        fields = [str(v) for h in ("To", "Cc", "Bcc") for v in message.get_all(h, [])]
        recipients = {a.lower() for _, a in getaddresses(fields)}
        body = " ".join(str(message.get_payload()).split())
        # Enron copies one message into several folders under different Message-IDs; the
        # content identifies the copies.
        key = "|".join(
            [
                str(message["Date"]),
                str(message["Subject"]),
                *sorted(senders),
                *sorted(recipients),
                body,
            ]
        )
        digest = hashlib.sha1(key.encode("utf-8", "surrogateescape")).hexdigest()
        copies[digest].append(path)
        bogus_date = str(message["Date"]).startswith("Mon, 31 Dec 1979")
        if (
            (senders | recipients) & CORRESPONDENTS
            or path.parent.name in NOISE_FOLDERS
            or (bogus_date and senders & OWNER)
        ):
            wanted.add(digest)
    for digest in sorted(wanted):
        for path in copies[digest]:
            out = target / path.relative_to(source)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, out)
    return target


def mbox_messages(path: Path) -> list[bytes]:
    data = path.read_bytes()
    starts = [m.start() for m in re.finditer(rb"(?m)^From ", data)]
    return [data[a:b] for a, b in zip(starts, [*starts[1:], len(data)], strict=True)]


def apparmor_slice() -> None:
    messages = mbox_messages(SHARED / "mailing-list/apparmor/apparmor.lists.ubuntu.com.mbox")
    via = [i for i, m in enumerate(messages) if re.search(rb"\nFrom:[^\n]*via AppArmor", m)]
    chosen = set(sorted(via, key=lambda i: len(messages[i]))[:APPARMOR_VIA])
    small = [i for i, m in enumerate(messages) if len(m) <= APPARMOR_MAX_BYTES and i not in chosen]
    chosen.update(small[-(APPARMOR_MESSAGES - len(chosen)) :])
    small = [messages[i] for i in sorted(chosen)]  # archive order
    (HERE / "apparmor-slice.mbox").write_bytes(b"".join(small))
    with (
        (HERE / "apparmor-slice-40.mbox.gz").open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as packed,
    ):
        packed.write(b"".join(small[:APPARMOR_GZ_MESSAGES]))


def takeout(enron: Path) -> None:
    """A Google Takeout style mbox made of real Enron messages plus the headers Takeout adds."""
    picks = [
        ("sent_items/1_", "Sent"),
        ("sent/100_", "Sent,Important"),
        ("inbox/2_", "Inbox,Important"),
        ("inbox/18_", 'Inbox,"Projects, 2002"'),
        ("inbox/12_", "Inbox,Category Updates"),
    ]
    parts = []
    for index, (name, labels) in enumerate(picks):
        raw = (SHARED / "enron/delainey-d" / name).read_bytes().replace(b"\r\n", b"\n")
        # mboxrd: quote body lines that would read as separators.
        raw = re.sub(rb"(?m)^(>*From )", rb">\1", raw)
        thread = 1650000000000000000 + index
        envelope = f"From {thread}@xxx Thu Jan 01 00:00:00 +0000 2001\n"
        added = f"X-GM-THRID: {thread}\nX-Gmail-Labels: {labels}\n"
        parts.append(envelope.encode() + added.encode() + raw.rstrip(b"\n") + b"\n\n")
    (HERE / "takeout").mkdir(exist_ok=True)
    (HERE / "takeout/All mail Including Spam and Trash.mbox").write_bytes(b"".join(parts))


def maildir() -> None:
    """A small Maildir++ made of real Enron messages (the maildir itself is constructed)."""
    target = HERE / "maildir"
    shutil.rmtree(target, ignore_errors=True)
    layout = {
        "cur": ["inbox/2_", "inbox/21_", "deleted_items/3_"],
        "new": ["inbox/18_", "inbox/1_"],
        ".Sent/cur": ["sent_items/1_", "sent/100_"],
    }
    serial = 1000000000
    for folder, names in layout.items():
        (target / folder).mkdir(parents=True)
        for name in names:
            serial += 1
            shutil.copyfile(
                SHARED / "enron/delainey-d" / name, target / folder / f"{serial}.M1P1.keepwarm"
            )
    # tmp/ holds deliveries in progress; readers must not touch it.
    (target / "tmp").mkdir()
    (target / "tmp/1000000099.M1P1.keepwarm").write_bytes(b"From: half@delivered.example\n")


def copy_files(source: Path, target: Path, names: dict[str, str]) -> None:
    for name, out in names.items():
        (target / out).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / name, target / out)


def python_license() -> None:
    """The Python licence section (history, PSF and earlier licences) of Debian's copyright."""
    text = (SHARED / "mime/cpython/COPYRIGHT-debian-python3.11.txt").read_text("utf-8")
    end = text.index("\n\n\n", text.index("CWI LICENSE AGREEMENT FOR PYTHON 0.9.0 THROUGH 1.2"))
    (HERE / "mime/cpython/LICENSE-PSF.txt").write_text(text[:end] + "\n", "utf-8")


def bad_inputs() -> None:
    target = HERE / "bad"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    good = (SHARED / "enron/delainey-d/inbox/18_").read_bytes()
    (target / "good.eml").write_bytes(good)
    (target / "binary-garbage").write_bytes(
        b"\x7fELF\x02\x01\x01\x00" + random.Random(0).randbytes(2040)
    )
    (target / "empty.eml").write_bytes(b"")
    # Cut in the middle of the X-To line.
    (target / "truncated.eml").write_bytes(good[: good.index(b"X-To:") + 12])
    (target / "undecodable-headers.eml").write_bytes(
        b"Message-ID: <undecodable@keepwarm.test>\n"
        b"Date: Tue, 22 Jan 2002 07:40:10 -0800\n"
        b'From: "\xff\xfe" <\xc3\x28\xa0@enron.com>\n'
        b"To: <d\xe9laney@enron.com>\n"
        b"Subject: bytes that are not UTF-8\n\nbody\n"
    )
    (target / "not-an-mbox.gz").write_bytes(gzip.compress(b"just some text\n", mtime=0))
    whole = (HERE / "apparmor-slice-40.mbox.gz").read_bytes()
    (target / "truncated.mbox.gz").write_bytes(whole[: len(whole) // 2])
    (target / "garbled.ics").write_bytes(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//keepwarm//bad input//EN\r\n"
        b"BEGIN:VEVENT\r\nUID:valid@keepwarm.test\r\nDTSTART:20200310T180000Z\r\n"
        b"DTEND:20200310T190000Z\r\nSUMMARY:The valid one\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:garbled@keepwarm.test\r\nDTSTART:2020-13-45 25:61\r\n"
        b"SUMMARY:\xff\xfe garbled\r\nEND:VEVENT\r\n"
        b"\x00\x01 this line is not iCalendar at all\r\n"
        b"END:VCALENDAR\r\n"
    )


if __name__ == "__main__":
    os.umask(0o022)
    main()
