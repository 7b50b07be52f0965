"""Wrong keys and short keys: an empty or short KEEPWARM_SECRET_KEY, an empty KEEPWARM_TOKEN_KEY,
an empty or short key file, production without REDIS_URL. Each is refused before anything is
opened, with one line naming the setting or file (exit 2), and nothing stored is touched."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from keepwarm.services.core.config import Settings
from tests.support.cli import assert_one_line_error, run_cli
from tests.support.hostile import BOUND_SECONDS
from tests.support.hostile import run_as_operator as run_process
from tests.support.settings import TEST_SECRET_KEY, TEST_TOKEN_KEY

# Each runs the CLI in fresh processes: in the slow tier, which CI runs.
pytestmark = pytest.mark.slow


def _embedded(tmp_path: Path, **keys: str) -> Settings:
    settings = Settings(home=tmp_path / "home", database_url=None, redis_url=None)
    return settings.model_copy(
        update={k: Settings(**{k: v}).model_dump()[k] for k, v in keys.items()}
    )


def _fingerprint(home: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(home.iterdir())}


def _refused(settings: Settings, *needles: str) -> None:
    started = time.monotonic()
    proc = run_process(settings, "contacts")
    assert time.monotonic() - started < BOUND_SECONDS
    assert proc.returncode == 2, proc.stderr
    assert_one_line_error(proc.stderr, *needles)
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("secret", "needle"),
    [("", "is empty"), ("x", "1 characters long"), ("a" * 31, "31 characters long")],
)
def test_an_empty_or_short_secret_key_is_refused_naming_it(
    tmp_path: Path, secret: str, needle: str
) -> None:
    # Given an install with data
    good = _embedded(tmp_path)
    run_cli(good, "contacts")
    before = _fingerprint(good.home)
    # When it is started with a secret anyone could guess
    _refused(_embedded(tmp_path, secret_key=secret), "KEEPWARM_SECRET_KEY", needle)
    # Then nothing stored changed, and the good configuration still works
    assert _fingerprint(good.home) == before
    run_cli(good, "contacts")


@pytest.mark.parametrize(("key", "needle"), [("", "is empty"), ("short", "not a Fernet key")])
def test_an_empty_or_malformed_token_key_is_refused_naming_it(
    tmp_path: Path, key: str, needle: str
) -> None:
    _refused(_embedded(tmp_path, token_key=key), "KEEPWARM_TOKEN_KEY", needle)


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("secret_key", "", "empty"),
        ("secret_key", "abc", "3 characters long"),
        ("token_key", "", "empty"),
        ("token_key", "not-a-key", "not a Fernet key"),
    ],
)
def test_an_empty_or_short_key_file_is_named_and_kept(
    tmp_path: Path, name: str, content: str, needle: str
) -> None:
    settings = _embedded(tmp_path)
    settings.home.mkdir(mode=0o700)
    (settings.home / name).write_text(content)
    # The link secret is read by what signs links; the token key by what opens tokens
    command = ("digest", "--preview") if name == "secret_key" else ("sync",)
    proc = run_process(settings, *command)
    assert proc.returncode == 2, proc.stderr
    assert_one_line_error(proc.stderr, str(settings.home / name), needle)
    assert (settings.home / name).read_text() == content  # never replaced


def test_production_refuses_to_start_without_redis(tmp_path: Path, pg_url: str) -> None:
    settings = Settings.model_validate(
        {
            "home": tmp_path / "home",
            "DATABASE_URL": pg_url,
            "REDIS_URL": None,
            "token_key": TEST_TOKEN_KEY,
            "secret_key": TEST_SECRET_KEY,
        }
    )
    _refused(settings, "REDIS_URL", "production")


def test_production_refuses_a_short_secret_too(
    tmp_path: Path, pg_url: str, redis_url: tuple[str, str]
) -> None:
    settings = Settings.model_validate(
        {
            "home": tmp_path / "home",
            "DATABASE_URL": pg_url,
            "REDIS_URL": redis_url[0],
            "token_key": TEST_TOKEN_KEY,
            "secret_key": "0123456789",
        }
    )
    _refused(settings, "KEEPWARM_SECRET_KEY", "10 characters long")
