"""Writing the settings: incident roles, custom fields, their options and incident statuses.

The deprecated V1 roles and custom fields share the V2 tables, so what one version writes the other reads;
deleting a setting an incident holds is refused, and deleting a custom field takes its options; the
status categories incident.io manages cannot be created, changed or deleted; incidents created after a
write see the new settings. The mock validates its own answers against the contract (a drift is a 500).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from incident_io import AuthenticatedClient
from incident_io.api.custom_field_options_v1 import custom_field_options_v1_create
from incident_io.api.custom_fields_v1 import custom_fields_v1_show
from incident_io.api.custom_fields_v2 import custom_fields_v2_create, custom_fields_v2_show
from incident_io.api.incident_roles_v1 import incident_roles_v1_create, incident_roles_v1_show
from incident_io.api.incident_roles_v2 import incident_roles_v2_show, incident_roles_v2_update
from incident_io.api.incident_statuses_v1 import incident_statuses_v1_create, incident_statuses_v1_list
from incident_io.models import (
    CustomFieldOptionsCreatePayloadV1,
    CustomFieldOptionsCreateResultV1,
    CustomFieldsCreatePayloadV2,
    CustomFieldsCreatePayloadV2FieldType,
    CustomFieldsCreateResultV2,
    CustomFieldsShowResultV1,
    CustomFieldsShowResultV2,
    IncidentRolesCreatePayloadV1,
    IncidentRolesCreateResultV1,
    IncidentRolesShowResultV1,
    IncidentRolesShowResultV2,
    IncidentRolesUpdatePayloadV2,
    IncidentRolesUpdateResultV2,
    IncidentStatusesCreatePayloadV1,
    IncidentStatusesCreatePayloadV1Category,
    IncidentStatusesCreateResultV1,
    IncidentStatusesListResultV1,
)

from tests.mock.conftest import FULL, incident_body
from tests.mock.seed import (
    CLOSED,
    DECLINED,
    FIXING,
    INVESTIGATING,
    LEAD,
    LEARNING,
    PAUSED,
    PAYMENTS,
    REPORTER,
    TEAM_FIELD,
    TEXT_FIELD,
    TRIAGE,
)

Json = dict[str, Any]
COMMS, MONITORING = "01JGZ0R0LE000000000000C0MM", "01JGZ0STAT000000000M0N1T0R"
ROLE = {
    "name": "Scribe",
    "shortform": "scribe",
    "description": "Keeps the timeline.",
    "instructions": "Write.",
}
FIELD = {"name": "Affected region", "description": "Where customers are.", "field_type": "single_select"}
SHOWN = {"show_before_creation": True, "show_before_closure": False, "show_before_update": True}


async def made(client: httpx.AsyncClient, path: str, body: Json, key: str, status: int = 201) -> Json:
    answer = await client.post(path, json=body, headers=FULL)
    assert answer.status_code == status, answer.text
    made_: Json = answer.json()[key]
    return made_


async def refused(answer: Any, field: str, words: str) -> None:
    """A 422 validation_error naming `field`, its message saying `words`."""
    response = await answer
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["source"]["field"] == field
    assert words in error["message"]


async def get(client: httpx.AsyncClient, path: str) -> httpx.Response:
    return await client.get(path, headers=FULL)


# --- V1 and V2 over the same state ---------------------------------------------------------------------------
async def test_a_role_written_through_either_version_is_read_through_both(client: httpx.AsyncClient) -> None:
    v2 = await made(client, "/v2/incident_roles", ROLE, "incident_role")
    v1 = (await get(client, f"/v1/incident_roles/{v2['id']}")).json()["incident_role"]
    assert v1 == {**v2, "required": False}  # V1's deprecated flag, always false
    assert v2["role_type"] == "custom"

    change = {**ROLE, "name": "Timekeeper", "required": True}
    updated = await client.put(f"/v1/incident_roles/{v2['id']}", json=change, headers=FULL)
    assert updated.status_code == 200 and updated.json()["incident_role"]["required"] is False
    shown = (await get(client, f"/v2/incident_roles/{v2['id']}")).json()["incident_role"]
    assert shown["name"] == "Timekeeper" and "required" not in shown
    listed = (await get(client, "/v2/incident_roles")).json()["incident_roles"]
    assert [r["id"] for r in listed] == [
        r["id"] for r in (await get(client, "/v1/incident_roles")).json()["incident_roles"]
    ]

    assert (await client.delete(f"/v1/incident_roles/{v2['id']}", headers=FULL)).status_code == 204
    assert (await get(client, f"/v2/incident_roles/{v2['id']}")).status_code == 404


async def test_a_v1_custom_field_embeds_its_options_and_shares_the_v2_field(
    client: httpx.AsyncClient,
) -> None:
    v1 = await made(client, "/v1/custom_fields", {**FIELD, **SHOWN}, "custom_field")
    assert v1["options"] == [] and v1["show_before_creation"] is True
    late = await made(
        client,
        "/v1/custom_field_options",
        {"custom_field_id": v1["id"], "value": "EU"},
        "custom_field_option",
    )
    early = await made(
        client, "/v1/custom_field_options", {"custom_field_id": v1["id"], "value": "US", "sort_key": 5},
        "custom_field_option",
    )  # fmt: skip
    assert late["sort_key"] == 1000  # the default: near the end of the list
    shown = (await get(client, f"/v1/custom_fields/{v1['id']}")).json()["custom_field"]
    assert [o["id"] for o in shown["options"]] == [early["id"], late["id"]]

    v2 = (await get(client, f"/v2/custom_fields/{v1['id']}")).json()["custom_field"]
    assert set(v2) == {"id", "name", "description", "field_type", "created_at", "updated_at"}
    renamed = await client.put(
        f"/v2/custom_fields/{v1['id']}", json={"name": "Region", "description": "d"}, headers=FULL
    )
    assert renamed.status_code == 200
    again = (await get(client, f"/v1/custom_fields/{v1['id']}")).json()["custom_field"]
    assert (again["name"], again["show_before_creation"], len(again["options"])) == ("Region", True, 2)
    seeded = (await get(client, f"/v1/custom_fields/{TEXT_FIELD}")).json()["custom_field"]
    assert (seeded["show_before_update"], seeded["options"]) == (False, [])  # never set: false


async def test_names_are_unique_across_both_versions_ignoring_case(client: httpx.AsyncClient) -> None:
    await refused(client.post("/v1/incident_roles", json={**ROLE, "name": "incident lead", "required": False},
                              headers=FULL), "name", "exists")  # fmt: skip
    await refused(client.post("/v1/custom_fields", json={**FIELD, **SHOWN, "name": "AFFECTED TEAM"}, headers=FULL),
                  "name", "exists")  # fmt: skip
    await refused(client.post("/v1/incident_statuses", json={"name": "fixing", "description": "d", "category": "live"},
                              headers=FULL), "name", "exists")  # fmt: skip
    other = await made(client, "/v2/custom_fields", {**FIELD, "field_type": "multi_select"}, "custom_field")
    # the values of one field are unique; another field may hold the same value
    await refused(client.post("/v1/custom_field_options", json={"custom_field_id": TEAM_FIELD, "value": "PAYMENTS"},
                              headers=FULL), "value", "already")  # fmt: skip
    same = await made(client, "/v1/custom_field_options", {"custom_field_id": other["id"], "value": "Payments"},
                      "custom_field_option")  # fmt: skip
    await made(client, "/v1/custom_field_options", {"custom_field_id": other["id"], "value": "Search"},
               "custom_field_option")  # fmt: skip
    await refused(client.put(f"/v1/custom_field_options/{same['id']}", json={"value": "search", "sort_key": 1},
                             headers=FULL), "value", "already")  # fmt: skip
    await refused(client.post("/v1/custom_field_options", json={"custom_field_id": TEXT_FIELD, "value": "x"},
                              headers=FULL), "custom_field_id", "text field has no options")  # fmt: skip


# --- delete rules --------------------------------------------------------------------------------------------
async def test_the_built_in_roles_cannot_be_deleted(client: httpx.AsyncClient) -> None:
    for version in ("v1", "v2"):
        for role, words in ((LEAD, "lead role"), (REPORTER, "reporter role")):
            await refused(client.delete(f"/{version}/incident_roles/{role}", headers=FULL), "id", words)
    assert (await get(client, f"/v2/incident_roles/{LEAD}")).status_code == 200


async def test_what_an_incident_holds_cannot_be_deleted_until_it_lets_go(client: httpx.AsyncClient) -> None:
    """The seeded incident holds Investigating, the team field and its Payments option; a new one assigns
    the comms role."""
    for path, kind in (
        (f"/v1/incident_statuses/{INVESTIGATING}", "incident status"),
        (f"/v2/custom_fields/{TEAM_FIELD}", "custom field"),
        (f"/v1/custom_fields/{TEAM_FIELD}", "custom field"),
        (f"/v1/custom_field_options/{PAYMENTS}", "custom field option"),
    ):
        await refused(client.delete(path, headers=FULL), "id", f"incidents still use this {kind}")
    assigned = {"incident_role_id": COMMS, "assignee": {"email": "ada@example.com"}}
    incident = await made(client, "/v2/incidents", incident_body("comms", incident_role_assignments=[assigned]),
                          "incident", 200)  # fmt: skip
    await refused(client.delete(f"/v2/incident_roles/{COMMS}", headers=FULL), "id", "incidents still use")
    edit = {
        "incident": {"incident_role_assignments": [{"incident_role_id": COMMS}]},
        "notify_incident_channel": False,
    }
    assert (
        await client.post(f"/v2/incidents/{incident['id']}/actions/edit", json=edit, headers=FULL)
    ).status_code == 200
    assert (await client.delete(f"/v2/incident_roles/{COMMS}", headers=FULL)).status_code == 204
    assert (await get(client, f"/v2/custom_fields/{TEAM_FIELD}")).status_code == 200  # the refusals kept all


async def test_deleting_a_custom_field_takes_its_options(client: httpx.AsyncClient) -> None:
    field = await made(client, "/v2/custom_fields", FIELD, "custom_field")
    option = await made(client, "/v1/custom_field_options", {"custom_field_id": field["id"], "value": "EU"},
                        "custom_field_option")  # fmt: skip
    kept = (await get(client, f"/v1/custom_field_options?custom_field_id={TEAM_FIELD}")).json()
    assert (await client.delete(f"/v2/custom_fields/{field['id']}", headers=FULL)).status_code == 204
    assert (await get(client, f"/v1/custom_field_options/{option['id']}")).status_code == 404
    assert (await get(client, f"/v1/custom_field_options?custom_field_id={TEAM_FIELD}")).json() == kept
    await refused(
        get(client, f"/v1/custom_field_options?custom_field_id={field['id']}"), "custom_field_id", "no such"
    )


# --- status categories ---------------------------------------------------------------------------------------
async def test_only_live_and_learning_statuses_are_written(client: httpx.AsyncClient) -> None:
    body = {"name": "Wrapped up", "description": "d"}
    await refused(client.post("/v1/incident_statuses", json={**body, "category": "closed"}, headers=FULL),
                  "category", "managed by incident.io")  # fmt: skip
    triage = await client.post("/v1/incident_statuses", json={**body, "category": "triage"}, headers=FULL)
    assert triage.status_code == 422  # not in the create body's enum
    for status in (TRIAGE, PAUSED, CLOSED, DECLINED):
        await refused(
            client.put(f"/v1/incident_statuses/{status}", json=body, headers=FULL), "id", "cannot be changed"
        )
        await refused(
            client.delete(f"/v1/incident_statuses/{status}", headers=FULL), "id", "cannot be deleted"
        )
    changed = await client.put(f"/v1/incident_statuses/{LEARNING}", json=body, headers=FULL)
    assert changed.status_code == 200 and changed.json()["incident_status"]["category"] == "learning"
    # the last live status stays: Fixing and Monitoring go, Investigating is the last
    for status in (FIXING, MONITORING):
        gone = await client.delete(f"/v1/incident_statuses/{status}", headers=FULL)
        assert (gone.status_code, gone.content) == (202, b"")
    await refused(
        client.delete(f"/v1/incident_statuses/{INVESTIGATING}", headers=FULL), "id", "last live status"
    )


async def test_a_new_status_comes_last_of_its_category(client: httpx.AsyncClient) -> None:
    def order(answer: httpx.Response) -> list[tuple[str, int]]:
        return [(s["name"], s["rank"]) for s in answer.json()["incident_statuses"]]

    before = order(await get(client, "/v1/incident_statuses"))
    live = await made(client, "/v1/incident_statuses", {"name": "Mitigating", "description": "d", "category": "live"},
                      "incident_status")  # fmt: skip
    learning = await made(client, "/v1/incident_statuses", {"name": "Reviewing", "description": "d",
                                                           "category": "learning"}, "incident_status")  # fmt: skip
    names = [n for n, _ in order(await get(client, "/v1/incident_statuses"))]
    assert names == [
        "Triage", "Investigating", "Fixing", "Monitoring", "Mitigating", "Paused", "Documenting", "Reviewing",
        "Closed", "Declined", "Merged", "Canceled",
    ]  # fmt: skip
    ranks = [r for _, r in order(await get(client, "/v1/incident_statuses"))]
    assert ranks == sorted(set(ranks)) and (live["rank"], learning["rank"]) == (5, 8)
    assert len(before) + 2 == len(ranks)
    # a rank sent places it there: the others from that rank on move down one
    moved = await client.put(f"/v1/incident_statuses/{live['id']}",
                             json={"name": "Mitigating", "description": "d", "rank": 2}, headers=FULL)  # fmt: skip
    assert moved.status_code == 200 and moved.json()["incident_status"]["rank"] == 2
    first = [n for n, _ in order(await get(client, "/v1/incident_statuses"))][:3]
    assert first == ["Triage", "Mitigating", "Investigating"]


# --- incidents see the new settings -----------------------------------------------------------------------
async def test_incidents_created_after_a_write_use_the_new_settings(client: httpx.AsyncClient) -> None:
    role = await made(client, "/v1/incident_roles", {**ROLE, "required": False}, "incident_role")
    field = await made(client, "/v2/custom_fields", FIELD, "custom_field")
    option = await made(client, "/v1/custom_field_options", {"custom_field_id": field["id"], "value": "EU"},
                        "custom_field_option")  # fmt: skip
    status = await made(client, "/v1/incident_statuses", {"name": "Mitigating", "description": "d", "category": "live"},
                        "incident_status")  # fmt: skip
    body = incident_body(
        "new settings",
        incident_status_id=status["id"],
        custom_field_entries=[
            {"custom_field_id": field["id"], "values": [{"value_option_id": option["id"]}]}
        ],
        incident_role_assignments=[
            {"incident_role_id": role["id"], "assignee": {"email": "ada@example.com"}}
        ],
    )
    incident = await made(client, "/v2/incidents", body, "incident", 200)
    assert incident["incident_status"]["name"] == "Mitigating"
    [entry] = [e for e in incident["custom_field_entries"] if e["custom_field"]["id"] == field["id"]]
    assert entry["values"] == [{"value_option": option}]
    assert entry["custom_field"]["options"] == [option]
    [held] = [a for a in incident["incident_role_assignments"] if a["role"]["id"] == role["id"]]
    assert held["assignee"]["email"] == "ada@example.com"

    await client.put(
        f"/v1/custom_field_options/{option['id']}", json={"value": "Europe", "sort_key": 1}, headers=FULL
    )
    await client.put(f"/v2/incident_roles/{role['id']}", json={**ROLE, "name": "Chronicler"}, headers=FULL)
    shown = (await get(client, f"/v2/incidents/{incident['id']}")).json()["incident"]
    [entry] = [e for e in shown["custom_field_entries"] if e["custom_field"]["id"] == field["id"]]
    assert entry["values"][0]["value_option"]["value"] == "Europe"
    assert role["id"] in {
        a["role"]["id"] for a in shown["incident_role_assignments"] if a["role"]["name"] == "Chronicler"
    }


# --- the official SDK over sockets ---------------------------------------------------------------------------
@pytest.fixture
def full(live_url: str) -> Iterator[AuthenticatedClient]:
    with AuthenticatedClient(
        base_url=live_url, token="mock-key-full", raise_on_unexpected_status=True
    ) as made_:
        yield made_


def test_the_sdk_writes_through_one_version_and_reads_through_the_other(full: AuthenticatedClient) -> None:
    body = IncidentRolesCreatePayloadV1(
        name="Scribe",
        shortform="scribe",
        description="Keeps the timeline.",
        instructions="Write.",
        required=True,
    )
    with pytest.warns(DeprecationWarning, match="is deprecated"):
        created = incident_roles_v1_create.sync_detailed(client=full, body=body)
    assert created.status_code == 201 and isinstance(created.parsed, IncidentRolesCreateResultV1)
    role = created.parsed.incident_role
    assert role.required is False
    change = IncidentRolesUpdatePayloadV2(
        name="Timekeeper", shortform="time", description="d", instructions="i"
    )
    updated = incident_roles_v2_update.sync_detailed(role.id, client=full, body=change)
    assert isinstance(updated.parsed, IncidentRolesUpdateResultV2)
    shown_v2 = incident_roles_v2_show.sync_detailed(role.id, client=full).parsed
    assert isinstance(shown_v2, IncidentRolesShowResultV2) and shown_v2.incident_role.shortform == "time"
    with pytest.warns(DeprecationWarning, match="is deprecated"):
        shown_v1 = incident_roles_v1_show.sync_detailed(role.id, client=full).parsed
    assert isinstance(shown_v1, IncidentRolesShowResultV1) and shown_v1.incident_role.name == "Timekeeper"

    kind = CustomFieldsCreatePayloadV2FieldType.MULTI_SELECT
    field = custom_fields_v2_create.sync_detailed(
        client=full, body=CustomFieldsCreatePayloadV2(name="Regions", description="d", field_type=kind)
    ).parsed
    assert isinstance(field, CustomFieldsCreateResultV2)
    option = custom_field_options_v1_create.sync_detailed(
        client=full, body=CustomFieldOptionsCreatePayloadV1(custom_field_id=field.custom_field.id, value="EU")
    ).parsed
    assert (
        isinstance(option, CustomFieldOptionsCreateResultV1) and option.custom_field_option.sort_key == 1000
    )
    with pytest.warns(DeprecationWarning, match="is deprecated"):
        v1 = custom_fields_v1_show.sync_detailed(field.custom_field.id, client=full).parsed
    assert isinstance(v1, CustomFieldsShowResultV1)
    assert [o.value for o in v1.custom_field.options] == [
        "EU"
    ] and v1.custom_field.show_before_creation is False
    v2 = custom_fields_v2_show.sync_detailed(field.custom_field.id, client=full).parsed
    assert isinstance(v2, CustomFieldsShowResultV2) and v2.custom_field.name == "Regions"

    category = IncidentStatusesCreatePayloadV1Category.LEARNING
    status = incident_statuses_v1_create.sync_detailed(
        client=full,
        body=IncidentStatusesCreatePayloadV1(name="Reviewing", description="d", category=category),
    ).parsed
    assert isinstance(status, IncidentStatusesCreateResultV1)
    listed = incident_statuses_v1_list.sync_detailed(client=full).parsed
    assert isinstance(listed, IncidentStatusesListResultV1)
    names = [s.name for s in listed.incident_statuses]
    assert names.index("Reviewing") == names.index("Documenting") + 1
