"""Benchmark: how long the `keepwarm` command takes before it does anything.

    python bench/cli_startup.py [--rounds 15]

Runs, as fresh processes, each best of N (the machine's noise only ever adds time):
- the anchor: `python -c "import typer"`, the least a typer command can cost;
- `keepwarm --help`, `keepwarm suggestions --help` and `keepwarm --version`-like paths that
  need no database;
and prints each figure with its ratio to the anchor. Goal: `keepwarm --help` under 0.3 s (it
was 1.3 s when every command module imported the Google client, SQLAlchemy and the runtime at
start). It also lists the heaviest modules `keepwarm --help` still imports (python -X importtime).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def best_of(command: list[str], rounds: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - started)
    return min(times)


def heaviest(keepwarm: str, env: dict[str, str], count: int = 8) -> list[tuple[int, str]]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", keepwarm, "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    rows = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            name = parts[2].rstrip()
            depth = (len(name) - len(name.lstrip())) // 2
            # What the command's own modules pull in: one and two levels below the top
            if 1 <= depth <= 2:
                rows.append((int(parts[1]), name.strip()))
    return sorted(rows, reverse=True)[:count]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    keepwarm = shutil.which("keepwarm") or str(Path(sys.executable).with_name("keepwarm"))
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "KEEPWARM_HOME": home}
        env.pop("DATABASE_URL", None)
        anchor = best_of([sys.executable, "-c", "import typer"], args.rounds, env)
        print(f"anchor (python -c 'import typer'): {anchor:.3f} s")
        for argv in (["--help"], ["suggestions", "--help"], ["connect", "--help"]):
            figure = best_of([keepwarm, *argv], args.rounds, env)
            goal = "  (goal < 0.300 s)" if argv == ["--help"] else ""
            print(
                f"keepwarm {' '.join(argv)}: {figure:.3f} s = {figure / anchor:.1f}x anchor{goal}"
            )
        print("heaviest top-level imports of `keepwarm --help` (cumulative µs):")
        for micros, name in heaviest(keepwarm, env):
            print(f"  {micros:>9,}  {name.strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
