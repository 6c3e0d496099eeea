"""openapi.yaml, Private incidents and Incidents V2#Edit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.mock.conftest import CREATOR, FULL, VIEWER, incident_body
from tests.mock.seed import CLOSED, DECLINED, FIXING, INVESTIGATING, LEARNING, PAUSED, TRIAGE


async def make(client: httpx.AsyncClient, key: str, **extra: Any) -> dict[str, Any]:
    response = await client.post("/v2/incidents", json=incident_body(key, **extra), headers=FULL)
    assert response.status_code == 200, response.text
    return response.json()["incident"]  # type: ignore[no-any-return]


def edit_body(**changes: Any) -> dict[str, Any]:
    return {"incident": changes, "notify_incident_channel": False}


async def test_private_incident_is_hidden_from_keys_without_view_private(client: httpx.AsyncClient) -> None:
    private = await make(client, "p1", visibility="private", name="Secret")
    viewer_list = (await client.get("/v2/incidents", headers=VIEWER)).json()
    full_list = (await client.get("/v2/incidents", headers=FULL)).json()
    assert private["id"] not in [i["id"] for i in viewer_list["incidents"]]
    assert private["id"] in [i["id"] for i in full_list["incidents"]]
    assert (
        full_list["pagination_meta"]["total_record_count"]
        == viewer_list["pagination_meta"]["total_record_count"] + 1
    )
    for path in (f"/v2/incidents/{private['id']}", f"/v2/incidents/{private['reference'][4:]}"):
        hidden = await client.get(path, headers=VIEWER)
        assert hidden.status_code == 404
        assert hidden.json()["type"] == "not_found"
        assert hidden.json()["errors"][0]["message"] == (
            await client.get("/v2/incidents/nope", headers=VIEWER)
        ).json()["errors"][0]["message"].replace("nope", path.rsplit("/", 1)[1])
    assert (await client.get(f"/v2/incidents/{private['id']}", headers=FULL)).status_code == 200


async def test_hidden_private_incident_is_404_on_edit_even_for_an_editor(client: httpx.AsyncClient) -> None:
    # A key with incident_editor but not global_access: a sandbox from fixtures of its own holds one.
    keys = [
        {"id": "01FULL", "name": "Full", "token": "full", "roles": ["incident_creator", "global_access"]},
        {"id": "01EDITOR", "name": "Editor", "token": "editor", "roles": ["incident_editor"]},
    ]
    created = await client.post("/_mock/sandboxes", json={"fixtures": {"api_keys": keys}})
    assert created.status_code == 201, created.text
    tokens = {k["replaces"]: k["token"] for k in created.json()["sandbox"]["keys"]}
    body = incident_body("p2", visibility="private")
    made = await client.post(
        "/v2/incidents", json=body, headers={"Authorization": f"Bearer {tokens['full']}"}
    )
    assert made.status_code == 200, made.text
    editor = {"Authorization": f"Bearer {tokens['editor']}"}
    response = await client.post(
        f"/v2/incidents/{made.json()['incident']['id']}/actions/edit",
        json=edit_body(name="x"),
        headers=editor,
    )
    assert response.status_code == 404


async def test_create_and_replay_return_the_private_incident_to_its_creator(
    client: httpx.AsyncClient,
) -> None:
    body = incident_body("p3", visibility="private")
    first = await client.post("/v2/incidents", json=body, headers=CREATOR)
    replay = await client.post("/v2/incidents", json=body, headers=CREATOR)
    assert first.json()["incident"]["visibility"] == "private"
    assert replay.json()["incident"]["id"] == first.json()["incident"]["id"]


async def test_edit_changes_only_the_fields_sent(client: httpx.AsyncClient) -> None:
    incident = await make(client, "e1", name="Before", summary="Keep me", incident_status_id=INVESTIGATING)
    response = await client.post(
        f"/v2/incidents/{incident['id']}/actions/edit", json=edit_body(name="After"), headers=FULL
    )
    edited = response.json()["incident"]
    assert edited["name"] == "After"
    assert edited["summary"] == "Keep me"
    assert edited["incident_status"]["id"] == INVESTIGATING
    assert edited["updated_at"] > incident["updated_at"]


@pytest.mark.parametrize("field", ["visibility", "mode", "incident_type_id"])
async def test_edit_cannot_change_visibility_mode_or_type(client: httpx.AsyncClient, field: str) -> None:
    incident = await make(client, "e2")
    response = await client.post(
        f"/v2/incidents/{incident['id']}/actions/edit", json=edit_body(**{field: "private"}), headers=FULL
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"] == {"field": field, "pointer": f"/incident/{field}"}


async def test_edit_requires_notify_incident_channel(client: httpx.AsyncClient) -> None:
    incident = await make(client, "e3")
    response = await client.post(
        f"/v2/incidents/{incident['id']}/actions/edit", json={"incident": {}}, headers=FULL
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "is_required"


@pytest.mark.parametrize(
    ("start", "target", "allowed"),
    [
        (INVESTIGATING, FIXING, True),  # within a category
        (TRIAGE, LEARNING, True),
        (TRIAGE, CLOSED, True),
        (INVESTIGATING, LEARNING, True),
        (INVESTIGATING, CLOSED, True),
        (LEARNING, CLOSED, True),
        (TRIAGE, INVESTIGATING, False),
        (INVESTIGATING, TRIAGE, False),
        (LEARNING, INVESTIGATING, False),
        (CLOSED, INVESTIGATING, False),
        (INVESTIGATING, DECLINED, False),
        (INVESTIGATING, PAUSED, False),
    ],
)
async def test_status_moves_follow_the_category_rules(
    client: httpx.AsyncClient, start: str, target: str, allowed: bool
) -> None:
    incident = await make(client, f"move-{start}-{target}", incident_status_id=start)
    assert incident["incident_status"]["id"] == start
    response = await client.post(
        f"/v2/incidents/{incident['id']}/actions/edit",
        json=edit_body(incident_status_id=target),
        headers=FULL,
    )
    if allowed:
        assert response.status_code == 200
        assert response.json()["incident"]["incident_status"]["id"] == target
    else:
        assert response.status_code == 422
        assert response.json()["errors"][0]["source"]["field"] == "incident_status_id"
        shown = (await client.get(f"/v2/incidents/{incident['id']}", headers=FULL)).json()["incident"]
        assert shown["incident_status"]["id"] == start


async def test_a_rejected_edit_changes_nothing(client: httpx.AsyncClient) -> None:
    incident = await make(client, "e4", name="Stable")
    bad = edit_body(name="Changed", severity_id="nope")
    assert (
        await client.post(f"/v2/incidents/{incident['id']}/actions/edit", json=bad, headers=FULL)
    ).status_code == 422
    shown = (await client.get(f"/v2/incidents/{incident['id']}", headers=FULL)).json()["incident"]
    assert shown == incident


async def test_reporter_can_only_be_set_at_creation(client: httpx.AsyncClient) -> None:
    reporter = "01JGZ0R0LE0000000000REP0RT"
    incident = await make(client, "e5")
    change = edit_body(
        incident_role_assignments=[{"incident_role_id": reporter, "assignee": {"email": "ada@example.com"}}]
    )
    response = await client.post(f"/v2/incidents/{incident['id']}/actions/edit", json=change, headers=FULL)
    assert response.status_code == 422
    at_creation = await make(
        client,
        "e6",
        incident_role_assignments=[{"incident_role_id": reporter, "assignee": {"email": "ada@example.com"}}],
    )
    holder = next(a for a in at_creation["incident_role_assignments"] if a["role"]["id"] == reporter)
    assert holder["assignee"]["email"] == "ada@example.com"
