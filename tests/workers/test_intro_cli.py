"""`keepwarm intro`: contacts who share small threads or meetings with the target."""

from __future__ import annotations

from pathlib import Path

from keepwarm.services.core.config import Settings
from tests.support.cli import run_cli, run_json, run_process


def write(folder: Path, n: int, head: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / str(n)).write_text(
        f"{head}\nSubject: note {n}\nDate: Mon, {n + 1} Jan 2001 10:00:00 +0000\n\nbody\n"
    )


def test_ranks_introducers_by_evidence_and_the_owners_tie(tmp_path: Path) -> None:
    box = tmp_path / "mail"
    # The owner knows Ann well and Bo a little; both were on threads with Zoe at zeta.com
    for n in range(6):
        write(box / "sent", n, "From: me@home.org\nTo: Ann Lee <ann@alpha.com>")
    write(box / "sent", 6, "From: me@home.org\nTo: Bo Chan <bo@beta.com>")
    write(box / "inbox", 7, "From: ann@alpha.com\nTo: me@home.org\nCc: zoe@zeta.com")
    write(box / "inbox", 8, "From: bo@beta.com\nTo: me@home.org, zoe@zeta.com")
    write(box / "inbox", 9, "From: bo@beta.com\nTo: me@home.org\nCc: max@zeta.com")
    # A crowd mail with Zoe is no evidence that its readers know her
    crowd = ", ".join(f"p{i}@crowd.org" for i in range(20))
    write(box / "inbox", 10, f"From: ann@alpha.com\nTo: me@home.org, zoe@zeta.com, {crowd}")
    settings = Settings(home=tmp_path / "home")
    run_cli(settings, "import", str(box))
    by_person = run_json(settings, "intro", "zoe@zeta.com")
    assert [p["contact"]["addresses"] for p in by_person] == [["ann@alpha.com"], ["bo@beta.com"]]
    assert by_person[0]["threads"] == 1
    assert "on 1 thread with zoe@zeta.com" in by_person[0]["evidence"]
    by_domain = run_json(settings, "intro", "zeta.com")
    assert {p["contact"]["addresses"][0]: p["threads"] for p in by_domain} == {
        "ann@alpha.com": 1,
        "bo@beta.com": 2,
    }
    assert run_json(settings, "intro", "nobody@nowhere.net") == []
    proc = run_process(settings, "intro", "me@home.org")
    assert proc.returncode == 2 and "your own address" in proc.stderr
    proc = run_process(settings, "intro", "not a domain")
    assert proc.returncode == 2 and "not an address or a domain" in proc.stderr
