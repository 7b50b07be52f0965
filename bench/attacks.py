"""The mail, calendar and file attacks of issue 9, run against a keepwarm checkout.

    python bench/attacks.py                        # this checkout
    python bench/attacks.py --target /path/to/old  # another one (its .venv/bin/python)

Each attack runs keepwarm as a person would, in processes of the target's own interpreter (the
`keepwarm` command, or a connector called directly), on an embedded home of its own; provider
sandboxes are this checkout's (they serve receipt time from `Received:`, as Gmail does), so
old and new code meet the same provider. A row per attack: what was stored or said, the
seconds, and the peak RSS of the target's processes. A process that passes LIMIT_SECONDS or
LIMIT_RSS_MB is killed and the row says so. Inputs are generated here, so the script runs
unchanged against a checkout that has none of them. The whole run takes a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from keepwarm.connectors.sandbox.google import GoogleSandbox  # noqa: E402
from keepwarm.connectors.sandbox.microsoft import MicrosoftSandbox  # noqa: E402

LIMIT_SECONDS = 90.0
LIMIT_RSS_MB = 3072.0
OWNER = "ann@example.com"
TOKEN_KEY = "x3Oa5b5JmWZf7w3Gq8yBv2nq0d3Yk1HnM5m3p8QJX1Q="
START = datetime(2024, 3, 1, 9, tzinfo=UTC)


@dataclass
class Ran:
    """One target process: its exit code, output, seconds and peak RSS (MiB)."""

    code: int | None
    out: str
    err: str
    seconds: float
    rss_mb: float
    killed: str | None = None


class Target:
    """A keepwarm checkout and its interpreter."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.python = root / ".venv" / "bin" / "python"

    def run(self, args: list[str], home: Path, timeout: float = LIMIT_SECONDS) -> Ran:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env.update(KEEPWARM_HOME=str(home), KEEPWARM_TOKEN_KEY=TOKEN_KEY, PYTHONHASHSEED="0")
        started = time.monotonic()
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            proc = subprocess.Popen(
                [str(self.python), *args], cwd=self.root, env=env, stdout=out, stderr=err
            )
            killed, peak = None, 0.0
            while True:
                peak = max(peak, _rss_mb(proc.pid))
                if proc.poll() is not None:
                    break
                if time.monotonic() - started > timeout:
                    killed = f"killed after {timeout:.0f} s"
                elif peak > LIMIT_RSS_MB:
                    killed = f"killed past {LIMIT_RSS_MB:.0f} MiB"
                if killed:
                    proc.kill()
                    proc.wait()
                    break
                time.sleep(0.05)  # sampling RSS, not waiting for an outcome
            # The kernel's own high-water mark, when the process was ours to reap
            seconds = time.monotonic() - started
            out.seek(0)
            err.seek(0)
            return Ran(proc.returncode, out.read(), err.read(), seconds, peak, killed)

    def keepwarm(self, home: Path, *args: str, timeout: float = LIMIT_SECONDS) -> Ran:
        return self.run(["-m", "keepwarm", *args], home, timeout)

    def json(self, home: Path, *args: str) -> Any:
        ran = self.keepwarm(home, *args, "--json")
        return json.loads(ran.out) if ran.code == 0 else None


def _rss_mb(pid: int) -> float:
    """Resident memory of `pid` (VmHWM: the kernel's peak) in MiB; 0 once it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Row:
    attack: str
    result: str
    seconds: float
    rss_mb: float


# -- inputs ------------------------------------------------------------------------------------


def mail(
    n: int,
    sender: str,
    to: str,
    date: datetime,
    received: datetime,
    labels: str = "Inbox",
    subject: str | None = None,
) -> str:
    return (
        f"From x@y {received:%a %b %d %H:%M:%S %Y}\nX-Gmail-Labels: {labels}\n"
        f"Received: from mx.example.org by mx.example.com; {format_datetime(received)}\n"
        f"Message-ID: <m{n}@example.org>\nDate: {format_datetime(date)}\n"
        f"From: {sender}\nTo: {to}\nSubject: {subject or f'note {n}'}\n\nbody\n\n"
    )


def at(days: int) -> datetime:
    return START + timedelta(days=days)


def spoofed_mailbox(path: Path) -> Path:
    path.write_text(
        mail(1, OWNER, "bob@example.org", at(0), at(0), "Sent")
        + mail(2, "bob@example.org", OWNER, at(1), at(1))
        + mail(3, OWNER, "mallory@evil.example", at(60), at(60))
        + mail(4, OWNER, "bob@example.org", at(90), at(90))
        + mail(5, OWNER, "eve@evil.example", at(100), at(100), "Spam")
    )
    return path


def _event(uid: str, start: str, *lines: str) -> str:
    body = "".join(f"{line}\r\n" for line in lines)
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:{start}\r\nSUMMARY:{uid}\r\n"
        "ORGANIZER:mailto:ann@example.com\r\nATTENDEE:mailto:bob@example.org\r\n"
        f"{body}END:VEVENT\r\n"
    )


def unbounded_calendar(path: Path) -> Path:
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
        + _event("minutely", "20200101T000000Z", "RRULE:FREQ=MINUTELY")
        + _event("weekly", "20200106T100000Z", "DURATION:PT1H", "RRULE:FREQ=WEEKLY")
        + _event("once", "20210301T100000Z", "DURATION:PT1H")
        + "END:VCALENDAR\r\n"
    )
    return path


def big_calendar(path: Path, megabytes: float = 8.9) -> Path:
    """About `megabytes` of meetings with three guests and an agenda; one in four is a weekly
    series of a year."""
    target, written, n = int(megabytes * 2**20), 0, 0
    with path.open("w", newline="") as out:
        out.write("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
        while written < target:
            start = datetime(2020, 1, 1, 9, tzinfo=UTC) + timedelta(hours=n)
            lines = [
                "DURATION:PT30M",
                *(f"ATTENDEE;CN=Guest {g}:mailto:g{n % 500}.{g}@example.org" for g in range(3)),
                "DESCRIPTION:" + "agenda item " * 60,
            ]
            if n % 4 == 0:
                lines.append("RRULE:FREQ=WEEKLY;COUNT=52")
            text = _event(f"e{n}", f"{start:%Y%m%dT%H%M%SZ}", *lines)
            out.write(text)
            written += len(text)
            n += 1
        out.write("END:VCALENDAR\r\n")
    return path


def bad_zones_calendar(path: Path) -> Path:
    path.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-WR-TIMEZONE:Not/AZone\r\n"
        + _event("unknown", "20200302T100000").replace("DTSTART:", "DTSTART;TZID=Mars/Olympus:")
        + _event("fine", "20200304T100000Z", "DURATION:PT1H")
        + "END:VCALENDAR\r\n"
    )
    return path


def deep_tree(root: Path, depth: int = 1500) -> Path:
    folder = root
    folder.mkdir()
    for _ in range(depth):
        folder = folder / "d"
        folder.mkdir()
    (root / "1").write_text(f"From: {OWNER}\nTo: bob@example.org\nSubject: top\n\nbody\n")
    (folder / "1").write_text(f"From: bob@example.org\nTo: {OWNER}\nSubject: deep\n\nbody\n")
    return root


def remove_deep(root: Path) -> None:
    """Remove what deep_tree made, bottom up (shutil.rmtree recurses, and fails on it)."""
    folders = [root]
    while (folders[-1] / "d").is_dir():
        folders.append(folders[-1] / "d")
    for folder in reversed(folders):
        for entry in folder.iterdir():
            if not entry.is_dir():
                entry.unlink()
        folder.rmdir()


# -- attacks -----------------------------------------------------------------------------------

CONNECTOR_PROBE = r"""
import json, sys
from datetime import UTC, datetime
from keepwarm.connectors.files.ics import read_ics
from keepwarm.connectors.types import CalendarEvent
window = (datetime(2001, 12, 1, tzinfo=UTC), datetime(2027, 11, 30, tzinfo=UTC))
events = lines = 0
for record in read_ics(__import__("pathlib").Path(sys.argv[1]), window=window,
                       progress=lambda n: None):
    if isinstance(record, CalendarEvent):
        events += 1
    else:
        lines += 1
print(json.dumps({"events": events, "lines": lines}))
"""

HEADER_PROBE = r"""
import json
from keepwarm.connectors.google.gmail import to_mail_message
from keepwarm.connectors.google.calendar import to_calendar_event
m = to_mail_message({"id": "1", "internalDate": "1709283600000", "labelIds": ["SENT"],
    "payload": {"headers": [
        {"name": "From", "value": "ann@example.com"},
        {"name": "To", "value": "bob@example.org"},
        {"name": "Subject", "value": "hi\r\nBcc: eve@evil.example\r\nX-A: \x1b[2J"},
        {"name": "Date", "value": "Fri, 1 Mar 2024 09:00:00 +0000"}]}})
e = to_calendar_event({"id": "e", "summary": "Lunch\r\nBcc: eve@evil.example\x1b[31m",
    "start": {"dateTime": "2024-03-01T09:00:00Z"}, "end": {"dateTime": "2024-03-01T10:00:00Z"}},
    "primary")
bad = lambda s: sum(ord(c) < 32 or ord(c) == 127 for c in (s or ""))
print(json.dumps({"bcc": [a.email for a in m.bcc], "subject_controls": bad(m.subject),
                  "title_controls": bad(e.summary)}))
"""


def _sync_google(target: Target, home: Path, mbox: Path, since: str) -> tuple[Ran, Any]:
    with GoogleSandbox([mbox], user_email=OWNER) as box:
        ran = target.keepwarm(home, "connect", "google", "--sandbox", box.url, "--since", since)
    return ran, target.json(home, "accounts")


def forged_date(target: Target, work: Path) -> Row:
    parts = [
        mail(n, f"p{n}@example.org", OWNER, at(n), at(n) + timedelta(minutes=3)) for n in range(300)
    ]
    parts.append(mail(300, "forger@example.org", OWNER, datetime(2001, 5, 1, tzinfo=UTC), at(400)))
    mbox = work / "forged.mbox"
    mbox.write_text("".join(parts))
    ran, accounts = _sync_google(target, work / "home", mbox, "2024-01-01")
    run = accounts[0]["last_run"] if accounts else {}
    result = f"{accounts[0]['messages'] if accounts else '?'}/301 stored, {run.get('status')}"
    return Row(
        "Gmail: forged Date 2001 heads page 1 (300 in window)", result, ran.seconds, ran.rss_mb
    )


def _spoof_result(target: Target, home: Path) -> str:
    contacts = target.json(home, "contacts") or []
    strangers = sorted(a for c in contacts for a in c["addresses"] if a.endswith("evil.example"))
    bob = target.json(home, "contact", "bob@example.org") or {}
    last = (bob.get("last_interaction_at") or "?")[:10]
    return f"strangers as contacts {len(strangers)}, Bob's last contact {last}"


def spoofed_google(target: Target, work: Path) -> Row:
    home = work / "home"
    ran, accounts = _sync_google(target, home, spoofed_mailbox(work / "s.mbox"), "2024-01-01")
    filtered = (accounts[0]["last_run"] or {}).get("filtered", {}) if accounts else {}
    spoofed = filtered.get("from_owner_not_sent", 0)
    result = f"{_spoof_result(target, home)}; ledger from_owner_not_sent {spoofed}"
    return Row("Gmail: inbox mail From: the owner (2) + Spam", result, ran.seconds, ran.rss_mb)


def spoofed_microsoft(target: Target, work: Path) -> Row:
    home = work / "home"
    with MicrosoftSandbox([spoofed_mailbox(work / "s.mbox")], user_email=OWNER) as box:
        ran = target.keepwarm(
            home, "connect", "microsoft", "--sandbox", box.url, "--since", "2024-01-01"
        )
    return Row(
        "Outlook: inbox mail From: the owner (2) + Junk",
        _spoof_result(target, home),
        ran.seconds,
        ran.rss_mb,
    )


def history_spam_trash(target: Target, work: Path) -> Row:
    home = work / "home"
    first = work / "first.mbox"
    first.write_text(mail(1, OWNER, "bob@example.org", at(0), at(0), "Sent"))
    with GoogleSandbox([first], user_email=OWNER) as box:
        target.keepwarm(home, "connect", "google", "--sandbox", box.url, "--since", "2024-01-01")
        later = work / "later.mbox"
        later.write_text(
            mail(2, OWNER, "eve@evil.example", at(120), at(120), "Spam")
            + mail(3, "carol@evil.example", OWNER, at(121), at(121), "Trash")
            + mail(4, OWNER, "dan@example.org", at(123), at(123), "Sent")
        )
        box.add_messages([later])
        ran = target.keepwarm(home, "sync", "--wait")
    accounts = target.json(home, "accounts") or [{}]
    stored = accounts[0].get("messages", "?")
    return Row(
        "Gmail history: Spam + Trash on arrival + 1 sent",
        f"{stored} stored of 2 wanted",
        ran.seconds,
        ran.rss_mb,
    )


def _calendar_row(target: Target, attack: str, path: Path) -> Row:
    ran = target.run(["-c", CONNECTOR_PROBE, str(path)], path.parent / "home")
    if ran.killed:
        result = ran.killed
    elif ran.code != 0:
        result = "failed: " + (ran.err.strip().splitlines() or ["?"])[-1][:80]
    else:
        found = json.loads(ran.out)
        result = f"{found['events']:,} occurrences, {found['lines']} lines said"
    return Row(attack, result, ran.seconds, ran.rss_mb)


def unbounded(target: Target, work: Path) -> Row:
    path = unbounded_calendar(work / "unbounded.ics")
    return _calendar_row(target, ".ics: FREQ=MINUTELY without end + weekly + one-off", path)


def big(target: Target, work: Path) -> Row:
    path = big_calendar(work / "big.ics")
    size = path.stat().st_size / 2**20
    return _calendar_row(target, f".ics: {size:.1f} MB calendar (1/4 weekly for a year)", path)


def bad_zones(target: Target, work: Path) -> Row:
    path = bad_zones_calendar(work / "zones.ics")
    ran = target.keepwarm(work / "home", "import", str(path), "--me", OWNER)
    out = ran.out.splitlines()
    read = [i for i, line in enumerate(out) if line.startswith("calendar events read")]
    events = out[read[0] + 1].split()[-1] if read else "0"
    lines = [line for line in ran.out.splitlines() if "unreadable:" in line]
    result = f"exit {ran.code}, {events} of 2 events imported, {len(lines)} lines said"
    return Row(".ics: unknown TZID and X-WR-TIMEZONE", result, ran.seconds, ran.rss_mb)


def headers(target: Target, work: Path) -> Row:
    ran = target.run(["-c", HEADER_PROBE], work / "home")
    found = json.loads(ran.out) if ran.code == 0 else {}
    result = (
        f"Bcc smuggled {found.get('bcc')}, control chars: subject "
        f"{found.get('subject_controls')}, event title {found.get('title_controls')}"
    )
    return Row("Gmail header / event title with CR LF ESC", result, ran.seconds, ran.rss_mb)


def deep(target: Target, work: Path) -> Row:
    root = deep_tree(work / "deep")
    ran = target.keepwarm(work / "home", "import", str(root), "--me", OWNER)
    imported = next(
        (line.split()[-1] for line in ran.out.splitlines() if line.strip().startswith("imported")),
        None,
    )
    said = (ran.err.strip().splitlines() or [""])[-1][:60]
    result = f"exit {ran.code}, {imported or 0} of 2 imported" + (f" ({said})" if said else "")
    remove_deep(root)
    return Row("files: tree 1,500 folders deep", result, ran.seconds, ran.rss_mb)


ATTACKS: list[Callable[[Target, Path], Row]] = [
    forged_date,
    spoofed_google,
    spoofed_microsoft,
    history_spam_trash,
    headers,
    unbounded,
    big,
    bad_zones,
    deep,
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=Path, default=REPO, help="a keepwarm checkout")
    parser.add_argument("--only", help="run the attacks whose function name contains this")
    args = parser.parse_args()
    target = Target(args.target.resolve())
    print(f"target {target.root}  (limits: {LIMIT_SECONDS:.0f} s, {LIMIT_RSS_MB:.0f} MiB)")
    print(f"| {'attack':54} | {'result':68} | {'s':>6} | {'RSS MiB':>7} |")
    for attack in ATTACKS:
        if args.only and args.only not in attack.__name__:
            continue
        with tempfile.TemporaryDirectory(prefix="kw-attack-") as work:
            row = attack(target, Path(work))
        print(
            f"| {row.attack:54} | {row.result:68} | {row.seconds:6.1f} | {row.rss_mb:7.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
