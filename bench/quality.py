"""Benchmark: does the reconnect queue predict whom the owner talks to next?

    python bench/quality.py [--mailboxes delainey-d presto-k ...] [--json out.json]
                            [--detail] [--markdown] [--cutoffs 2000-10-01 ...]
                            [--prior lomo|shipped|FILE] [--replay]

By default every shared mailbox (../shared/data/enron/* and ../shared/data/enron-more/*; a
name there or a path): import it once into a temporary KEEPWARM_HOME with `keepwarm import`,
pick cut-off dates D with enough data, and at each D rank with the stable CLI only (`keepwarm
suggestions --as-of D --json`, which uses no data after D). Then check the queue against what
the owner actually did next: a contact is a hit if the owner and they were in touch in the 90
days after D. The truth also comes from the CLI contract: `keepwarm contacts --as-of D` and
`--as-of D+90` give each contact's counts and last interaction before and after the window,
so the difference is what happened inside it.

The ranker's prior is fitted on the shared mailboxes, so a shared mailbox is only ever ranked
with a prior fitted without it (--prior lomo, the default: bench/ranker_prior.py refits it from
the other shared mailboxes and the CLI reads it from KEEPWARM_RANKER_PRIOR). A mailbox from
elsewhere gets the packaged prior, which never saw it.

Two truths, because the shared Enron mailboxes keep received mail only for some stretches:
- owner: the owner wrote to them or met them in the window (the owner's sent folders are the
  most complete part of these exports);
- any: any interaction in the window (sent, received or met).

Two pools, each ranked by the engine and by simple baselines in the same run:
- due: the engine's own full queue at D (every baseline reorders exactly these people);
- all: every relationship at D silent past the floor (3 months), since the engine's due
  filter is part of what is judged; the engine still answers with its own queue.

Baselines: longest silence first, shortest silence first ("recent"), most interactions first
(sent + received + meetings), random (mean of 100 seeded shuffles); ties within a baseline are
scored as random order (exact expectation). And Gmail's Interactions Rank (Roth et al. 2010)
with half-lives of 30, 60 and 90 days and outgoing weights 1 and 2, from the interactions in
the database.

Cut-offs are the first day of each month; one is used only if, from the database (read-only,
only to find where the data is and for Interactions Rank): the owner sent at least --min-sent
messages in the 90 days after it, there are at least --min-history days of history before it
and at least --min-pool relationships past the floor. The others are listed with the reason
they were skipped. P@k is the share of hits among the first k (a list shorter than k loses the
slots). Goal, per mailbox: the engine's P@10 (owner truth, due pool) averaged over the
cut-offs above the best simple baseline at each cut-off averaged, and above every Interactions
Rank variant. --replay adds a simulated owner answering each week's digest
(bench/quality_replay.py).
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from quality_metrics import (
    BASELINES,
    IR_VARIANTS,
    Person,
    best_possible,
    expected_precision,
    interactions_rank,
    parse_time,
    person_from_json,
    precision,
    random_precision,
)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
MAILBOX_FOLDERS = (SHARED / "enron", SHARED / "enron-more")
DAYS_PER_MONTH = 30.44  # the engine's month (services/reconnect/engine.py)
KS = (5, 10)
TRUTHS = {
    "owner": "owner wrote to or met them in the window",
    "any": "any interaction in the window (sent, received, met)",
}
POOLS = {
    "due": "the engine's due list",
    "all": "all relationships past the floor",
}
SMALL_GROUP = 3  # "wrote to them alone or with at most two others" (group_size counts others)
GOAL_BASELINES = tuple(name for name, (_, goal) in BASELINES.items() if goal)
ALL_METHODS = ("engine", *BASELINES, *IR_VARIANTS)
EPS = 1e-9


# --------------------------------------------------------------------------- running keepwarm


def keepwarm_executable(given: str | None) -> str:
    if given:
        return given
    beside = Path(sys.executable).with_name("keepwarm")
    if beside.exists():
        return str(beside)
    found = shutil.which("keepwarm")
    if not found:
        sys.exit("quality.py: no `keepwarm` beside this Python or on PATH; pass --keepwarm")
    return found


class CliError(RuntimeError):
    pass


@dataclass
class Cli:
    exe: str
    calls: int = 0
    seconds: float = 0.0

    def run(
        self, home: Path, *args: str, timeout: float = 900, extra: dict[str, str] | None = None
    ) -> str:
        env = dict(os.environ, KEEPWARM_HOME=str(home), **(extra or {}))
        for variable in ("DATABASE_URL", "REDIS_URL"):  # always the embedded mode
            env.pop(variable, None)
        start = time.perf_counter()
        done = subprocess.run(
            [self.exe, *args], env=env, capture_output=True, text=True, timeout=timeout
        )
        self.calls += 1
        self.seconds += time.perf_counter() - start
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            command = " ".join(args)
            raise CliError(f"keepwarm {command} exited {done.returncode}: {' | '.join(tail)}")
        return done.stdout

    def json(self, home: Path, *args: str, extra: dict[str, str] | None = None) -> Any:
        out = self.run(home, *args, extra=extra)
        try:
            return json.loads(out)
        except json.JSONDecodeError as exc:
            raise CliError(f"keepwarm {' '.join(args)}: not JSON ({exc}): {out[:200]!r}") from None


# --------------------------------------------------------------------------- where the data is


@dataclass
class Activity:
    """What the database says about when the mailbox has data (only used to pick cut-offs)."""

    first_at: datetime
    last_at: datetime
    owner_messages: list[datetime]  # distinct messages/events the owner sent or attended
    received_messages: list[datetime]
    person_times: dict[int, list[datetime]]  # every interaction, sorted
    person_points: dict[int, list[tuple[datetime, str]]]  # (when, kind), for Interactions Rank
    person_first_personal: dict[int, datetime]  # first sent/met
    person_first_small: dict[int, datetime]  # first sent/met with at most SMALL_GROUP people
    address_person: dict[str, int]


def read_activity(db: Path) -> Activity | None:
    """None when the database cannot be read (a changed schema): then --cutoffs is needed."""
    uri = f"file:{db}?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            rows = conn.execute(
                "SELECT person_id, kind, at, source_key, group_size FROM interactions"
            ).fetchall()
            addresses = conn.execute("SELECT address, person_id FROM person_addresses").fetchall()
    except sqlite3.Error as exc:
        print(f"  cannot read interactions from {db} ({exc})")
        return None
    if not rows:
        raise CliError(f"{db}: no interactions were derived")
    owner: dict[str, datetime] = {}
    received: dict[str, datetime] = {}
    times: dict[int, list[datetime]] = {}
    points: dict[int, list[tuple[datetime, str]]] = {}
    first_personal: dict[int, datetime] = {}
    first_small: dict[int, datetime] = {}
    for person, kind, at, source, group_size in rows:
        moment = parse_time(str(at))
        times.setdefault(person, []).append(moment)
        points.setdefault(person, []).append((moment, str(kind)))
        if kind in ("sent", "met"):
            owner[source] = moment
            if person not in first_personal or moment < first_personal[person]:
                first_personal[person] = moment
            small = (group_size or 1) <= SMALL_GROUP
            if small and (person not in first_small or moment < first_small[person]):
                first_small[person] = moment
        elif kind == "received":
            received[source] = moment
    for values in times.values():
        values.sort()
    every = [t for values in times.values() for t in values]
    return Activity(
        first_at=min(every),
        last_at=max(every),
        owner_messages=sorted(owner.values()),
        received_messages=sorted(received.values()),
        person_times=times,
        person_points={person: sorted(values) for person, values in points.items()},
        person_first_personal=first_personal,
        person_first_small=first_small,
        address_person={str(a).lower(): int(pid) for a, pid in addresses},
    )


def end_of_day(day: date) -> datetime:
    """The CLI's --as-of instant: the end of that day in UTC."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC) - timedelta(
        microseconds=1
    )


def count_between(values: list[datetime], low: datetime, high: datetime) -> int:
    """How many of the sorted `values` fall in (low, high]."""
    return bisect.bisect_right(values, high) - bisect.bisect_right(values, low)


@dataclass
class Candidate:
    day: date
    history_days: int
    owner_next: int
    received_next: int
    past_floor: int
    reason: str | None = None  # why it was skipped; None when chosen


def candidate_at(activity: Activity | None, day: date, args: argparse.Namespace) -> Candidate:
    """What the data looks like around cut-off `day` (the end of that day); -1: unknown."""
    if activity is None:
        return Candidate(day, -1, -1, -1, -1)
    cut = end_of_day(day)
    horizon = timedelta(days=args.horizon)
    floor = timedelta(days=args.floor_months * DAYS_PER_MONTH)
    past_floor = 0
    for person, first in activity.person_first_personal.items():
        times = activity.person_times[person]
        if first <= cut and cut - times[bisect.bisect_right(times, cut) - 1] > floor:
            past_floor += 1
    return Candidate(
        day=day,
        history_days=(cut - activity.first_at).days,
        owner_next=count_between(activity.owner_messages, cut, cut + horizon),
        received_next=count_between(activity.received_messages, cut, cut + horizon),
        past_floor=past_floor,
    )


def candidates(activity: Activity, args: argparse.Namespace) -> list[Candidate]:
    """The first day of every month the mailbox covers."""
    out: list[Candidate] = []
    day = date(activity.first_at.year, activity.first_at.month, 1)
    while day <= activity.last_at.date():
        out.append(candidate_at(activity, day, args))
        day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return out


def choose(cands: list[Candidate], args: argparse.Namespace) -> list[Candidate]:
    """Mark every candidate with its reason to be skipped; return the chosen ones."""
    chosen: list[Candidate] = []
    for c in cands:
        if c.history_days < args.min_history:
            c.reason = f"history < {args.min_history} days"
        elif c.owner_next < args.min_sent:
            c.reason = f"owner sent < {args.min_sent} messages in the {args.horizon} days after"
        elif c.past_floor < args.min_pool:
            c.reason = f"relationships past the floor < {args.min_pool}"
        elif chosen and (c.day - chosen[-1].day).days < args.spacing:
            c.reason = f"within {args.spacing} days of the previous cut-off"
        else:
            chosen.append(c)
    return chosen


def describe_skips(cands: list[Candidate]) -> list[str]:
    """Skipped candidates, runs of the same reason folded into one line."""
    lines: list[str] = []
    for reason, group_iter in itertools.groupby(cands, key=lambda c: c.reason):
        group = list(group_iter)
        span = f"{group[0].day}" + (f"..{group[-1].day}" if len(group) > 1 else "")
        if reason is None:
            continue
        sent = sorted({c.owner_next for c in group})
        floor = sorted({c.past_floor for c in group})
        lines.append(
            f"    skip {span:<22} {reason} (owner msgs next: {_range(sent)}; "
            f"past floor: {_range(floor)})"
        )
    return lines


def _range(values: list[int]) -> str:
    return str(values[0]) if values[0] == values[-1] else f"{values[0]}-{values[-1]}"


# --------------------------------------------------------------------------- scoring a cut-off


@dataclass
class Case:
    mailbox: str
    cand: Candidate
    activity: Activity | None
    suggestions: list[Person] = field(default_factory=list)
    raw_suggestions: list[dict[str, Any]] = field(default_factory=list)
    now: dict[str, Person] = field(default_factory=dict)  # address -> contact at D
    future: dict[str, Person] = field(default_factory=dict)  # address -> contact at D+h
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)


def by_address(items: Iterable[dict[str, Any]]) -> dict[str, Person]:
    out: dict[str, Person] = {}
    for item in items:
        person = person_from_json(item)
        for address in person.addresses:
            out[address] = person
    return out


def lookup(table: dict[str, Person], person: Person) -> Person | None:
    for address in person.addresses:
        if address in table:
            return table[address]
    return None


def truths_for(case: Case, people: Iterable[Person]) -> dict[str, set[str]]:
    """Keys of the people who were in touch with the owner in (D, D+h], under each truth."""
    cut = end_of_day(case.cand.day)
    hits: dict[str, set[str]] = {"owner": set(), "any": set()}
    for person in people:
        before = lookup(case.now, person) or person
        after = lookup(case.future, person)
        if after is None:  # a relationship at D is one at D+h; absent means no data
            continue
        if after.last_at > cut or after.volume > before.volume:
            hits["any"].add(person.key)
        if after.sent + after.meetings > before.sent + before.meetings:
            hits["owner"].add(person.key)
    return hits


def score_case(case: Case, floor_months: float) -> dict[str, Any]:
    cut = end_of_day(case.cand.day)
    floor = timedelta(days=floor_months * DAYS_PER_MONTH)
    engine = case.suggestions
    everyone = {p.key: p for p in case.now.values()}
    pools: dict[str, list[Person]] = {
        "due": engine,
        "all": [p for p in everyone.values() if cut - p.last_at > floor],
    }
    in_all = {p.key for p in pools["all"]}
    hits = truths_for(case, [*engine, *pools["all"]])
    ranks = {
        name: {p.key: ir_score(case, p, cut, *params) for p in [*engine, *pools["all"]]}
        for name, params in IR_VARIANTS.items()
    }
    order = [p.key for p in engine]
    result: dict[str, Any] = {
        "pool_sizes": {name: len(pool) for name, pool in pools.items()},
        "due_outside_floor_pool": sum(1 for p in engine if p.key not in in_all),
        "top10_personal": (sum(1 for p in engine[:10] if p.personal) / len(engine[:10]))
        if engine
        else None,
        "top10_small": small_share(case, engine[:10]),
        "metrics": {},
    }
    for truth, hit_keys in hits.items():
        for pool_name, pool in pools.items():
            keys = [p.key for p in pool]
            in_pool = sum(1 for key in keys if key in hit_keys)
            cell: dict[str, Any] = {
                "pool": len(pool),
                "hits": in_pool,
                "base_rate": in_pool / len(pool) if pool else 0.0,
            }
            for k in KS:
                scores = {"engine": precision(order, hit_keys, k)}
                for name, (sort_key, _) in BASELINES.items():
                    if sort_key is None:
                        scores[name] = random_precision(keys, hit_keys, k)
                    else:
                        scores[name] = expected_precision(pool, sort_key, hit_keys, k)
                for name, table in ranks.items():
                    scores[name] = expected_precision(
                        pool, lambda p, t=table: -t[p.key], hit_keys, k
                    )
                scores["best"] = best_possible(len(pool), in_pool, k)
                cell[f"p@{k}"] = scores
            cell["verdict"] = verdict(cell)
            cell["verdict_ir"] = verdict(cell, tuple(IR_VARIANTS))
            result["metrics"][f"{truth}/{pool_name}"] = cell
    result["engine_top10"] = [
        _describe(p, raw, hits, rank)
        for rank, (p, raw) in enumerate(zip(engine[:10], case.raw_suggestions, strict=False), 1)
    ]
    ranks = {p.key: rank for rank, p in enumerate(engine, 1)}
    result["hits_missed"] = [
        {**_describe(p, None, hits, ranks.get(p.key)), "in_due_list": p.key in ranks}
        for p in sorted(
            (p for p in pools["all"] if p.key in hits["owner"] and ranks.get(p.key, 99) > 10),
            key=lambda p: ranks.get(p.key, 10**6),
        )
    ]
    return result


def ir_score(case: Case, person: Person, cut: datetime, half_life: float, out: float) -> float:
    """Interactions Rank of `person` at `cut`, from every interaction of theirs in the database."""
    if case.activity is None:
        return 0.0
    ids = {case.activity.address_person.get(a) for a in person.addresses} - {None}
    points = [
        pt
        for i in sorted(i for i in ids if i is not None)
        for pt in case.activity.person_points.get(i, [])
    ]
    return interactions_rank(points, cut, half_life, out)


def small_share(case: Case, people: list[Person]) -> float | None:
    """Share of `people` the owner wrote to (or met) alone or with at most two others by D.

    A diagnostic from the database: `emails_sent > 0` is also true of a 9-person circular.
    """
    if not people or case.activity is None:
        return None
    cut = end_of_day(case.cand.day)
    small = 0
    for p in people:
        ids = {case.activity.address_person.get(a) for a in p.addresses} - {None}
        firsts = [case.activity.person_first_small.get(i) for i in ids if i is not None]
        if any(f is not None and f <= cut for f in firsts):
            small += 1
    return small / len(people)


def _describe(
    p: Person, raw: dict[str, Any] | None, hits: dict[str, set[str]], rank: int | None
) -> dict[str, Any]:
    return {
        "rank": rank,
        "who": p.name or p.key,
        "address": p.key,
        "last_at": p.last_at.date().isoformat(),
        "sent": p.sent,
        "received": p.received,
        "meetings": p.meetings,
        "score": raw.get("score") if raw else None,
        "typical_gap_days": raw.get("typical_gap_days") if raw else None,
        "hit_owner": p.key in hits["owner"],
        "hit_any": p.key in hits["any"],
    }


def verdict(cell: dict[str, Any], against: tuple[str, ...] = GOAL_BASELINES) -> dict[str, Any]:
    """Engine against every goal baseline on P@10: win, tie, loss, or no hits in the pool."""
    if cell["hits"] == 0:
        return {"outcome": "no hits", "beaten_by": []}
    scores = cell["p@10"]
    beaten_by = [b for b in against if scores[b] > scores["engine"] + EPS]
    if beaten_by:
        return {"outcome": "loss", "beaten_by": beaten_by}
    tied = any(abs(scores[b] - scores["engine"]) <= EPS for b in against)
    return {"outcome": "tie" if tied else "win", "beaten_by": []}


# --------------------------------------------------------------------------- the whole run


def shared_mailboxes() -> list[Path]:
    """Every shared mailbox: ../shared/data/enron/* and ../shared/data/enron-more/*."""
    return sorted(p for folder in MAILBOX_FOLDERS if folder.is_dir() for p in folder.iterdir())


def resolve_mailbox(name: str) -> Path:
    path = Path(name)
    for folder in MAILBOX_FOLDERS:
        if not path.exists():
            path = folder / name
    if not path.exists():
        places = " or ".join(str(f) for f in MAILBOX_FOLDERS)
        sys.exit(f"quality.py: no mailbox {name!r} (neither a path nor under {places})")
    return path.resolve()


def engine_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "services", "workers", "connectors"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" + uncommitted changes" if dirty else "")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--mailboxes",
        nargs="+",
        default=[m.name for m in shared_mailboxes()],
        help="names under ../shared/data/enron or enron-more, or paths (default: all of them)",
    )
    p.add_argument(
        "--prior",
        default="lomo",
        help="lomo (default): each shared mailbox ranked with a prior fitted without it; "
        "shipped: the packaged prior; or a prior file",
    )
    p.add_argument(
        "--replay",
        action="store_true",
        help="also replay a simulated owner answering each week's digest (bench/quality_replay.py)",
    )
    p.add_argument("--json", type=Path, help="write every number to this file")
    p.add_argument("--detail", action="store_true", help="print each cut-off's top 10 and misses")
    p.add_argument("--markdown", action="store_true", help="also print the README results table")
    p.add_argument("--cutoffs", nargs="+", type=date.fromisoformat, help="use these dates")
    p.add_argument("--horizon", type=int, default=90, help="days after the cut-off (90)")
    p.add_argument("--min-sent", type=int, default=30, help="owner messages in the window (30)")
    p.add_argument("--min-history", type=int, default=60, help="days before the cut-off (60)")
    p.add_argument("--min-pool", type=int, default=20, help="relationships past the floor (20)")
    p.add_argument("--spacing", type=int, default=28, help="min days between cut-offs (28)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="parallel CLI calls")
    p.add_argument("--keepwarm", help="the keepwarm executable (default: beside this Python)")
    p.add_argument("--keep", action="store_true", help="keep the temporary KEEPWARM_HOMEs")
    args = p.parse_args(argv)
    args.floor_months = float(os.environ.get("KEEPWARM_FLOOR_MONTHS", "3"))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    cli = Cli(keepwarm_executable(args.keepwarm))
    mailboxes = {Path(m).name: resolve_mailbox(m) for m in args.mailboxes}
    root = Path(tempfile.mkdtemp(prefix="kw-quality-"))
    homes = {name: root / name for name in mailboxes}
    shared = {m.name: m.resolve() for m in shared_mailboxes()}
    revision = engine_revision()
    print(f"keepwarm quality bench — engine {revision}; {cli.exe}")
    print(
        f"truth window: {args.horizon} days after the cut-off; floor {args.floor_months:g} "
        f"months; cut-offs need >= {args.min_sent} owner messages in the window, "
        f">= {args.min_history} days of history, >= {args.min_pool} relationships past the floor"
    )
    failures: list[str] = []
    try:
        with ThreadPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
            imports = {
                name: pool.submit(cli.run, homes[name], "import", str(path))
                for name, path in mailboxes.items()
            }
            cases: list[Case] = []
            print("\ncut-offs")
            for name, future in imports.items():
                try:
                    summary = future.result()
                    imported = next(
                        (ln.split()[-1] for ln in summary.splitlines() if "imported" in ln), "?"
                    )
                    activity = read_activity(homes[name] / "keepwarm.sqlite3")
                except CliError as exc:
                    failures.append(f"{name}: import failed: {exc}")
                    print(f"  {name}: import FAILED: {exc}")
                    continue
                if args.cutoffs:
                    cands = [candidate_at(activity, day, args) for day in args.cutoffs]
                    chosen = list(cands)
                elif activity is None:
                    failures.append(f"{name}: cannot find the data months; pass --cutoffs")
                    continue
                else:
                    cands = candidates(activity, args)
                    chosen = choose(cands, args)
                data = (
                    "database unreadable"
                    if activity is None
                    else f"data {activity.first_at:%Y-%m-%d}..{activity.last_at:%Y-%m-%d}; "
                    f"{len(activity.owner_messages)} owner-sent, "
                    f"{len(activity.received_messages)} received"
                )
                print(
                    f"  {name}: {imported} messages, {data}; {len(chosen)} cut-off(s): "
                    f"{', '.join(str(c.day) for c in chosen) or 'none'}"
                )
                for c in chosen:
                    print(
                        f"    use  {c.day}  history {c.history_days} d; next {args.horizon} d: "
                        f"{c.owner_next} owner-sent, {c.received_next} received; "
                        f"{c.past_floor} relationships past the floor"
                    )
                for line in describe_skips(cands):
                    print(line)
                cases.extend(Case(name, c, activity) for c in chosen)
            priors = choose_priors(args, mailboxes, shared, homes, root, cli, pool, cases)
            run_cases(cli, pool, cases, homes, args, priors)
        for case in cases:
            if case.error:
                failures.append(f"{case.mailbox} {case.cand.day}: {case.error}")
            else:
                case.result = score_case(case, args.floor_months)
        good = [c for c in cases if not c.error]
        report(good, args)
        replayed = run_replay(args, good, homes, priors) if args.replay else None
        elapsed = time.perf_counter() - started
        print(
            f"\n{len(good)} cut-offs scored in {elapsed:.0f} s ({cli.calls} keepwarm calls, "
            f"{cli.seconds:.0f} s of CLI time over {args.jobs} jobs)"
        )
        for failure in failures:
            print(f"FAILED {failure}")
        if args.json:
            numbers = dump(good, args, revision, elapsed, failures)
            if replayed is not None:
                numbers["replay"] = replayed
            args.json.write_text(json.dumps(numbers, indent=1))
            print(f"numbers written to {args.json}")
    finally:
        if args.keep:
            print(f"KEEPWARM_HOMEs kept under {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 1 if failures else 0


def choose_priors(
    args: argparse.Namespace,
    mailboxes: dict[str, Path],
    shared: dict[str, Path],
    homes: dict[str, Path],
    root: Path,
    cli: Cli,
    pool: ThreadPoolExecutor,
    cases: list[Case],
) -> dict[str, Path | None]:
    """The ranker prior each mailbox is scored with (None: the packaged one).

    lomo: a shared mailbox is never ranked by a prior that saw it. Its prior is refitted
    here from every other shared mailbox (bench/ranker_prior.py, the same fit as the packaged
    prior); a mailbox from outside the shared data gets the packaged prior, which never saw it.
    """
    scored = sorted({c.mailbox for c in cases})
    if args.prior == "shipped":
        return dict.fromkeys(scored)
    if args.prior != "lomo":
        return dict.fromkeys(scored, Path(args.prior).resolve())
    import ranker_prior  # the services packages; only needed here

    held = [n for n in scored if shared.get(n) == mailboxes[n]]
    if not held:
        return dict.fromkeys(scored)
    started = time.perf_counter()
    shared_homes = {n: homes.get(n, root / "prior-data" / n) for n in shared}
    imports = [
        pool.submit(cli.run, shared_homes[n], "import", str(path))
        for n, path in shared.items()
        if not (shared_homes[n] / "keepwarm.sqlite3").exists()
    ]
    for future in imports:
        future.result()
    data = {
        n: ranker_prior.mailbox_examples(n, shared_homes[n] / "keepwarm.sqlite3") for n in shared
    }
    folder = root / "priors"
    folder.mkdir(exist_ok=True)
    out: dict[str, Path | None] = dict.fromkeys(scored)
    for name in held:
        others = [d for n, d in data.items() if n != name]
        model = ranker_prior.fit_prior(others)
        path = folder / f"without-{name}.json"
        ranker_prior.write_prior(path, ranker_prior.prior_document(model, others))
        out[name] = path
    print(
        f"\npriors: {', '.join(held)} each ranked with a prior fitted without it, from the "
        f"other {len(shared) - 1} shared mailboxes ({time.perf_counter() - started:.0f} s)"
        + (
            f"; packaged prior for {', '.join(sorted(set(scored) - set(held)))}"
            if len(held) < len(scored)
            else ""
        )
    )
    return out


def replay_weeks(
    activity: Activity, first: date, last: date, args: argparse.Namespace
) -> list[date]:
    """Every 7th day from the first to the last cut-off that passes the same data rules."""
    weeks: list[date] = []
    day = first
    while day <= last:
        c = candidate_at(activity, day, args)
        if (
            c.history_days >= args.min_history
            and c.owner_next >= args.min_sent
            and c.past_floor >= args.min_pool
        ):
            weeks.append(day)
        day += timedelta(days=7)
    return weeks


def run_replay(
    args: argparse.Namespace,
    cases: list[Case],
    homes: dict[str, Path],
    priors: dict[str, Path | None],
) -> dict[str, Any]:
    import quality_replay  # the services packages; only needed here

    plan: dict[str, tuple[Path, list[date], Path | None]] = {}
    for mailbox in dict.fromkeys(c.mailbox for c in cases):
        mine = [c for c in cases if c.mailbox == mailbox]
        activity = mine[0].activity
        if activity is None:
            continue
        weeks = replay_weeks(activity, mine[0].cand.day, mine[-1].cand.day, args)
        if weeks:
            plan[mailbox] = (homes[mailbox] / "keepwarm.sqlite3", weeks, priors.get(mailbox))
    started = time.perf_counter()
    result = quality_replay.replay(plan, args.floor_months, args.horizon, args.jobs)
    summary = quality_replay.summarize(result)
    for line in quality_replay.report(summary):
        print(line)
    print(f"  ({time.perf_counter() - started:.0f} s)")
    if args.markdown:
        print("\nREADME replay table\n")
        print(quality_replay.markdown(summary))
    return {
        "summary": summary,
        "weeks": {
            name: {
                arm: [{"day": str(w.day), "p@5": w.p5, "p@10": w.p10, **w.answered} for w in weeks]
                for arm, weeks in arms.items()
            }
            for name, arms in result.items()
        },
    }


def run_cases(
    cli: Cli,
    pool: ThreadPoolExecutor,
    cases: list[Case],
    homes: dict[str, Path],
    args: argparse.Namespace,
    priors: dict[str, Path | None] | None = None,
) -> None:
    """Three CLI calls per cut-off, all in parallel; `contacts` at a date is asked once."""
    contacts: dict[tuple[str, date], Any] = {}
    for case in cases:
        for day in (case.cand.day, case.cand.day + timedelta(days=args.horizon)):
            key = (case.mailbox, day)
            if key not in contacts:
                contacts[key] = pool.submit(
                    cli.json, homes[case.mailbox], "contacts", "--as-of", str(day), "--json"
                )

    def prior_env(mailbox: str) -> dict[str, str]:
        path = (priors or {}).get(mailbox)
        return {"KEEPWARM_RANKER_PRIOR": str(path)} if path else {}

    queues = {
        id(case): pool.submit(
            cli.json,
            homes[case.mailbox],
            "suggestions",
            "--as-of",
            str(case.cand.day),
            "--limit",
            "100000",
            "--json",
            extra=prior_env(case.mailbox),
        )
        for case in cases
    }
    for case in cases:
        try:
            raw = queues[id(case)].result()
            case.raw_suggestions = raw
            case.suggestions = [person_from_json(item) for item in raw]
            case.now = by_address(contacts[(case.mailbox, case.cand.day)].result())
            later = case.cand.day + timedelta(days=args.horizon)
            case.future = by_address(contacts[(case.mailbox, later)].result())
        except (CliError, KeyError, TypeError, ValueError) as exc:
            case.error = str(exc)


# --------------------------------------------------------------------------- printing


def _f(value: float | None) -> str:
    return "  —" if value is None else f"{value:.2f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def report(cases: list[Case], args: argparse.Namespace) -> None:
    if not cases:
        print("\nno usable cut-off: nothing to score")
        return
    print(
        "\nper cut-off: pools from the CLI; window counts from the database; top 10 personal ="
        " wrote to or met (goal 100%); small = alone or with <= 2 others"
    )
    print(
        f"  {'mailbox':<11} {'cut-off':<10} {'history':>7} {'owner next':>10} "
        f"{'recv next':>9} {'due':>4} {'past floor':>10} {'due not past floor':>18} "
        f"{'top 10 personal':>15} {'small':>5}"
    )
    for c in cases:
        r = c.result
        print(
            f"  {c.mailbox:<11} {c.cand.day!s:<10} {c.cand.history_days:>6}d "
            f"{c.cand.owner_next:>10} {c.cand.received_next:>9} {r['pool_sizes']['due']:>4} "
            f"{r['pool_sizes']['all']:>10} {r['due_outside_floor_pool']:>18} "
            f"{_pct(r['top10_personal']):>15} {_pct(r['top10_small']):>5}"
        )
    same_pools = all(
        c.result["pool_sizes"]["due"] == c.result["pool_sizes"]["all"]
        and c.result["due_outside_floor_pool"] == 0
        for c in cases
    )
    for truth, truth_text in TRUTHS.items():
        for pool_name, pool_text in POOLS.items():
            title = f"truth: {truth_text}; pool: {pool_text}"
            if pool_name != "due" and same_pools:
                print(f"\n{title}\n  the same people as the due list at every cut-off: as above")
                continue
            metric_table(cases, f"{truth}/{pool_name}", title)
    summary(cases)
    goal_table(cases)
    if args.detail:
        details(cases)
    if args.markdown:
        print("\nREADME table\n")
        print(markdown(cases))


def metric_table(cases: list[Case], key: str, title: str) -> None:
    methods = ALL_METHODS
    print(f"\n{title}")
    head = " ".join(f"{m[:7]:>7}" for m in methods)
    print(
        f"  {'mailbox':<11} {'cut-off':<10} {'pool':>4} {'hits':>4} {'base':>5} | "
        f"P@5 {head} | P@10 {head} {'best':>5} | verdict"
    )
    for c in cases:
        cell = c.result["metrics"][key]
        p5 = " ".join(f"{_f(cell['p@5'][m]):>7}" for m in methods)
        p10 = " ".join(f"{_f(cell['p@10'][m]):>7}" for m in methods)
        v = cell["verdict"]
        text = v["outcome"] + (f" to {', '.join(v['beaten_by'])}" if v["beaten_by"] else "")
        print(
            f"  {c.mailbox:<11} {c.cand.day!s:<10} {cell['pool']:>4} {cell['hits']:>4} "
            f"{cell['base_rate']:>5.2f} |     {p5} |      {p10} {_f(cell['p@10']['best']):>5} | "
            f"{text}"
        )


def aggregate(cases: list[Case], key: str) -> dict[str, Any]:
    """Means over the cut-offs with at least one hit in the pool, and the engine's record."""
    cells = [(c, c.result["metrics"][key]) for c in cases]
    scored = [(c, cell) for c, cell in cells if cell["hits"] > 0]
    means = {
        f"p@{k}": {
            m: (sum(cell[f"p@{k}"][m] for _, cell in scored) / len(scored)) if scored else None
            for m in (*ALL_METHODS, "best")
        }
        for k in KS
    }
    outcomes = [cell["verdict"]["outcome"] for _, cell in scored]
    losses = [
        {
            "mailbox": c.mailbox,
            "cutoff": str(c.cand.day),
            "engine": cell["p@10"]["engine"],
            "beaten_by": {b: cell["p@10"][b] for b in cell["verdict"]["beaten_by"]},
        }
        for c, cell in scored
        if cell["verdict"]["outcome"] == "loss"
    ]
    return {
        "scored": len(scored),
        "no_hits": len(cells) - len(scored),
        "top10_hits_summed": {
            m: round(sum(cell["p@10"][m] * 10 for _, cell in scored), 2)
            for m in (*ALL_METHODS, "best")
        },
        "wins": outcomes.count("win"),
        "ties": outcomes.count("tie"),
        "losses": losses,
        "means": means,
    }


def summary(cases: list[Case]) -> None:
    print(
        "\nsummary: mean over cut-offs with >= 1 hit in the pool; "
        "'at least' = engine P@10 >= every goal baseline (silence, recent, volume, random)"
    )
    methods = (*ALL_METHODS, "best")
    head = " ".join(f"{m[:7]:>7}" for m in methods)
    print(f"  {'truth/pool':<10} {'n':>2} | P@5 {head} | P@10 {head} | at least (win+tie)")
    for truth in TRUTHS:
        for pool_name in POOLS:
            key = f"{truth}/{pool_name}"
            agg = aggregate(cases, key)
            if not agg["scored"]:
                print(f"  {key:<10}  0 | no cut-off with a hit")
                continue
            p5 = " ".join(f"{_f(agg['means']['p@5'][m]):>7}" for m in methods)
            p10 = " ".join(f"{_f(agg['means']['p@10'][m]):>7}" for m in methods)
            won = agg["wins"] + agg["ties"]
            print(
                f"  {key:<10} {agg['scored']:>2} |     {p5} |      {p10} | "
                f"{won}/{agg['scored']} ({agg['ties']} ties)"
            )
            summed = ", ".join(f"{m} {v:g}" for m, v in agg["top10_hits_summed"].items())
            print(f"  {'':<10}    hits in the top 10s, summed: {summed}")
            for loss in agg["losses"]:
                beaten = ", ".join(f"{b} {v:.2f}" for b, v in loss["beaten_by"].items())
                print(
                    f"  {'':<10}    loses at {loss['mailbox']} {loss['cutoff']}: "
                    f"engine {loss['engine']:.2f} < {beaten}"
                )


def per_mailbox(cases: list[Case], key: str = "owner/due") -> dict[str, dict[str, Any]]:
    """Per mailbox, means over its cut-offs with a hit: every method, the best simple baseline
    at each cut-off averaged, and the goal (engine P@10 above that and above every IR variant).
    """
    out: dict[str, dict[str, Any]] = {}
    for mailbox in dict.fromkeys(c.mailbox for c in cases):
        cells = [
            c.result["metrics"][key]
            for c in cases
            if c.mailbox == mailbox and c.result["metrics"][key]["hits"] > 0
        ]
        if not cells:
            continue
        n = len(cells)
        row: dict[str, Any] = {"cutoffs": n}
        for k in KS:
            at = f"p@{k}"
            row[at] = {m: sum(cell[at][m] for cell in cells) / n for m in (*ALL_METHODS, "best")}
            row[at]["best baseline per cut-off"] = (
                sum(max(cell[at][b] for b in GOAL_BASELINES) for cell in cells) / n
            )
        p10 = row["p@10"]
        best_ir = max(IR_VARIANTS, key=lambda v: p10[v])
        row["best_ir"] = best_ir
        row["goal_baselines"] = p10["engine"] > p10["best baseline per cut-off"] + EPS
        row["goal_ir"] = all(p10["engine"] > p10[v] + EPS for v in IR_VARIANTS)
        personal = [c.result["top10_personal"] for c in cases if c.mailbox == mailbox]
        row["top10_personal"] = _mean(personal)
        out[mailbox] = row
    return out


def goal_table(cases: list[Case]) -> None:
    rows = per_mailbox(cases)
    if not rows:
        return
    print(
        "\ngoal (owner truth, due pool; means over each mailbox's cut-offs with a hit): engine "
        "P@10 above the best simple baseline at each cut-off averaged, and above every "
        "Interactions Rank variant"
    )
    print(
        f"  {'mailbox':<11} {'n':>2} | {'P@5 E':>6} {'best/cut':>8} | {'P@10 E':>6} "
        f"{'best/cut':>8} {'silence':>7} {'recent':>6} {'volume':>6} {'random':>6} "
        f"{'best IR':>13} | goal"
    )
    for mailbox, row in rows.items():
        p5, p10 = row["p@5"], row["p@10"]
        goal = (
            "met"
            if row["goal_baselines"] and row["goal_ir"]
            else "NOT met: "
            + ", ".join(
                what
                for what, ok in (
                    ("best baseline per cut-off", row["goal_baselines"]),
                    ("Interactions Rank", row["goal_ir"]),
                )
                if not ok
            )
        )
        print(
            f"  {mailbox:<11} {row['cutoffs']:>2} | {p5['engine']:>6.3f} "
            f"{p5['best baseline per cut-off']:>8.3f} | {p10['engine']:>6.3f} "
            f"{p10['best baseline per cut-off']:>8.3f} {p10['silence']:>7.3f} "
            f"{p10['recent']:>6.3f} {p10['volume']:>6.3f} {p10['random']:>6.3f} "
            f"{row['best_ir']:>6} {p10[row['best_ir']]:.3f} | {goal}"
        )


def details(cases: list[Case]) -> None:
    print("\ndetail: engine top 10 (O = owner wrote/met in the window, A = any) and misses")
    for c in cases:
        print(f"\n  {c.mailbox} {c.cand.day}")
        for row in c.result["engine_top10"]:
            print("    " + _row(row))
        if c.result["hits_missed"]:
            print("    owner-truth hits outside the top 10:")
            for row in c.result["hits_missed"]:
                print("    " + _row(row))


def _row(row: dict[str, Any]) -> str:
    mark = ("O" if row["hit_owner"] else ".") + ("A" if row["hit_any"] else ".")
    rank = "—" if row["rank"] is None else str(row["rank"])
    gap = row["typical_gap_days"]
    return (
        f"{rank:>4} {mark} {row['who'][:28]:<28} last {row['last_at']} "
        f"sent {row['sent']:>3} recv {row['received']:>3} met {row['meetings']:>2}"
        + ("" if row["score"] is None else f" score {row['score']:.2f}")
        + ("" if gap is None else f" gap {gap:.0f}d")
    )


def markdown(cases: list[Case]) -> str:
    """The README's tables: the goal per mailbox, then every cut-off (owner truth, due pool)."""
    lines = [
        "| mailbox | cut-offs | P@5 E | P@5 best baseline per cut-off | P@10 E "
        "| P@10 best baseline per cut-off | longest silence | shortest silence "
        "| most interactions | random | IR 30/60/90 d, w_out 1 | IR 30/60/90 d, w_out 2 "
        "| top 10 personal | goal |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for mailbox, row in per_mailbox(cases).items():
        p5, p10 = row["p@5"], row["p@10"]
        irs = [" / ".join(f"{p10[f'ir{h}w{w}']:.3f}" for h in (30, 60, 90)) for w in (1, 2)]
        goal = (
            "met"
            if row["goal_baselines"] and row["goal_ir"]
            else (
                "not met"
                + (" (baselines)" if not row["goal_baselines"] else "")
                + (" (IR)" if not row["goal_ir"] else "")
            )
        )
        lines.append(
            f"| {mailbox} | {row['cutoffs']} | **{p5['engine']:.3f}** "
            f"| {p5['best baseline per cut-off']:.3f} | **{p10['engine']:.3f}** "
            f"| {p10['best baseline per cut-off']:.3f} | {p10['silence']:.3f} "
            f"| {p10['recent']:.3f} | {p10['volume']:.3f} | {p10['random']:.3f} "
            f"| {irs[0]} | {irs[1]} | {_pct(row['top10_personal'])} | {goal} |"
        )
    lines += [
        "",
        "| mailbox | cut-off | due / past floor | owner hits (due) "
        "| P@5 E · S · Sh · V · R · IR60w2 | P@10 E · S · Sh · V · R · IR60w2 "
        "| P@10 all-past-floor E / best baseline | top 10 personal / small "
        "| verdict (owner, due; baselines, then IR) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def six(cell: dict[str, Any], k: int) -> str:
        methods = ("engine", "silence", "recent", "volume", "random", "ir60w2")
        return " · ".join(f"{cell[f'p@{k}'][m]:.2f}" for m in methods)

    def versus(cell: dict[str, Any]) -> str:
        best = max(GOAL_BASELINES, key=lambda b: cell["p@10"][b])
        return f"{cell['p@10']['engine']:.2f} / {cell['p@10'][best]:.2f} {best}"

    def said(v: dict[str, Any]) -> str:
        return v["outcome"] + (f" to {', '.join(v['beaten_by'])}" if v["beaten_by"] else "")

    for c in cases:
        r = c.result
        main_cell = r["metrics"]["owner/due"]
        lines.append(
            f"| {c.mailbox} | {c.cand.day} | {r['pool_sizes']['due']} / "
            f"{r['pool_sizes']['all']} | {main_cell['hits']} | {six(main_cell, 5)} "
            f"| {six(main_cell, 10)} | {versus(r['metrics']['owner/all'])} "
            f"| {_pct(r['top10_personal'])} / {_pct(r['top10_small'])} "
            f"| {said(main_cell['verdict'])}; {said(main_cell['verdict_ir'])} |"
        )
    return "\n".join(lines)


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def dump(
    cases: list[Case],
    args: argparse.Namespace,
    revision: str,
    elapsed: float,
    failures: list[str],
) -> dict[str, Any]:
    settings = {
        k: v
        for k, v in vars(args).items()
        if k in {"horizon", "min_sent", "min_history", "min_pool", "spacing", "floor_months"}
    }
    return {
        "engine": revision,
        "settings": settings,
        "seconds": round(elapsed, 1),
        "failures": failures,
        "cases": [
            {
                "mailbox": c.mailbox,
                "cutoff": str(c.cand.day),
                "history_days": c.cand.history_days,
                "owner_messages_next": c.cand.owner_next,
                "received_messages_next": c.cand.received_next,
                **c.result,
            }
            for c in cases
        ],
        "summary": {f"{t}/{p}": aggregate(cases, f"{t}/{p}") for t in TRUTHS for p in POOLS},
        "per_mailbox": per_mailbox(cases),
    }


if __name__ == "__main__":
    raise SystemExit(main())
