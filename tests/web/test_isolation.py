"""Every query is the signed-in user's: B, calling every API endpoint and opening or posting to
every page with A's ids, gets 404 and never A's data; A's data is unchanged afterwards."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from keepwarm.services.core.jobs import unit_of_work
from keepwarm.services.models import (
    Account,
    ApiToken,
    FollowUp,
    LifecycleEvent,
    Note,
    Person,
)
from keepwarm.services.reconnect.notes import add_follow_up
from tests.support.web import AS_OF, TwoUsers, app_routes, csrf_of

_PARAM = re.compile(r"{(\w+_id)}")
_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/contacts/{person_id}/answers": {"action": "stop"},
    "/api/v1/contacts/{person_id}/notes": {"text": "from B"},
    "/api/v1/contacts/{person_id}/follow-ups": {"due_in_days": 7},
    "/api/v1/accounts/{account_id}/disconnect": {"purge": True},
}
_FORMS: dict[str, dict[str, str]] = {
    "/contacts/{person_id}/answer": {"action": "stop"},
    "/contacts/{person_id}/notes": {"text": "from B"},
    "/contacts/{person_id}/follow-ups": {"due_in": "1w"},
    "/accounts/{account_id}/disconnect": {"purge": "yes"},
}


def _a_ids(two: TwoUsers) -> dict[str, int]:
    """One of each kind of A's records, by the name routes give its id."""
    person = two.a.client.get("/api/v1/queue?limit=1").json()["items"][0]["contact"]["id"]
    token = two.a.api("POST", "/api/v1/tokens", json={"name": "A's"}).json()["id"]
    with unit_of_work(two.runtime.session_factory) as uow:
        follow_up = add_follow_up(
            uow.session, two.a.user_id, person, AS_OF, AS_OF.replace(year=2002)
        )
        follow_up_id = follow_up.id
        account = uow.session.scalars(
            select(Account.id).where(Account.user_id == two.a.user_id)
        ).one()
    return {
        "person_id": person,
        "account_id": account,
        "follow_up_id": follow_up_id,
        "token_id": token,
    }


def _a_state(two: TwoUsers) -> tuple[Any, ...]:
    with two.runtime.session_factory() as session:
        return (
            session.execute(select(LifecycleEvent.id)).all(),
            session.execute(select(Note.id)).all(),
            session.execute(select(FollowUp.id, FollowUp.dismissed_at)).all(),
            session.execute(select(Account.id, Account.status, Account.token_ciphertext)).all(),
            session.execute(
                select(ApiToken.id, ApiToken.revoked_at).where(ApiToken.user_id == two.a.user_id)
            ).all(),
        )


def test_b_gets_404_for_every_endpoint_and_page_with_as_ids(two: TwoUsers) -> None:
    ids = _a_ids(two)
    before = _a_state(two)
    routes = app_routes(two.b.client.app)
    with_ids = [
        r for r in routes if _PARAM.search(r.path) and not r.path.startswith(("/a/", "/u/"))
    ]
    tried: set[tuple[str, str]] = set()
    b_token = two.b.api("POST", "/api/v1/tokens", json={"name": "B's"}).json()["token"]

    for route in with_ids:
        path = _PARAM.sub(lambda m: str(ids[m.group(1)]), route.path)
        for method in sorted(route.methods - {"HEAD"}):
            tried.add((method, route.path))
            if route.path.startswith("/api/"):
                body = _BODIES.get(route.path)
                kwargs: dict[str, Any] = {"json": body} if body is not None else {}
                by_session = two.b.api(method, path, **kwargs)
                by_token = two.b.client.request(
                    method, path, headers={"Authorization": f"Bearer {b_token}"}, **kwargs
                )
                for response in (by_session, by_token):
                    assert response.status_code == 404, (method, path, response.text)
                    assert response.json()["error"]["code"] == "not_found"
            elif method == "GET":
                response = two.b.client.get(path)
                assert response.status_code == 404, (method, path, response.text)
            else:
                form = {"csrf": two.b.csrf(), **_FORMS.get(route.path, {})}
                response = two.b.client.post(path, data=form)
                assert response.status_code == 404, (method, path, response.text)
            assert "enron" not in response.text.lower(), (method, path)

    # Every route that takes an id was tried (a new one cannot slip past this test)
    assert {p for _, p in tried} == {r.path for r in with_ids}
    assert len(tried) >= 17
    # And nothing of A's changed
    assert _a_state(two) == before


def test_b_sees_none_of_as_data_anywhere(two: TwoUsers) -> None:
    _a_ids(two)
    routes = app_routes(two.b.client.app)
    plain = [
        r.path
        for r in routes
        if "GET" in r.methods and "{" not in r.path and r.path not in ("/healthz",)
    ]
    assert {"/api/v1/queue", "/api/v1/export", "/queue", "/contacts", "/export"} <= set(plain)
    for path in plain:
        query = "?target=enron.com" if path.endswith("/intros") else ""
        response = two.b.client.get(path + query)
        assert response.status_code in (200, 303), (path, response.status_code)
        text = response.text.lower()
        assert "enron" not in text or (
            path.endswith("/intros") and "enron.com" in text and ("david" not in text)
        ), path
    # B's own data is there
    with two.runtime.session_factory() as session:
        bea = session.scalars(select(Person.id).where(Person.user_id == two.b.user_id)).one()
    own = two.b.client.get(f"/api/v1/contacts/{bea}")
    assert own.status_code == 200 and own.json()["addresses"] == ["bea@other.example"]
    page = two.b.client.get("/settings")
    assert csrf_of(page.text) != csrf_of(two.a.client.get("/settings").text)
