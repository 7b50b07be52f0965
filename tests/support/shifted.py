"""Run a child process on the test process's shifted clock (KEEPWARM_TEST_CLOCK_SHIFT_DAYS).

`python -m tests.shifted -m MODULE ARGS...` or `python -m tests.shifted -c CODE ARGS...`: the
clock moves N days ahead (time-machine), then the module or code runs as `python -m`/`-c`
would run it. Without the variable it runs them unshifted. Tests start every keepwarm process
through `python_command`, so a suite run a year ahead runs its processes a year ahead too.
"""

from __future__ import annotations

import os
import runpy
import sys
from datetime import UTC, datetime, timedelta

SHIFT_VARIABLE = "KEEPWARM_TEST_CLOCK_SHIFT_DAYS"


def python_command(*args: str) -> list[str]:
    """The argv that runs `python ARGS...` (`-m MODULE` or `-c CODE` first) on the test clock."""
    if os.environ.get(SHIFT_VARIABLE):
        return [sys.executable, "-m", "tests.support.shifted", *args]
    return [sys.executable, *args]


def start_shift() -> None:
    """Move this process's clock ahead by the variable's days, ticking from there."""
    days = os.environ.get(SHIFT_VARIABLE)
    if days:
        import time_machine

        time_machine.travel(datetime.now(UTC) + timedelta(days=int(days)), tick=True).start()


def _main(argv: list[str]) -> None:
    start_shift()
    flag, target, *rest = argv
    if flag == "-m":
        sys.argv = [target, *rest]
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    elif flag == "-c":
        sys.argv = ["-c", *rest]
        exec(compile(target, "<string>", "exec"), {"__name__": "__main__"})
    else:
        raise SystemExit(f"tests.shifted: expected -m MODULE or -c CODE, got {flag!r}")


if __name__ == "__main__":
    _main(sys.argv[1:])
