"""Benchmark: the operator's attacks of issue 9 (keys, tokens, CLI, outbox, OAuth, links), one
row each, against any checkout of keepwarm.

    python bench/attacks_operator.py [--repo PATH] [--timeout 60]

`--repo` is a checkout with its own `.venv` (default: this one); every attack runs with that
checkout's Python and `keepwarm`, so the same script gives the "before" figures on an older
commit. Each attack runs in a fresh process and a fresh KEEPWARM_HOME, with a deadline (a
command still running then is killed and reported as such). A row says what happened
(outcome), the command's exit status, how many lines it wrote to stderr (tracebacks
included), its seconds, and the account's status where there is one. Needs PostgreSQL and
Redis (TEST_DATABASE_URL, TEST_REDIS_URL, default the local servers) for the production rows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Run inside the target checkout's Python before each attack: how to run its CLI, with a
# deadline, and how to report a row.
PRELUDE = """
import json, os, subprocess, sys, time, stat
from pathlib import Path
TIMEOUT = float(os.environ["ATTACK_TIMEOUT"])
HOME = Path(os.environ["ATTACK_TMP"]) / "home"
BASE = {k: v for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL") and not k.startswith("KEEPWARM_")}
BASE["KEEPWARM_HOME"] = str(HOME)
GOOD_TOKEN_KEY = "x3Oa5b5JmWZf7w3Gq8yBv2nq0d3Yk1HnM5m3p8QJX1Q="

def cli(*args, env=None, timeout=None):
    full = dict(BASE); full.update(env or {})
    started = time.monotonic()
    try:
        p = subprocess.run([sys.executable, "-m", "keepwarm", *args], capture_output=True,
                           text=True, env=full, timeout=timeout or TIMEOUT)
        return p.returncode, p.stdout, p.stderr, time.monotonic() - started
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return None, "", err, time.monotonic() - started

def lines(text):
    return len([l for l in text.splitlines() if l.strip()])

def emit(outcome, rc=None, err="", seconds=0.0, status="-"):
    print(json.dumps({"outcome": outcome, "exit": "killed" if rc is None and seconds else rc,
                      "lines": lines(err), "seconds": round(seconds, 1), "status": status}))

def first(err):
    return (err.strip().splitlines() or [""])[-1][:90]

def account_status(env):
    rc, out, err, _ = cli("accounts", "--json", env=env)
    if rc != 0:
        return "accounts failed"
    items = json.loads(out)
    return items[0]["status"] if items else "none"
"""

ATTACKS: dict[str, str] = {
    "KEEPWARM_SECRET_KEY empty": """
        rc, out, err, s = cli("digest", "--preview", env={"KEEPWARM_SECRET_KEY": ""})
        emit("refused: " + first(err) if rc == 2 else "accepted (links signed with '')", rc, err, s)
    """,
    "KEEPWARM_SECRET_KEY 1 char": """
        rc, out, err, s = cli("digest", "--preview", env={"KEEPWARM_SECRET_KEY": "x"})
        emit("refused: " + first(err) if rc == 2 else "accepted (signed with 'x')", rc, err, s)
    """,
    "secret_key file 3 chars": """
        HOME.mkdir(mode=0o700, parents=True); (HOME / "secret_key").write_text("abc")
        rc, out, err, s = cli("digest", "--preview")
        emit("refused: " + first(err) if rc == 2 else "accepted", rc, err, s)
    """,
    "KEEPWARM_TOKEN_KEY empty": """
        rc, out, err, s = cli("contacts", env={"KEEPWARM_TOKEN_KEY": ""})
        emit("refused: " + first(err) if rc == 2 else "accepted", rc, err, s)
    """,
    "production without REDIS_URL": """
        env = {"DATABASE_URL": os.environ["ATTACK_PG"], "KEEPWARM_TOKEN_KEY": GOOD_TOKEN_KEY,
               "KEEPWARM_SECRET_KEY": "s" * 40}
        rc, out, err, s = cli("contacts", env=env)
        emit("refused: " + first(err) if rc == 2 else "started (locks per process)", rc, err, s)
    """,
    "file modes (umask 022)": """
        os.umask(0o022)
        out_file = Path(os.environ["ATTACK_TMP"]) / "digest.html"
        rc, out, err, s = cli(
            "digest", "--preview", "--as-of", "2001-06-30", "--out", str(out_file)
        )
        mode = lambda p: format(stat.S_IMODE(p.stat().st_mode), "o")
        emit(f"home {mode(HOME)}, db {mode(HOME / 'keepwarm.sqlite3')}, "
             f"secret_key {mode(HOME / 'secret_key')}, --out {mode(out_file)}", rc, err, s)
    """,
    "3x 503 refreshing a Google token": """
        from keepwarm.connectors.sandbox.google import GoogleSandbox
        offset = [0.0]
        seed = Path("tests/data/enron/delainey-d").resolve()
        env = {"KEEPWARM_TOKEN_KEY": GOOD_TOKEN_KEY}
        with GoogleSandbox([seed], clock=lambda: time.monotonic() + offset[0]) as box:
            cli("connect", "google", "--sandbox", box.url, "--since", "1999-01-01", "--no-sync",
                env=env)
            offset[0] = 7200.0  # the access token has expired since
            box.fail_with_status(503, 3, path_prefix="/token")
            rc, out, err, s = cli("sync", env=env)
        rc2, listed, _, _ = cli("accounts", "--json", env=env)
        [a] = json.loads(listed)
        emit(f"{a['messages']} messages stored, last run {a['last_run']['status']}", rc, err, s,
             a["status"])
    """,
    "wrong KEEPWARM_TOKEN_KEY on sync": """
        from keepwarm.connectors.sandbox.google import GoogleSandbox
        from cryptography.fernet import Fernet
        seed = Path("tests/data/enron/delainey-d").resolve()
        right = {"KEEPWARM_TOKEN_KEY": GOOD_TOKEN_KEY}
        wrong = {"KEEPWARM_TOKEN_KEY": Fernet.generate_key().decode()}
        with GoogleSandbox([seed]) as box:
            cli("connect", "google", "--sandbox", box.url, "--since", "1999-01-01", "--no-sync",
                env=right)
            rc, out, err, s = cli("sync", env=wrong)
            status = account_status(wrong)
        tracebacks = err.count("Traceback")
        if rc is None:
            what = f"still retrying when killed, {tracebacks} tracebacks"
        elif rc == 2 and lines(err) == 1:
            what = "stopped: " + first(err)
        else:
            what = f"exit {rc}, {tracebacks} tracebacks"
        emit(what, rc, err, s, status)
    """,
    "[/x] and [link=...] in names (contacts, contact, suggestions)": """
        from datetime import datetime, timedelta, timezone
        from email.utils import format_datetime
        mbox = Path(os.environ["ATTACK_TMP"]) / "hostile.mbox"
        names = {"jane@evil.example": "[link=https://evil.example]Jane Doe[/link]",
                 "closer@evil.example": "Mallory [/x] Closer"}
        parts, n = [], 0
        for address, name in names.items():
            for month in range(10):
                at = datetime(2000, 1, 10, 9, tzinfo=timezone.utc) + timedelta(days=30 * month)
                for frm, to in (("me@corp.example", f'"{name}" <{address}>'),
                                (f'"{name}" <{address}>', "me@corp.example")):
                    n += 1
                    parts.append(f"From x {at:%a %b %d %H:%M:%S %Y}\\nFrom: {frm}\\nTo: {to}\\n"
                                 f"Subject: hi\\nDate: {format_datetime(at)}\\n"
                                 f"Message-ID: <m{n}@corp.example>\\n\\nbody\\n\\n")
                    at += timedelta(hours=3)
        mbox.write_text("".join(parts))
        cli("import", str(mbox), "--me", "me@corp.example")
        term = {"FORCE_COLOR": "1", "COLUMNS": "200", "TERM": "xterm-256color"}
        results, total, worst, errors = [], 0.0, 0, ""
        for args in (("contacts", "--as-of", "2001-06-30"), ("contact", "closer@evil.example"),
                     ("suggestions", "--as-of", "2001-06-30")):
            rc, out, err, s = cli(*args, env=term)
            total += s
            errors += err
            worst = max(worst, rc if rc is not None else 99)
            shown = "internal error" if "internal error" in err else (
                "hyperlink" if "\\x1b]8;" in out else "literal")
            results.append(f"{args[0]} {rc} {shown}")
        emit("; ".join(results), worst, errors, total)
    """,
    "?bcc= in an address (mailto: href)": """
        from keepwarm.services.notify import render
        template = render._env.get_template("prompt.html")
        source = template.environment.loader.get_source(template.environment, "prompt.html")[0]
        line = [l for l in source.splitlines() if "mailto" in l][0]
        t = render._env.from_string(line)  # the template's own line, its own filters

        class E:
            pass
        e = E()
        e.person = E()
        e.person.address = "jane@acme.example?bcc=me@evil.example"
        e.last = "x"
        out = t.render(entry=e)
        href = out.split('href="')[1].split('"')[0]
        emit(("smuggled: " if "?bcc=" in href else "encoded: ") + href, 0, "", 0.0)
    """,
    "CR/LF in a meeting title (prompt)": """
        from datetime import datetime, timezone
        from keepwarm.services.notify.mailer import build_message
        from keepwarm.services.notify.render import RenderedEmail
        mail = RenderedEmail("After \\u201cIntro\\r\\nBcc: victim@x.example\\u201d: a note?", "t",
                             "<p>h</p>", "https://kw.example/u/t")
        started = time.monotonic()
        try:
            build_message(mail, mail_from="kw <kw@kw.example>", to="me@corp.example",
                          message_id="<1@kw.example>", date=datetime.now(timezone.utc))
            what = "built: one-line subject"
        except Exception as exc:
            # In send_delivery this ran outside the failure handling: the claim stayed "sending"
            what = f"{type(exc).__name__} while building: delivery left 'sending'"
        emit(what, 0, "", time.monotonic() - started)
    """,
    "taken-over send marked failed by its old claimer": """
        import inspect
        from datetime import datetime, timedelta, timezone
        from sqlalchemy import select
        from keepwarm.services.core.config import Settings
        from keepwarm.services.runtime import build_runtime
        from keepwarm.services.accounts.users import ensure_user
        from keepwarm.services.models import Delivery, DeliveryKind
        from keepwarm.services.notify import outbox
        rt = build_runtime(Settings(home=HOME, database_url=None, redis_url=None))
        rules = outbox.OutboxRules()
        t0 = datetime(2026, 11, 10, 12, tzinfo=timezone.utc)
        started = time.monotonic()
        with rt.session_factory() as session, session.begin():
            uid = ensure_user(session).id
            outbox.owe(session, [outbox.Owed(uid, DeliveryKind.DIGEST, "2026-W46", t0)], t0,
                       domain="kw.example")
        with rt.session_factory() as session, session.begin():
            did = session.scalar(select(Delivery.id))
            outbox.claim(session, did, t0, rules)  # A claims, stalls
        later = t0 + rules.claim_timeout + timedelta(seconds=1)
        with rt.session_factory() as session, session.begin():
            outbox.claim(session, did, later, rules)  # B takes over
            new = "claimed_at" in inspect.signature(outbox.complete).parameters
            kw = {"claimed_at": later} if new else {}
            outbox.complete(session, did, later, recipient="me@x", **kw)  # B sent it
        with rt.session_factory() as session, session.begin():
            kw = {"claimed_at": t0} if new else {}
            outbox.fail(session, did, later, "421 from A's server", rules, **kw)  # A wakes up
        with rt.session_factory() as session:
            d = session.get(Delivery, did)
            due = outbox.sendable_ids(session, later + timedelta(hours=3), rules)
        what = f"row {d.status}, due again: {bool(due)}"
        rt.close()
        emit(what, 0, "", time.monotonic() - started)
    """,
    "/favicon.ico to the OAuth loopback": """
        import http.client, threading
        from urllib.parse import urlsplit
        from keepwarm.workers.cli.loopback import LoopbackReceiver
        r = LoopbackReceiver()
        if hasattr(r, "expect"):
            r.expect("the-state")
        c = http.client.HTTPConnection(urlsplit(r.redirect_uri).netloc, timeout=10)
        started = time.monotonic()
        c.request("GET", "/favicon.ico"); status = c.getresponse().status; c.close()
        ended = r.wait(timeout=0.5)
        r.close()
        emit(f"favicon {status}; " + ("wait ended: connect fails (no code)" if ended is not None
             else "ignored, still waiting for the redirect"), 0, "", time.monotonic() - started)
    """,
    "unsubscribe link for a user that does not exist": """
        from datetime import datetime, timedelta, timezone
        from fastapi.testclient import TestClient
        from keepwarm.services.core.config import Settings
        from keepwarm.services.runtime import build_runtime
        from keepwarm.services.notify.links import LinkAction, LinkSigner, link_url
        from keepwarm.services.web import create_app
        rt = build_runtime(Settings(home=HOME, database_url=None, redis_url=None))
        now = datetime(2026, 11, 23, tzinfo=timezone.utc)
        signer = LinkSigner("s" * 40, timedelta(days=30), clock=lambda: now)
        app = create_app(rt, signer=signer)
        action = LinkAction.UNSUBSCRIBE_DIGEST
        url = link_url("", action, signer.token(424242, action))
        started = time.monotonic()
        with TestClient(app) as client:
            r = client.post(url, data={"List-Unsubscribe": "One-Click"})
        title = r.text.split("<h1>")[1].split("</h1>")[0] if "<h1>" in r.text else ""
        rt.close()
        emit(f"{r.status_code} {title!r}", 0, "", time.monotonic() - started)
    """,
    "lease script reads an undeclared key": """
        import re
        from keepwarm.services.core import locks, quota
        bad = []
        for name, script in (("locks", locks._ACQUIRE), ("quota", quota._SPEND)):
            for cmd, key in re.findall(r"redis\\.call\\(\\s*'(\\w+)'\\s*,\\s*([^,)]+)", script):
                if not re.fullmatch(r"KEYS\\[\\d+\\]", key.strip()):
                    bad.append(f"{name}: {cmd} {key.strip()}")
        emit("undeclared: " + "; ".join(bad) if bad else "every key declared", 0, "", 0.0)
    """,
}


def run_attack(repo: Path, name: str, body: str, timeout: float) -> dict[str, object]:
    python = repo / ".venv" / "bin" / "python"
    with tempfile.TemporaryDirectory(prefix="kw-attack-") as tmp:
        env = {
            **os.environ,
            "ATTACK_TMP": tmp,
            "ATTACK_TIMEOUT": str(timeout),
            "ATTACK_PG": os.environ.get(
                "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
            ),
        }
        code = PRELUDE + textwrap.dedent(body)
        try:
            proc = subprocess.run(
                [str(python), "-c", code],
                cwd=repo,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout * 4,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {"attack": name, "outcome": "bench deadline passed", "exit": "killed"}
    rows = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not rows:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"attack": name, "outcome": f"attack could not run: {tail[:100]}", "exit": "-"}
    return {"attack": name, **json.loads(rows[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repo", type=Path, default=REPO)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--only", help="run the attacks whose name contains this")
    args = parser.parse_args()
    print(f"checkout: {args.repo}")
    print("| attack | outcome | exit | stderr lines | seconds | account status |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, body in ATTACKS.items():
        if args.only and args.only not in name:
            continue
        row = run_attack(args.repo.resolve(), name, body, args.timeout)
        cells = [row.get(k, "-") for k in ("outcome", "exit", "lines", "seconds", "status")]
        print(f"| {name} | " + " | ".join(str(c) for c in cells) + " |", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
