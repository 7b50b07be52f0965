"""Fuzzing the REST API from its own OpenAPI document (schemathesis): requests that fit the
schema and requests that break it, on every operation. Nothing may answer 5xx; every response
must match its documented status, content type and schema; input that breaks the schema must
get a 4xx; and every 400 must name the field at fault.

The default tier runs a small number of cases per operation on SQLite; the slow tier
(`pytest -m slow`) many more, on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from keepwarm.services.accounts.tokens import create_token
from keepwarm.services.accounts.users import ensure_user
from keepwarm.services.core.config import Settings
from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.runtime import build_runtime
from keepwarm.services.web import create_app
from tests.support.settings import production_settings
from tests.support.web import AS_OF, import_sample

# Left out: they would end the fuzzer's own credentials (tests/web/test_api.py and
# test_sign_in.py cover them).
EXCLUDED = (("DELETE", "/api/v1/me"), ("DELETE", "/api/v1/tokens/{token_id}"))


@schemathesis.check
def names_the_field(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 400 says which field is at fault."""
    if response.status_code == 400:
        error = json.loads(response.content)["error"]
        assert error["field"], f"a 400 that names no field: {error}"
    return None


def _fuzz(app: Any, token: str, examples: int) -> tuple[int, dict[str, str]]:
    """Run every operation in both modes; (requests made, failures by operation)."""
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    for method, path in EXCLUDED:
        schema = schema.exclude(method=method, path=path)
    made = 0
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 18
    for operation in operations:
        takes_input = any(
            len(part) for part in (operation.path_parameters, operation.query, operation.body)
        )
        modes = [schemathesis.GenerationMode.POSITIVE]
        if takes_input:  # nothing to break in an operation that takes no input
            modes.append(schemathesis.GenerationMode.NEGATIVE)
        for mode in modes:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                nonlocal made
                made += 1
                case.call_and_validate(
                    headers={"Authorization": f"Bearer {token}"},
                    # An opaque cursor or a time zone can fit the schema and still mean
                    # nothing: those get a 400 naming the field, which that check calls wrong.
                    excluded_checks=[positive_data_acceptance],
                    additional_checks=[names_the_field],
                )

            try:
                run()
            except Exception as exc:
                failures[f"{operation.label} ({mode.value})"] = str(exc)[:3000]
    return made, failures


def _app(settings_: Settings) -> Iterator[tuple[Any, str]]:
    runtime = replace(build_runtime(settings_), clock=lambda: AS_OF)
    try:
        with unit_of_work(runtime.session_factory) as uow:
            user_id = ensure_user(uow.session).id
            token = create_token(uow.session, user_id, "fuzz", AS_OF).secret
        import_sample(runtime, user_id)
        yield create_app(runtime), token
    finally:
        runtime.close()


def test_the_api_survives_fuzzing_from_its_openapi_document(embedded_settings: Settings) -> None:
    for app, token in _app(embedded_settings):
        made, failures = _fuzz(app, token, examples=15)
        print(f"schemathesis: {made} requests")
        assert failures == {}, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())


@pytest.mark.slow
def test_the_api_survives_longer_fuzzing_on_postgresql(
    pg_url: str, redis_url: tuple[str, str], tmp_path: Any
) -> None:
    settings_ = production_settings(tmp_path / "home", pg_url, *redis_url)
    for app, token in _app(settings_):
        made, failures = _fuzz(app, token, examples=150)
        print(f"schemathesis: {made} requests")
        assert failures == {}, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())
