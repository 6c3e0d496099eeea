"""The catalog's behaviour: values checked against their type's schema, the bulk update, schema updates,
deleting a type, the `identifier` filter, v2 and v3 over the same tables, and the teams (the team type's
entries). In-process through the app, and through the official SDK over a socket."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from incident_io import AuthenticatedClient
from incident_io.api.catalog_v3 import catalog_v3_list_entries
from incident_io.api.teams_v3 import teams_v3_list
from incident_io.models import CatalogListEntriesResultV3, TeamsListResultV3

from incident_mock.resources.organisation import Store
from incident_mock.testing import Sandbox
from tests.mock.conftest import FULL

SERVICE, TEAM = "01JGZ0CTYPE0000000SERV1CE0", "01JGZ0CTYPE00000000000TEAM"
TIER, OWNER, CRITICAL = (
    "01JGZ0CATTR00000000000T1ER",
    "01JGZ0CATTR00000000000WNER",
    "01JGZ0CATTR0000000CR1T1CA1",
)
MEMBERS = "01JGZ0CATTR00000000MEMBERS"
CHECKOUT, GATEWAY, IDENTITY = (
    "01JGZ0CENTRY000000CHECK0VT",
    "01JGZ0CENTRY0000000PAYGATE",
    "01JGZ0CENTRY0000001DENT1TY",
)
PAYMENTS, PLATFORM = "01JGZ0CENTRY0000000TEAMPAY", "01JGZ0CENTRY000000TEAMP1AT"
ADA, GRACE = "01JGZ0VSER000000000000ADA0", "01JGZ0VSER0000000000GRACE0"
Json = dict[str, Any]


def one(literal: str) -> Json:
    return {"value": {"literal": literal}}


async def entry(client: httpx.AsyncClient, entry_id: str, version: str = "v3") -> Json:
    answer = await client.get(f"/{version}/catalog_entries/{entry_id}", headers=FULL)
    assert answer.status_code == 200, answer.text
    return answer.json()["catalog_entry"]  # type: ignore[no-any-return]


async def create_entry(client: httpx.AsyncClient, body: Json, version: str = "v3") -> httpx.Response:
    return await client.post(f"/{version}/catalog_entries", headers=FULL, json=body)


def error_source(answer: httpx.Response) -> Json:
    assert answer.status_code == 422, answer.text
    return answer.json()["errors"][0]["source"]  # type: ignore[no-any-return]


# --- values checked against the type's schema ----------------------------------------------------------
async def test_an_attribute_the_type_lacks_is_422_naming_it(client: httpx.AsyncClient) -> None:
    answer = await create_entry(
        client, {"catalog_type_id": SERVICE, "name": "Search", "attribute_values": {MEMBERS: one("x")}}
    )
    assert error_source(answer) == {"field": "attribute_values", "pointer": f"/attribute_values/{MEMBERS}"}
    assert MEMBERS in answer.json()["errors"][0]["message"]
    listed = await client.get("/v3/catalog_entries", headers=FULL, params={"catalog_type_id": SERVICE})
    assert "Search" not in [e["name"] for e in listed.json()["catalog_entries"]]


@pytest.mark.parametrize(
    ("values", "pointer"),
    [
        ({CRITICAL: one("maybe")}, f"/attribute_values/{CRITICAL}/value"),
        ({OWNER: one("no-such-team")}, f"/attribute_values/{OWNER}/value"),
        ({TIER: {"array_value": [{"literal": "a"}]}}, f"/attribute_values/{TIER}"),
    ],
)
async def test_a_value_its_attribute_refuses_is_422(
    client: httpx.AsyncClient, values: Json, pointer: str
) -> None:
    answer = await create_entry(
        client, {"catalog_type_id": SERVICE, "name": "Search", "attribute_values": values}
    )
    assert error_source(answer) == {"field": "attribute_values", "pointer": pointer}


async def test_values_naming_entries_and_users_are_held_as_ids_with_their_names(
    client: httpx.AsyncClient,
) -> None:
    made = await create_entry(
        client,
        {"catalog_type_id": SERVICE, "name": "Search", "attribute_values": {OWNER: one("infra")}},
    )
    assert made.status_code == 201, made.text
    assert made.json()["catalog_entry"]["attribute_values"][OWNER] == {
        "value": {"literal": PLATFORM, "label": "Platform"}
    }
    team = await create_entry(
        client,
        {
            "catalog_type_id": TEAM,
            "name": "Search team",
            "attribute_values": {
                MEMBERS: {"array_value": [{"literal": "grace@example.com"}, {"literal": "U0ADA"}]}
            },
        },
    )
    assert team.json()["catalog_entry"]["attribute_values"][MEMBERS]["array_value"] == [
        {"literal": GRACE, "label": "Grace Hopper"},
        {"literal": ADA, "label": "Ada Lovelace"},
    ]


async def test_a_create_with_a_held_external_id_updates_that_entry(client: httpx.AsyncClient) -> None:
    answer = await create_entry(
        client,
        {
            "catalog_type_id": SERVICE,
            "name": "Checkout",
            "external_id": "checkout-api",
            "attribute_values": {},
        },
    )
    assert answer.status_code == 201
    assert answer.json()["catalog_entry"]["id"] == CHECKOUT
    assert (await entry(client, CHECKOUT))["name"] == "Checkout"


async def test_update_attributes_changes_only_the_listed_attributes(client: httpx.AsyncClient) -> None:
    answer = await client.put(
        f"/v3/catalog_entries/{CHECKOUT}",
        headers=FULL,
        json={
            "name": "Checkout API",
            "attribute_values": {TIER: one("tier-3"), OWNER: one("Platform")},
            "update_attributes": [TIER, CRITICAL],
        },
    )
    assert answer.status_code == 200, answer.text
    values = answer.json()["catalog_entry"]["attribute_values"]
    assert values[TIER]["value"]["literal"] == "tier-3"
    assert values[OWNER]["value"]["literal"] == PAYMENTS  # not listed: kept, though sent
    assert CRITICAL not in values  # listed without a value: cleared
    assert answer.json()["catalog_entry"]["aliases"] == ["checkout"]  # left out: kept


# --- bulk update -------------------------------------------------------------------------------------
async def test_bulk_update_changes_every_entry_with_upstreams_omission_rules(
    client: httpx.AsyncClient,
) -> None:
    await client.put(
        f"/v3/catalog_entries/{GATEWAY}",
        headers=FULL,
        json={"name": "Payment gateway", "rank": 5, "attribute_values": {}},
    )
    answer = await client.post(
        "/v3/catalog_entries/actions/bulk_update",
        headers=FULL,
        json={
            "catalog_type_id": SERVICE,
            "update_attributes": [TIER],
            "entries": [
                {"entry_id": CHECKOUT, "attribute_values": {TIER: one("tier-0")}},
                {"entry_id": GATEWAY, "name": "Gateway", "attribute_values": {TIER: one("tier-0")}},
            ],
        },
    )
    assert answer.status_code == 204, answer.text
    checkout, gateway = await entry(client, CHECKOUT), await entry(client, GATEWAY)
    assert checkout["attribute_values"][TIER]["value"]["literal"] == "tier-0"
    assert checkout["attribute_values"][OWNER]["value"]["literal"] == PAYMENTS  # not in update_attributes
    assert (checkout["name"], checkout["aliases"]) == ("Checkout API", ["checkout"])  # left out: kept
    assert (gateway["name"], gateway["rank"]) == ("Gateway", 0)  # rank left out: cleared


async def test_bulk_update_without_update_attributes_replaces_the_values(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/v3/catalog_entries/actions/bulk_update",
        headers=FULL,
        json={
            "catalog_type_id": SERVICE,
            "entries": [{"entry_id": CHECKOUT, "attribute_values": {TIER: one("t")}}],
        },
    )
    assert answer.status_code == 204
    assert (await entry(client, CHECKOUT))["attribute_values"] == {
        TIER: {"value": {"literal": "t", "label": "t"}}
    }


@pytest.mark.parametrize(
    ("second", "pointer"),
    [
        ({"entry_id": "01JGZ0CENTRY00000000N0NE00", "attribute_values": {}}, "/entries/1/entry_id"),
        ({"entry_id": PAYMENTS, "attribute_values": {}}, "/entries/1/entry_id"),  # another type's
        ({"entry_id": CHECKOUT, "attribute_values": {}}, "/entries/1/entry_id"),  # named twice
        (
            {"entry_id": GATEWAY, "attribute_values": {CRITICAL: one("perhaps")}},
            f"/entries/1/attribute_values/{CRITICAL}/value",
        ),
        (
            {"entry_id": GATEWAY, "external_id": "identity-service", "attribute_values": {}},
            "/entries/1/external_id",
        ),
    ],
)
async def test_bulk_update_is_all_or_nothing(client: httpx.AsyncClient, second: Json, pointer: str) -> None:
    before = await entry(client, CHECKOUT)
    answer = await client.post(
        "/v3/catalog_entries/actions/bulk_update",
        headers=FULL,
        json={
            "catalog_type_id": SERVICE,
            "entries": [{"entry_id": CHECKOUT, "name": "Renamed", "attribute_values": {}}, second],
        },
    )
    assert error_source(answer)["pointer"] == pointer
    assert await entry(client, CHECKOUT) == before


# --- schema updates and deleting a type ----------------------------------------------------------------
async def test_a_schema_update_needs_the_current_version_and_drops_the_values_of_removed_attributes(
    client: httpx.AsyncClient,
) -> None:
    kept = [{"id": TIER, "name": "Tier", "type": "String", "array": False}]
    stale = await client.post(
        f"/v3/catalog_types/{SERVICE}/actions/update_schema",
        headers=FULL,
        json={"version": 1, "attributes": kept},
    )
    assert error_source(stale)["field"] == "version"
    body = {"version": 2, "attributes": [*kept, {"name": "Runbook", "type": "Text", "array": False}]}
    answer = await client.post(f"/v3/catalog_types/{SERVICE}/actions/update_schema", headers=FULL, json=body)
    assert answer.status_code == 200, answer.text
    schema = answer.json()["catalog_type"]["schema"]
    assert schema["version"] == 3
    runbook = schema["attributes"][1]
    assert (runbook["name"], runbook["mode"]) == ("Runbook", "api") and runbook["id"]
    assert set((await entry(client, CHECKOUT))["attribute_values"]) == {TIER}
    unknown = {"version": 3, "attributes": [{"name": "Owner", "type": 'Custom["Nothing"]', "array": False}]}
    refused = await client.post(
        f"/v3/catalog_types/{SERVICE}/actions/update_schema", headers=FULL, json=unknown
    )
    assert error_source(refused) == {"field": "type", "pointer": "/attributes/0/type"}


async def test_deleting_a_type_deletes_its_entries(client: httpx.AsyncClient) -> None:
    assert (await client.delete(f"/v3/catalog_types/{TEAM}", headers=FULL)).status_code == 204
    assert (await client.get(f"/v3/catalog_types/{TEAM}", headers=FULL)).status_code == 404
    for gone in (PAYMENTS, PLATFORM):
        assert (await client.get(f"/v3/catalog_entries/{gone}", headers=FULL)).status_code == 404
        assert (await client.get(f"/v2/catalog_entries/{gone}", headers=FULL)).status_code == 404
    teams = await client.get("/v3/teams", headers=FULL)
    assert teams.json()["teams"] == []
    listed = await client.get("/v3/catalog_entries", headers=FULL, params={"catalog_type_id": TEAM})
    assert error_source(listed)["field"] == "catalog_type_id"
    assert (await entry(client, CHECKOUT))["name"] == "Checkout API"  # other types' entries stay


async def test_deleted_rows_give_their_text_back(client: httpx.AsyncClient, store: Store) -> None:
    first = await create_entry(client, {"catalog_type_id": SERVICE, "name": "A", "attribute_values": {}})
    held = store.text
    second = await create_entry(
        client, {"catalog_type_id": SERVICE, "name": "B" * 5000, "attribute_values": {}}
    )
    assert store.text > held + 5000
    await client.delete(f"/v3/catalog_entries/{second.json()['catalog_entry']['id']}", headers=FULL)
    assert store.text == held
    assert first.status_code == 201


# --- the identifier filter and pages --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("type_id", "identifier", "found"),
    [
        (SERVICE, CHECKOUT, [CHECKOUT]),
        (SERVICE, "identity-service", [IDENTITY]),
        (SERVICE, "sso", [IDENTITY]),
        (SERVICE, "Checkout API", []),  # the Service type does not use names as identifiers
        (TEAM, "Payments", [PAYMENTS]),  # the Team type does
        (TEAM, "infra", [PLATFORM]),
        (TEAM, "payments", []),  # exact, not ignoring case
    ],
)
async def test_the_identifier_filter(
    client: httpx.AsyncClient, type_id: str, identifier: str, found: list[str]
) -> None:
    answer = await client.get(
        "/v3/catalog_entries", headers=FULL, params={"catalog_type_id": type_id, "identifier": identifier}
    )
    assert answer.status_code == 200, answer.text
    assert [e["id"] for e in answer.json()["catalog_entries"]] == found
    assert answer.json()["pagination_meta"]["total_record_count"] == len(found)


async def test_pages_walk_every_entry_once(client: httpx.AsyncClient) -> None:
    seen: list[str] = []
    after: str | None = None
    while True:
        params: Json = {"catalog_type_id": SERVICE, "page_size": 2, **({"after": after} if after else {})}
        page = (await client.get("/v3/catalog_entries", headers=FULL, params=params)).json()
        seen += [e["name"] for e in page["catalog_entries"]]
        assert page["pagination_meta"]["total_record_count"] == 5
        after = page["pagination_meta"].get("after")
        if after is None:
            break
    assert seen == ["Checkout API", "Identity service", "Notifications", "Payment gateway", "Reports archive"]


# --- v2 and v3 over the same tables --------------------------------------------------------------------
async def test_what_v2_writes_v3_reads_and_back(client: httpx.AsyncClient) -> None:
    taken = await client.post(
        "/v2/catalog_types", headers=FULL, json={"name": "Customer", "description": "x"}
    )
    assert error_source(taken)["field"] == "type_name"  # Custom["Customer"] is the fixtures' Customer type's
    made = await client.post(
        "/v2/catalog_types", headers=FULL, json={"name": "Region", "description": "Where we run."}
    )
    assert made.status_code == 201, made.text
    v2_type = made.json()["catalog_type"]
    assert v2_type["semantic_type"] == "custom" and "use_name_as_identifier" not in v2_type
    schema = {
        "version": 1,
        "attributes": [{"name": "Plan", "type": "String", "array": False, "mode": "manual"}],
    }
    updated = await client.post(
        f"/v2/catalog_types/{v2_type['id']}/actions/update_schema", headers=FULL, json=schema
    )
    assert updated.json()["catalog_type"]["schema"]["attributes"][0]["mode"] == "manual"
    v3_type = (await client.get(f"/v3/catalog_types/{v2_type['id']}", headers=FULL)).json()["catalog_type"]
    assert v3_type["type_name"] == 'Custom["Region"]'
    plan = v3_type["schema"]["attributes"][0]
    assert (plan["name"], plan["mode"], v3_type["schema"]["version"]) == ("Plan", "api", 2)
    v3_entry = await create_entry(
        client,
        {"catalog_type_id": v3_type["id"], "name": "EU", "attribute_values": {plan["id"]: one("gold")}},
    )
    v2_entry = await entry(client, v3_entry.json()["catalog_entry"]["id"], "v2")
    assert v2_entry["attribute_values"][plan["id"]] == {
        "value": {"literal": "gold", "label": "gold", "sort_key": "gold"}
    }
    checkout = await entry(client, CHECKOUT, "v2")
    assert checkout["attribute_values"][OWNER]["value"]["catalog_entry"] == {
        "catalog_entry_id": PAYMENTS,
        "catalog_entry_name": "Payments",
        "catalog_type_id": TEAM,
    }
    await client.delete(f"/v2/catalog_types/{v2_type['id']}", headers=FULL)
    assert (await client.get(f"/v3/catalog_types/{v2_type['id']}", headers=FULL)).status_code == 404


async def test_a_v2_reference_value_is_422(client: httpx.AsyncClient) -> None:
    body = {
        "catalog_type_id": SERVICE,
        "name": "X",
        "attribute_values": {TIER: {"value": {"reference": "incident.x"}}},
    }
    answer = await create_entry(client, body, "v2")
    assert error_source(answer)["pointer"] == f"/attribute_values/{TIER}/value"


# --- teams ---------------------------------------------------------------------------------------------
async def test_teams_are_the_team_types_entries(client: httpx.AsyncClient) -> None:
    teams = (await client.get("/v3/teams", headers=FULL)).json()["teams"]
    assert [(t["name"], [m["name"] for m in t["members"]]) for t in teams] == [
        ("Payments", ["Ada Lovelace"]),
        ("Platform", ["Ada Lovelace", "Grace Hopper"]),
    ]
    await client.put(
        f"/v3/catalog_entries/{PAYMENTS}",
        headers=FULL,
        json={"name": "Payments", "attribute_values": {MEMBERS: {"array_value": [{"literal": GRACE}]}}},
    )
    team = (await client.get(f"/v3/teams/{PAYMENTS}", headers=FULL)).json()["team"]
    assert team["members"] == [
        {"id": GRACE, "name": "Grace Hopper", "email": "grace@example.com", "slack_user_id": "U0GRACE"}
    ]
    assert team["catalog_entry"] == {"id": PAYMENTS, "name": "Payments", "external_id": "team-payments"}
    assert (await client.get(f"/v3/teams/{CHECKOUT}", headers=FULL)).status_code == 404  # not a team


# --- the official SDK over a socket -------------------------------------------------------------------
def test_the_sdk_lists_entries_by_identifier_and_teams(sandbox: Sandbox) -> None:
    sdk = AuthenticatedClient(base_url=sandbox.base_url, token=sandbox.keys.full)
    with sdk:
        page = catalog_v3_list_entries.sync(
            client=sdk, catalog_type_id=SERVICE, page_size=25, identifier="paygate"
        )
        assert isinstance(page, CatalogListEntriesResultV3)
        assert [e.id for e in page.catalog_entries] == [GATEWAY]
        assert page.catalog_type.name == "Service"
        teams = teams_v3_list.sync(client=sdk, page_size=1)
        assert isinstance(teams, TeamsListResultV3)
        assert [t.name for t in teams.teams] == ["Payments"]
        assert teams.pagination_meta.after == PAYMENTS
