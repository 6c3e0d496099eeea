"""openapi.yaml, Incidents V2#Create: required fields, the visibility enum, references, initial status, references."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from incident_mock.resources.organisation import Store
from tests.mock.conftest import CREATOR, FULL, incident_body
from tests.mock.seed import INVESTIGATING, LEAD, PAYMENTS, SECURITY, TEAM_FIELD, TEXT_FIELD, TRIAGE


async def create(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str] = FULL
) -> httpx.Response:
    return await client.post("/v2/incidents", json=body, headers=headers)


def errors_of(response: httpx.Response) -> list[dict[str, Any]]:
    body = response.json()
    assert body["status"] == response.status_code
    return body["errors"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("field", ["idempotency_key", "severity_id", "visibility"])
async def test_missing_required_field_is_422_is_required(
    client: httpx.AsyncClient, store: Store, field: str
) -> None:
    body = incident_body("k-missing")
    del body[field]
    response = await create(client, body)
    assert response.status_code == 422
    assert {"code": "is_required", "field": field, "pointer": f"/{field}"} in [
        {"code": e["code"], **e["source"]} for e in errors_of(response)
    ]
    assert len(store.incidents) == 1  # only the seeded one


@pytest.mark.parametrize(
    "value", ["Public", "PRIVATE", " public", "public ", "", "internal", 1, None, True, ["public"]]
)
async def test_visibility_outside_the_enum_is_422_invalid_value(
    client: httpx.AsyncClient, store: Store, value: Any
) -> None:
    response = await create(client, incident_body("k-vis", visibility=value))
    assert response.status_code == 422
    error = errors_of(response)[0]
    assert (error["code"], error["source"]["field"]) == ("invalid_value", "visibility")
    assert len(store.incidents) == 1


async def test_unknown_field_is_422_naming_it(client: httpx.AsyncClient) -> None:
    response = await create(client, incident_body("k-typo", severityId="x"))
    assert response.status_code == 422
    assert errors_of(response)[0]["source"] == {"field": "severityId", "pointer": "/severityId"}


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"severity_id": "nope"}, "severity_id"),
        ({"incident_type_id": "nope"}, "incident_type_id"),
        ({"incident_status_id": "nope"}, "incident_status_id"),
        ({"custom_field_entries": [{"custom_field_id": "nope", "values": []}]}, "custom_field_id"),
        ({"custom_field_entries": [{"custom_field_id": TEAM_FIELD, "values": [{"value_option_id": "no"}]}]}, "value_option_id"),
        ({"custom_field_entries": [{"custom_field_id": TEXT_FIELD, "values": [{"value_option_id": PAYMENTS}]}]}, "value_text"),
        ({"incident_role_assignments": [{"incident_role_id": "nope"}]}, "incident_role_id"),
        ({"incident_role_assignments": [{"incident_role_id": LEAD, "assignee": {"email": "x@y"}}]}, "assignee"),
        ({"incident_timestamp_values": [{"incident_timestamp_id": "nope"}]}, "incident_timestamp_id"),
    ],
)  # fmt: skip
async def test_unknown_reference_is_422_naming_the_field(
    client: httpx.AsyncClient, store: Store, extra: dict[str, Any], field: str
) -> None:
    response = await create(client, incident_body("k-ref", **extra))
    assert response.status_code == 422
    error = errors_of(response)[0]
    assert (error["code"], error["source"]["field"]) == ("invalid_value", field)
    assert len(store.incidents) == 1 and "k-ref" not in {k for _, k in store.idempotency.entries}


async def test_private_only_type_rejects_public(client: httpx.AsyncClient) -> None:
    response = await create(client, incident_body("k-sec", incident_type_id=SECURITY))
    assert response.status_code == 422
    assert errors_of(response)[0]["source"]["field"] == "visibility"
    ok = await create(client, incident_body("k-sec", incident_type_id=SECURITY, visibility="private"))
    assert ok.status_code == 200


async def test_initial_status_rules(client: httpx.AsyncClient) -> None:
    default = (await create(client, incident_body("k-s1"))).json()["incident"]
    assert default["incident_status"]["id"] == TRIAGE  # no status given, the org has a triage status
    given = (await create(client, incident_body("k-s2", incident_status_id=INVESTIGATING))).json()["incident"]
    assert given["incident_status"]["id"] == INVESTIGATING
    body = incident_body(
        "k-s3", incident_status_id=INVESTIGATING, incident_type_id=SECURITY, visibility="private"
    )
    always = (await create(client, body)).json()["incident"]
    assert always["incident_status"]["id"] == TRIAGE  # the type always creates in triage


async def test_defaults_and_full_payload_round_trip(client: httpx.AsyncClient) -> None:
    body = incident_body(
        "k-full",
        name="DB down",
        summary="Primary is gone",
        custom_field_entries=[
            {"custom_field_id": TEAM_FIELD, "values": [{"value_option_id": PAYMENTS}]},
            {"custom_field_id": TEXT_FIELD, "values": [{"value_text": "Checkout fails"}]},
        ],
        incident_role_assignments=[{"incident_role_id": LEAD, "assignee": {"slack_user_id": "U0GRACE"}}],
    )
    incident = (await create(client, body, CREATOR)).json()["incident"]
    assert incident["mode"] == "standard" and incident["name"] == "DB down"
    entries = {e["custom_field"]["id"]: e["values"] for e in incident["custom_field_entries"]}
    assert entries[TEAM_FIELD] == [
        {"value_option": {**entries[TEAM_FIELD][0]["value_option"], "value": "Payments"}}
    ]
    assert entries[TEXT_FIELD] == [{"value_text": "Checkout fails"}]
    lead = next(a for a in incident["incident_role_assignments"] if a["role"]["id"] == LEAD)
    assert lead["assignee"]["name"] == "Grace Hopper"
    assert incident["last_activity_at"] and incident["team_ids"] == []


async def test_references_count_up_and_show_accepts_the_number(client: httpx.AsyncClient) -> None:
    refs = [(await create(client, incident_body(f"k-ref-{i}"))).json()["incident"] for i in range(3)]
    assert [r["reference"] for r in refs] == ["INC-2", "INC-3", "INC-4"]  # INC-1 is the seeded incident
    by_number = (await client.get("/v2/incidents/3", headers=FULL)).json()["incident"]
    assert by_number["id"] == refs[1]["id"]
    assert (await client.get("/v2/incidents/99", headers=FULL)).status_code == 404
    by_reference = await client.get("/v2/incidents/INC-3", headers=FULL)
    assert by_reference.status_code == 404
    assert "number of its reference (3)" in by_reference.json()["errors"][0]["message"]


async def test_each_missing_field_is_reported_once(client: httpx.AsyncClient) -> None:
    response = await create(client, {})
    fields = [e["source"]["field"] for e in errors_of(response)]
    assert sorted(fields) == ["idempotency_key", "severity_id", "visibility"]
