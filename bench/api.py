"""Benchmark: the queue page and the queue API under load, for a user with a big network.

    python bench/api.py [--contacts 10000] [--interactions 500000] [--concurrency 50]
                        [--requests 2000] [--database-url postgresql://postgres@127.0.0.1/postgres]
                        [--redis-url redis://127.0.0.1:6379/0] [--cache-seconds 60]
                        [--workers N] [--keep] [--reuse kw_bench_api_XXXXXXXX]

Builds a fresh PostgreSQL database beside the given one with one user holding N contacts and M
interactions (COPY; each contact's history has its own rhythm over three years), a session and
an API token. Starts `keepwarm serve` as its own process (production mode: PostgreSQL, Redis),
then, from this second process, sends `--requests` requests with `--concurrency` in flight to
each of `GET /api/v1/queue?limit=50` (bearer token) and `GET /queue` (session cookie), and prints
p50/p90/p99/max, throughput and the server's CPU time per request (all its processes; not
PostgreSQL's). `--keep` leaves the database; `--reuse NAME` serves a kept one again without
building it (nor the anchor). The anchor, measured first in this process, is one computation
of the whole queue from every interaction (load them, per-contact statistics, fit, rank): what
one request cost before the statistics were kept. Then the worker's job builds them
(services/reconnect/store.py), as it does after each derivation, and the server reads the
queue from them (`--cache-seconds 0`: on every request, without the web's cache).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import math
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from keepwarm.services.accounts.sessions import start_session  # noqa: E402
from keepwarm.services.accounts.tokens import create_token  # noqa: E402
from keepwarm.services.core.crypto import TokenCipher  # noqa: E402
from keepwarm.services.core.db import make_engine, make_session_factory, migrate  # noqa: E402
from keepwarm.services.reconnect import QueueRules, store  # noqa: E402
from keepwarm.services.reconnect.lifecycle import LifecycleRules, states_at  # noqa: E402
from keepwarm.services.reconnect.views import suggestions_from_history  # noqa: E402

KINDS = ("sent", "received", "met")


def _database(admin_url: str) -> tuple[str, str]:
    name = f"kw_bench_api_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{admin_url.rsplit('/', 1)[0]}/{name}", name


def _copy(conn: psycopg.Connection, table: str, columns: str, rows: io.StringIO) -> None:
    rows.seek(0)
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        while chunk := rows.read(1 << 20):
            copy.write(chunk)


def _populate(url: str, contacts: int, interactions: int, now: datetime) -> int:
    """One user, `contacts` people with an address each, `interactions` spread among them."""
    rng = random.Random(11)
    with psycopg.connect(url) as conn:
        user_id = conn.execute(
            "INSERT INTO users (handle, created_at, timezone, digest_weekday, digest_hour, "
            "digests_enabled, prompts_enabled) VALUES ('bench', %s, 'UTC', 0, 8, true, true) "
            "RETURNING id",
            (now,),
        ).fetchone()[0]  # type: ignore[index]
        people, addresses = io.StringIO(), io.StringIO()
        for n in range(1, contacts + 1):
            people.write(f"{n}\t{user_id}\tPerson {n}\n")
            addresses.write(f"{n}\t{user_id}\tperson{n}@org{n % 500}.example\t{n}\n")
        _copy(conn, "people", "id, user_id, display_name", people)
        _copy(conn, "person_addresses", "id, user_id, address, person_id", addresses)
        # Heavy-tailed: a few contacts hold many interactions, most hold a few (as in real
        # mailboxes); each contact keeps its own rhythm and its own last contact.
        weights = [1 / (i + 10) ** 0.8 for i in range(contacts)]
        scale = interactions / sum(weights)
        counts = [max(1, int(w * scale)) for w in weights]
        counts[0] += interactions - sum(counts)
        rows = io.StringIO()
        key = 0
        for person, count in enumerate(counts, start=1):
            last = now - timedelta(days=rng.uniform(0, 700))
            gap = rng.uniform(2, 60)
            for i in range(count):
                at = last - timedelta(days=gap * i + rng.uniform(0, gap / 2))
                kind = KINDS[0] if rng.random() < 0.5 else KINDS[1 + (rng.random() < 0.1)]
                size = 1 if rng.random() < 0.7 else rng.randint(2, 6)
                key += 1
                rows.write(
                    f"{user_id}\t{person}\t{kind}\t{at.isoformat()}\tm:{key}\tSubject {key % 997}"
                    f"\t{size}\n"
                )
        _copy(
            conn,
            "interactions",
            "user_id, person_id, kind, at, source_key, subject, group_size",
            rows,
        )
        conn.execute("SELECT setval('people_id_seq', %s)", (contacts,))
        conn.execute("SELECT setval('person_addresses_id_seq', %s)", (contacts,))
        conn.commit()
        conn.execute("ANALYZE")
    return int(user_id)


def _credentials(sa_url: str, user_id: int, now: datetime) -> tuple[str, str]:
    engine = make_engine(sa_url)
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        token = create_token(session, user_id, "bench", now).secret
        cookie = start_session(session, user_id, now, timedelta(days=1)).token
    engine.dispose()
    return token, cookie


def _anchor(sa_url: str, user_id: int, now: datetime) -> float:
    engine = make_engine(sa_url)
    factory = make_session_factory(engine)
    best = math.inf
    for _ in range(3):
        with factory() as session:
            started = time.perf_counter()
            states = states_at(session, user_id, now, LifecycleRules())
            items = suggestions_from_history(session, user_id, now, QueueRules(), states)
            best = min(best, time.perf_counter() - started)
    engine.dispose()
    print(f"anchor: the whole queue, uncached ({len(items):,} due): {best * 1000:.0f} ms")
    return best


async def _load(
    base: str, path: str, headers: dict[str, str], total: int, concurrency: int
) -> list[float]:
    """`total` GETs of `path`, `concurrency` at a time over as many keep-alive connections.

    A bare HTTP/1.1 client on asyncio streams: what is measured is the server, not a client
    library's own work on the same two cores.
    """
    host, port = base.removeprefix("http://").split(":")
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{head}\r\n".encode()
    latencies: list[float] = []
    failures = 0
    left = total

    async def connection() -> None:
        nonlocal left, failures
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while left > 0:
                left -= 1
                started = time.perf_counter()
                writer.write(request)
                status = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                failures += not status.startswith(b"HTTP/1.1 200")
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    if failures:
        raise SystemExit(f"{failures} of {total} requests to {path} failed")
    return latencies


def _report(name: str, latencies: list[float], seconds: float) -> None:
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    print(
        f"{name}: {len(ordered)} requests in {seconds:.1f} s ({len(ordered) / seconds:.0f}/s); "
        f"p50 {pct(0.50):.1f} ms, p90 {pct(0.90):.1f} ms, p99 {pct(0.99):.1f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms, mean {statistics.mean(ordered) * 1000:.1f} ms"
    )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` and its children (the server's worker processes)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(entry.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _wait_healthy(server: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        try:
            server.wait(timeout=0.2)  # a wait on the process: it ends early if it dies
        except subprocess.TimeoutExpired:
            continue
        raise SystemExit(f"keepwarm serve exited {server.returncode}")
    raise SystemExit("keepwarm serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--interactions", type=int, default=500_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--cache-seconds", type=float, default=60.0)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=None, help="keepwarm serve --workers")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", metavar="NAME", help="serve a database kept by --keep")
    args = parser.parse_args()

    now = datetime.now(UTC).replace(microsecond=0)
    if args.reuse:
        name = args.reuse
        url = f"{args.database_url.rsplit('/', 1)[0]}/{name}"
        args.keep = True
    else:
        url, name = _database(args.database_url)
    sa_url = url.replace("postgresql://", "postgresql+psycopg://")
    print(f"database: {name}")
    try:
        if args.reuse:
            with psycopg.connect(url) as conn:
                row = conn.execute("SELECT id FROM users WHERE handle = 'bench'").fetchone()
            assert row is not None, f"{name} holds no bench user"
            user_id = int(row[0])
        else:
            user_id = _build(args, url, sa_url, now)
        token, cookie = _credentials(sa_url, user_id, now)
        _serve(args, url, token, cookie)
    finally:
        if not args.keep:
            with psycopg.connect(args.database_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _build(args: argparse.Namespace, url: str, sa_url: str, now: datetime) -> int:
    """The bench's user and data, the anchor, and the statistics the worker keeps."""
    engine = make_engine(sa_url)
    migrate(engine)
    engine.dispose()
    started = time.perf_counter()
    user_id = _populate(url, args.contacts, args.interactions, now)
    print(
        f"built: {args.contacts:,} contacts, {args.interactions:,} interactions "
        f"in {time.perf_counter() - started:.1f} s"
    )
    _anchor(sa_url, user_id, now)
    # What the worker does after the derivation that brought these interactions.
    engine = make_engine(sa_url)
    started = time.perf_counter()
    store.refresh_user(make_session_factory(engine), user_id, QueueRules(), now)
    engine.dispose()
    print(f"worker: the queue's statistics built in {time.perf_counter() - started:.1f} s")
    return user_id


def _serve(args: argparse.Namespace, url: str, token: str, cookie: str) -> None:
    """Start `keepwarm serve` and load it with each of the two requests."""
    base = f"http://127.0.0.1:{args.port}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": args.redis_url,
        "KEEPWARM_QUEUE_NAMESPACE": f"kw-bench-{uuid.uuid4().hex[:6]}",
        "KEEPWARM_TOKEN_KEY": TokenCipher.generate_key(),
        "KEEPWARM_SECRET_KEY": uuid.uuid4().hex * 2,
        "KEEPWARM_PUBLIC_URL": base,
        "KEEPWARM_QUEUE_CACHE_SECONDS": str(args.cache_seconds),
    }
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "keepwarm", "serve", "--port", str(args.port)),
            *(("--workers", str(args.workers)) if args.workers else ()),
        ],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_healthy(server, base)
        for label, path, headers in (
            (
                "queue API  GET /api/v1/queue?limit=50",
                "/api/v1/queue?limit=50",
                {"Authorization": f"Bearer {token}"},
            ),
            ("queue page GET /queue", "/queue", {"Cookie": f"keepwarm_session={cookie}"}),
        ):
            # Requests on as many connections as the load warm the server (and, with the
            # cache, fill each process's: the kernel spreads the connections over them), as
            # any running server has been.
            asyncio.run(_load(base, path, headers, 4 * args.concurrency, args.concurrency))
            began, cpu = time.perf_counter(), _cpu_seconds(server.pid)
            latencies = asyncio.run(_load(base, path, headers, args.requests, args.concurrency))
            _report(f"{label} x{args.concurrency}", latencies, time.perf_counter() - began)
            used = (_cpu_seconds(server.pid) - cpu) / args.requests
            print(f"  server CPU {used * 1000:.2f} ms a request; load average {os.getloadavg()}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
