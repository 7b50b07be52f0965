"""The REST API: its OpenAPI document, cursor pages, actions, and errors that name the field."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support.web import TwoUsers


def _walk(two: TwoUsers, path: str, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = f"limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        page = two.a.client.get(f"{path}?{query}")
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


def test_lists_page_with_cursors_and_agree_with_one_big_page(two: TwoUsers) -> None:
    for path in ("/api/v1/queue", "/api/v1/contacts"):
        whole = _walk(two, path, 200)
        assert len(whole) > 20, path
        assert _walk(two, path, 7) == whole
    # Nobody in the sample had been quiet for a year by then
    assert _walk(two, "/api/v1/dormant", 7) == []
    first = two.a.client.get("/api/v1/queue?limit=3").json()
    item = first["items"][0]
    assert set(item) >= {
        "contact",
        "last_interaction_at",
        "months_silent",
        "typical_gap_days",
        "emails_sent",
        "emails_received",
        "meetings",
        "last_subject",
        "score",
        "why",
        "level",
    }
    assert set(item["contact"]) == {"id", "name", "addresses"}
    # After an answer (which the learned order reads, so the queue may reorder), the old cursor
    # still works: what follows it, without the person answered
    answered = two.a.api(
        "POST", f"/api/v1/contacts/{item['contact']['id']}/answers", json={"action": "done"}
    )
    assert answered.status_code == 200 and answered.json()["action"] == "done"
    again = two.a.client.get(f"/api/v1/queue?limit=3&cursor={first['next_cursor']}").json()
    assert len(again["items"]) == 3
    assert item["contact"]["id"] not in [i["contact"]["id"] for i in again["items"]]


def test_contact_timeline_notes_and_follow_ups(two: TwoUsers) -> None:
    person = two.a.client.get("/api/v1/queue?limit=1").json()["items"][0]["contact"]["id"]
    detail = two.a.client.get(f"/api/v1/contacts/{person}").json()
    assert detail["relationship"] is True and detail["months"]
    assert sum(m["sent"] + m["received"] + m["met"] for m in detail["months"]) > 0
    timeline = _walk(two, f"/api/v1/contacts/{person}/timeline", 5)
    assert len(timeline) == detail["emails_sent"] + detail["emails_received"] + detail["meetings"]

    note = two.a.api("POST", f"/api/v1/contacts/{person}/notes", json={"text": " Q3 plan "})
    assert note.status_code == 201 and note.json()["text"] == "Q3 plan"
    follow = two.a.api(
        "POST", f"/api/v1/contacts/{person}/follow-ups", json={"due_in_days": 7, "reason": "x"}
    )
    assert follow.status_code == 201 and follow.json()["due_at"].startswith("2001-03-07")
    assert [n["text"] for n in two.a.client.get(f"/api/v1/contacts/{person}/notes").json()] == [
        "Q3 plan"
    ]
    gone = two.a.api("DELETE", f"/api/v1/follow-ups/{follow.json()['id']}")
    assert gone.status_code == 204
    assert two.a.client.get(f"/api/v1/contacts/{person}/follow-ups").json() == []
    snooze = two.a.api(
        "POST", f"/api/v1/contacts/{person}/answers", json={"action": "snooze", "snooze_days": 14}
    )
    assert snooze.json()["until"].startswith("2001-03-14")


def _error(response: Any, status: int, code: str, field: str | None) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {
        "error": {"code": code, "message": response.json()["error"]["message"], "field": field}
    }
    assert "Traceback" not in response.text


def test_bad_input_gets_a_4xx_naming_the_field(two: TwoUsers) -> None:
    _error(two.a.client.get("/api/v1/queue?limit=0"), 400, "invalid_input", "limit")
    _error(two.a.client.get("/api/v1/queue?cursor=%%%"), 400, "invalid_input", "cursor")
    _error(two.a.client.get("/api/v1/queue?cursor=WzFd"), 400, "invalid_input", "cursor")
    _error(two.a.client.get("/api/v1/contacts/abc"), 400, "invalid_input", "person_id")
    _error(two.a.client.get("/api/v1/contacts/999999"), 404, "not_found", None)
    _error(two.a.client.get("/api/v1/intros?target=no%20way"), 400, "invalid_input", "target")
    patch = two.a.api("PATCH", "/api/v1/settings", json={"timezone": "Mars/Olympus"})
    _error(patch, 400, "invalid_input", "timezone")
    _error(
        two.a.api("PATCH", "/api/v1/settings", json={"colour": 1}), 400, "invalid_input", "colour"
    )
    _error(
        two.a.api("PATCH", "/api/v1/settings", json={"excluded": ["not a domain"]}),
        400,
        "invalid_input",
        "excluded",
    )
    person = two.a.client.get("/api/v1/queue?limit=1").json()["items"][0]["contact"]["id"]
    _error(
        two.a.api("POST", f"/api/v1/contacts/{person}/answers", json={"action": "snooze"}),
        400,
        "invalid_input",
        "snooze_days",
    )
    _error(
        two.a.api("POST", f"/api/v1/contacts/{person}/notes", json={"text": ""}),
        400,
        "invalid_input",
        "text",
    )
    _error(
        two.a.api("POST", f"/api/v1/contacts/{person}/notes", content=b"{", headers={}),
        400,
        "invalid_input",
        "body",
    )
    _error(two.a.client.get("/api/v1/nothing"), 404, "not_found", None)
    _error(two.a.client.put("/api/v1/queue"), 405, "method_not_allowed", None)


def test_the_openapi_document_describes_the_api(two: TwoUsers) -> None:
    doc = two.a.client.get("/api/openapi.json").json()
    paths = doc["paths"]
    assert {"/api/v1/queue", "/api/v1/contacts/{person_id}", "/api/v1/settings"} <= set(paths)
    assert all(p.startswith("/api/v1/") for p in paths)  # pages and links are not the API
    for operations in paths.values():
        for operation in operations.values():
            assert "422" not in operation["responses"]
            assert operation["responses"]["400"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorOut"
            }
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert two.a.client.get("/api/docs").status_code == 200


def test_deleting_the_account_through_the_api_asks_for_the_words(two: TwoUsers) -> None:
    refused = two.a.api("DELETE", "/api/v1/me", json={"confirm": "yes"})
    _error(refused, 400, "invalid_input", "confirm")
    assert two.a.client.get("/api/v1/me").status_code == 200
    gone = two.a.api("DELETE", "/api/v1/me", json={"confirm": "delete my account"})
    assert gone.status_code == 200 and gone.json()["interactions"] > 1000
    assert two.a.client.get("/api/v1/me").status_code == 401
    assert two.b.client.get("/api/v1/me").status_code == 200


def test_the_queue_read_with_a_token_is_its_owners_follows_each_change_and_stops_at_once(
    two: TwoUsers,
) -> None:
    made = two.a.api("POST", "/api/v1/tokens", json={"name": "script"}).json()
    theirs = two.b.api("POST", "/api/v1/tokens", json={"name": "script"}).json()
    mine = {"Authorization": f"Bearer {made['token']}"}
    with TestClient(two.a.client.app) as script:  # no cookies: the token alone
        # Given A's queue read with A's token: the same as A's dashboard reads, byte for byte
        # again when it is served as kept
        first = script.get("/api/v1/queue?limit=5", headers=mine)
        assert first.status_code == 200 and first.headers["content-type"] == "application/json"
        assert first.json() == two.a.client.get("/api/v1/queue?limit=5").json()
        assert script.get("/api/v1/queue?limit=5", headers=mine).content == first.content
        page_two = f"/api/v1/queue?limit=5&cursor={first.json()['next_cursor']}"
        assert script.get(page_two, headers=mine).json() == two.a.client.get(page_two).json()
        # B's token reads B's queue, never A's
        b_queue = script.get(
            "/api/v1/queue?limit=200", headers={"Authorization": f"Bearer {theirs['token']}"}
        )
        a_ids = {i["contact"]["id"] for i in first.json()["items"]}
        assert b_queue.status_code == 200
        assert not a_ids & {i["contact"]["id"] for i in b_queue.json()["items"]}
        # When A excludes the first person and sets a silence floor: both show at once
        person = first.json()["items"][0]["contact"]
        changed = two.a.api(
            "PATCH", "/api/v1/settings", json={"excluded": [person["addresses"][0]]}
        )
        assert changed.status_code == 200, changed.text
        after = script.get("/api/v1/queue?limit=5", headers=mine).json()
        assert person["id"] not in [i["contact"]["id"] for i in after["items"]]
        floored = two.a.api("PATCH", "/api/v1/settings", json={"floor_months": 60})
        assert floored.status_code == 200, floored.text
        assert script.get("/api/v1/queue?limit=5", headers=mine).json()["items"] == []
        # And a revoked token is refused on its next request
        assert two.a.api("DELETE", f"/api/v1/tokens/{made['id']}").status_code == 200
        gone = script.get("/api/v1/queue?limit=5", headers=mine)
        assert gone.status_code == 401 and gone.json()["error"]["code"] == "not_signed_in"
        assert script.get("/api/v1/dormant", headers=mine).status_code == 401
