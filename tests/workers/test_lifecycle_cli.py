"""Answering suggestions through the CLI, on the Enron slice; answers survive re-imports."""

from __future__ import annotations

from keepwarm.services.core.config import Settings
from tests.support.cli import run_cli, run_json, run_process
from tests.support.paths import TEST_DATA

ENRON = str(TEST_DATA / "enron" / "delainey-d")
AS_OF = "2001-12-31"


def queue_addresses(settings: Settings, as_of: str = AS_OF) -> list[str]:
    items = run_json(settings, "suggestions", "--as-of", as_of, "--limit", "100")
    return [i["contact"]["addresses"][0] for i in items]


def test_answers_shape_the_queue_and_survive_reimport(any_settings: Settings) -> None:
    run_cli(any_settings, "import", ENRON)
    first, second, third, fourth = queue_addresses(any_settings)[:4]
    looking_back = queue_addresses(any_settings, "2001-11-30")
    run_cli(any_settings, "snooze", first, "--for", "3m", "--on", "2001-12-01")
    run_cli(any_settings, "stop", second, "--on", "2001-12-01")
    run_cli(any_settings, "done", third, "--on", "2001-12-20")
    run_cli(any_settings, "talked", fourth, "--on", "2001-12-20")
    run_cli(any_settings, "import", ENRON)  # a re-import keeps every answer
    now = queue_addresses(any_settings)
    assert not {first, second, third, fourth} & set(now)
    # Answers given after the date are not seen when looking back: the same queue, in order
    assert queue_addresses(any_settings, "2001-11-30") == looking_back
    assert {first, second, third, fourth} <= set(looking_back)
    # The snooze ends; the stop does not; talked elsewhere is in the timeline
    later = queue_addresses(any_settings, "2002-03-15")
    assert first in later and second not in later
    timeline = run_json(any_settings, "contact", fourth)["timeline"]
    assert timeline[0]["kind"] == "elsewhere"
    run_cli(any_settings, "resume", second, "--on", "2002-03-01")
    assert second in queue_addresses(any_settings, "2002-03-15")


def test_bad_answers_are_one_line_errors(embedded_settings: Settings) -> None:
    run_cli(embedded_settings, "import", ENRON)
    for args, needle in [
        (("snooze", "nobody@example.com", "--for", "2w"), "nobody@example.com"),
        (("snooze", "joseph.sutton@enron.com", "--for", "soon"), "--for"),
        (("snooze", "joseph.sutton@enron.com"), "--for"),
        (("done", "joseph.sutton@enron.com", "--on", "yesterday"), "--on"),
    ]:
        proc = run_process(embedded_settings, *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert needle in proc.stderr and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
