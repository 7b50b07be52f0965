"""Calendars, bad files and other inputs through the real CLI (embedded stack)."""

from __future__ import annotations

import re

from keepwarm.services.core.config import Settings
from tests.support.cli import run_cli, run_json
from tests.support.paths import TEST_DATA

ICS = TEST_DATA / "ics"


def test_bad_files_are_counted_and_the_valid_rest_imported(embedded_settings: Settings) -> None:
    out = run_cli(embedded_settings, "import", str(TEST_DATA / "bad"), "--me", "x@example.com")
    # garbled.ics was read event by event: a caveat on the events kept, not an unreadable record
    assert re.search(r"unreadable\s+7\b", out), out
    assert re.search(r"read in part \(kept\)\s+1\b", out), out
    # Control characters quoted from a file are escaped, never sent to the terminal (the line
    # is cut at 160 characters, so how much of the quote shows depends on the path's length)
    assert not [c for c in out if c != "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0)], out
    assert "parsed into parts: '\\x00" in out, out
    assert "binary-garbage: binary data" in out
    # good.eml and the readable half of truncated.mbox.gz still came in
    assert re.search(r"imported\s+18\b", out), out
    again = run_cli(embedded_settings, "import", str(TEST_DATA / "bad"), "--me", "x@example.com")
    assert re.search(r"duplicates\s+18\b", again), again


def test_small_meetings_make_relationships(embedded_settings: Settings) -> None:
    run_cli(
        embedded_settings,
        "import",
        str(ICS / "icaljs" / "recur_instances.ics"),
        "--me",
        "jlal@mozilla.com",
    )
    contacts = run_json(embedded_settings, "contacts", "--as-of", "2013-01-31")
    by_address = {c["addresses"][0]: c for c in contacts}
    assert set(by_address) == {
        "calmozilla1@gmail.com",
        "james@lightsofapollo.com",
        "iam.revelation@gmail.com",
    }
    assert by_address["calmozilla1@gmail.com"]["name"] == "Sahaja Lal"
    assert by_address["iam.revelation@gmail.com"]["name"] is None  # CN was the address
    assert all(c["meetings"] > 0 and c["emails_sent"] == 0 for c in contacts)


def test_a_meeting_the_owner_declined_is_no_interaction(embedded_settings: Settings) -> None:
    declined = ICS / "apparmor" / "008-declined.ics"
    run_cli(embedded_settings, "import", str(declined), "--me", "otto@seravo.fi")
    assert run_json(embedded_settings, "contacts") == []
    # The same invitation seen by an attendee who did not decline is a meeting with the others
    other = Settings(home=embedded_settings.home.parent / "other")
    run_cli(other, "import", str(declined), "--me", "john.johansen@canonical.com")
    assert {c["addresses"][0] for c in run_json(other, "contacts")} >= {"otto@seravo.fi"}


def test_cancelled_occurrences_are_no_interaction(embedded_settings: Settings) -> None:
    path = ICS / "recurring-ical-events" / "issue_18_cancel_status.ics"
    out = run_cli(embedded_settings, "import", str(path), "--me", "nobody@example.com")
    assert "cancelled" in out
