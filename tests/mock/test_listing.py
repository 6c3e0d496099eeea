"""openapi.yaml, Pagination and Incidents V2#List: cursors, totals, modes, every filter."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
import yaml

from incident_contract.operations import operations
from incident_contract.query import ListQuery
from incident_mock.app import DEFAULT_FIXTURES
from incident_mock.domain.errors import ValidationFailed
from incident_mock.domain.records import IncidentRecord
from incident_mock.engine.catalog import Catalog
from incident_mock.resources.incidents import listing
from tests.mock.conftest import FULL, VIEWER, incident_body
from tests.mock.seed import (
    CRITICAL,
    INVESTIGATING,
    LEAD,
    MAJOR,
    MINOR,
    PLATFORM,
    SECURITY,
    SEEDED_INCIDENT,
    TEAM_FIELD,
)


async def make(client: httpx.AsyncClient, key: str, **extra: Any) -> str:
    response = await client.post("/v2/incidents", json=incident_body(key, **extra), headers=FULL)
    assert response.status_code == 200, response.text
    return str(response.json()["incident"]["id"])


async def ids(client: httpx.AsyncClient, query: str, headers: dict[str, str] = FULL) -> list[str]:
    response = await client.get(f"/v2/incidents?page_size=250&{query}", headers=headers)
    assert response.status_code == 200, response.text
    return [i["id"] for i in response.json()["incidents"]]


async def walk(client: httpx.AsyncClient, query: str = "", page_size: int = 7) -> list[str]:
    seen: list[str] = []
    after = None
    while True:
        url = f"/v2/incidents?page_size={page_size}&{query}" + (f"&after={after}" if after else "")
        body = (await client.get(url, headers=FULL)).json()
        seen += [i["id"] for i in body["incidents"]]
        assert body["pagination_meta"]["page_size"] == page_size
        after = body["pagination_meta"].get("after")
        if after is None:
            return seen


async def test_walking_pages_visits_each_incident_once_newest_first(client: httpx.AsyncClient) -> None:
    created = [await make(client, f"w{i}") for i in range(30)]
    seen = await walk(client)
    assert seen[:30] == created[::-1]
    assert len(seen) == len(set(seen)) == 31


async def test_oldest_first_reverses_the_order(client: httpx.AsyncClient) -> None:
    created = [await make(client, f"o{i}") for i in range(5)]
    assert (await walk(client, "sort_by=created_at_oldest_first", page_size=2))[1:] == created


async def test_walk_stays_exact_while_incidents_are_created_and_edited(client: httpx.AsyncClient) -> None:
    before = [await make(client, f"s{i}") for i in range(12)]
    first = (await client.get("/v2/incidents?page_size=5", headers=FULL)).json()
    seen = [i["id"] for i in first["incidents"]]
    after = first["pagination_meta"]["after"]
    await make(client, "during-1")
    await client.post(
        f"/v2/incidents/{before[0]}/actions/edit",
        json={"incident": {"name": "x"}, "notify_incident_channel": False},
        headers=FULL,
    )
    while after:
        body = (await client.get(f"/v2/incidents?page_size=5&after={after}", headers=FULL)).json()
        seen += [i["id"] for i in body["incidents"]]
        after = body["pagination_meta"].get("after")
        await make(client, f"during-{len(seen)}")
    assert sorted(seen) == sorted([*before, "01JGZ1NC000000000000000042"])


async def test_total_record_count_and_default_page_size(client: httpx.AsyncClient) -> None:
    for i in range(27):
        await make(client, f"t{i}")
    body = (await client.get("/v2/incidents", headers=FULL)).json()
    assert len(body["incidents"]) == 25
    assert body["pagination_meta"] == {
        "page_size": 25,
        "after": body["incidents"][-1]["id"],
        "total_record_count": 28,
    }


@pytest.mark.parametrize("size", ["0", "251", "-1", "abc", "1.5", ""])
async def test_page_size_outside_1_to_250_is_422(client: httpx.AsyncClient, size: str) -> None:
    response = await client.get(f"/v2/incidents?page_size={size}", headers=FULL)
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"]["field"] == "page_size"


async def test_unknown_or_hidden_after_is_422(client: httpx.AsyncClient) -> None:
    private = await make(client, "hidden", visibility="private")
    for after, headers in (("nope", FULL), (private, VIEWER)):
        response = await client.get(f"/v2/incidents?after={after}", headers=headers)
        assert response.status_code == 422
        assert response.json()["errors"][0]["source"]["field"] == "after"


async def test_test_and_tutorial_incidents_are_left_out_unless_asked_for(client: httpx.AsyncClient) -> None:
    test = await make(client, "m-test", mode="test")
    tutorial = await make(client, "m-tut", mode="tutorial")
    retro = await make(client, "m-retro", mode="retrospective")
    default = await ids(client, "")
    assert retro in default
    assert test not in default
    assert tutorial not in default
    assert await ids(client, "mode[one_of]=test") == [test]
    assert set(await ids(client, "mode[one_of]=test&mode[one_of]=tutorial")) == {test, tutorial}
    body = (await client.get("/v2/incidents?mode[one_of]=test", headers=FULL)).json()
    assert body["pagination_meta"]["total_record_count"] == 1


async def test_every_filter(client: httpx.AsyncClient) -> None:
    minor = await make(client, "f-minor", severity_id=MINOR, incident_status_id=INVESTIGATING)
    critical = await make(
        client,
        "f-crit",
        severity_id=CRITICAL,
        custom_field_entries=[{"custom_field_id": TEAM_FIELD, "values": [{"value_option_id": PLATFORM}]}],
        incident_role_assignments=[{"incident_role_id": LEAD, "assignee": {"email": "grace@example.com"}}],
    )
    secure = await make(client, "f-sec", incident_type_id=SECURITY, visibility="private")
    seeded = SEEDED_INCIDENT
    today = dt.datetime.now(dt.UTC).date()
    expectations = {
        f"status[one_of]={INVESTIGATING}": {minor, seeded},
        f"status[not_in]={INVESTIGATING}": {critical, secure},
        "status_category[one_of]=triage": {critical, secure},
        f"severity[one_of]={MINOR}&severity[one_of]={CRITICAL}": {minor, critical},
        f"severity[not_in]={MAJOR}": {minor, critical},
        f"severity[gte]={MAJOR}": {critical, seeded, secure},
        f"severity[lte]={MINOR}": {minor},
        f"incident_type[one_of]={SECURITY}": {secure},
        f"incident_type[not_in]={SECURITY}": {minor, critical, seeded},
        f"created_at[gte]={today}": {minor, critical, secure, seeded},  # the seed is created at start-up
        f"created_at[lte]={today - dt.timedelta(days=1)}": set(),
        f"created_at[date_range]={today}~{today}": {minor, critical, secure, seeded},
        f"updated_at[gte]={today}": {minor, critical, secure, seeded},
        f"incident_role[{LEAD}][is_set]=true": {critical, seeded},
        f"incident_role[{LEAD}][is_blank]=true": {minor, secure},
        f"incident_role[{LEAD}][one_of]=01JGZ0VSER0000000000GRACE0": {critical},
        f"custom_field[{TEAM_FIELD}][one_of]={PLATFORM}": {critical},
        f"custom_field[{TEAM_FIELD}][not_in]={PLATFORM}": {minor, seeded, secure},
        f"severity[one_of]={MINOR}&status_category[one_of]=triage&filter_mode=any": {minor, critical, secure},
        f"severity[one_of]={MINOR}&status_category[one_of]=triage": set(),
    }
    for query, expected in expectations.items():
        assert set(await ids(client, query)) == expected, query


@pytest.mark.parametrize(
    "query",
    [
        "status[bogus]=x",
        "status=x",
        "status[one_of][x]=y",
        "status_category[one_of]=INVESTIGATING",
        "mode[one_of]=real",
        "created_at[gte]=yesterday",
        "created_at[date_range]=2026-01-01",
        "created_at[gte]=2026-01-01&created_at[gte]=2026-01-02",
        "severity[one_of]=not-a-severity",
        "incident_role[nope][is_set]=true",
        f"incident_role[{LEAD}][is_set]=maybe",
        f"custom_field[{TEAM_FIELD}][is_set]=true",
        "sort_by=newest",
        "filter_mode=some",
        "colour=red",
    ],
)
async def test_malformed_filters_are_422_naming_the_parameter(client: httpx.AsyncClient, query: str) -> None:
    response = await client.get(f"/v2/incidents?{query}", headers=FULL)
    assert response.status_code == 422, response.text
    error = response.json()["errors"][0]
    assert error["code"] == "invalid_value"
    assert query.split("=", 1)[0].split("[", 1)[0] in error["source"]["field"]


async def test_custom_field_options_are_paginated_in_sort_order(client: httpx.AsyncClient) -> None:
    first = (
        await client.get(f"/v1/custom_field_options?custom_field_id={TEAM_FIELD}&page_size=2", headers=VIEWER)
    ).json()
    assert [o["value"] for o in first["custom_field_options"]] == ["Payments", "Platform"]
    after = first["pagination_meta"]["after"]
    second = (
        await client.get(
            f"/v1/custom_field_options?custom_field_id={TEAM_FIELD}&page_size=2&after={after}", headers=VIEWER
        )
    ).json()
    assert [o["value"] for o in second["custom_field_options"]] == ["Identity"]
    assert "after" not in second["pagination_meta"]
    unknown = await client.get("/v1/custom_field_options?custom_field_id=nope", headers=VIEWER)
    assert unknown.status_code == 422
    missing = await client.get("/v1/custom_field_options", headers=VIEWER)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["code"] == "is_required"


# --- listing.py on its own: the matcher, with no store and no HTTP ----------------------------------


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    with open(DEFAULT_FIXTURES, encoding="utf-8") as fh:
        return Catalog.from_fixtures(yaml.safe_load(fh))


def record(**fields: Any) -> IncidentRecord:
    moment = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    base: dict[str, Any] = {
        "id": "01TESTRECORD",
        "number": 1,
        "seq": 0,
        "name": "r",
        "visibility": "public",
        "mode": "standard",
        "status_id": INVESTIGATING,
        "severity_id": MAJOR,
        "type_id": "01JGZ0TYPE00000000000DEFA0",
        "creator": {},
        "created_at": moment,
        "updated_at": moment,
    }
    return IncidentRecord(**(base | fields))


def parsed(raw: str, spec: dict[str, Any]) -> ListQuery:
    return listing.parse(raw, operations(spec)["Incidents V2#List"].parameters)


@pytest.mark.parametrize(
    ("raw", "hit"),
    [
        (f"status[one_of]={INVESTIGATING}", True),
        (f"status[not_in]={INVESTIGATING}", False),
        ("status_category[one_of]=live", True),
        ("status_category[one_of]=triage&status_category[one_of]=closed", False),
        (f"severity[one_of]={MINOR}&severity[one_of]={MAJOR}", True),
        (f"severity[gte]={MAJOR}", True),
        (f"severity[gte]={CRITICAL}", False),
        (f"severity[lte]={MINOR}", False),
        ("created_at[gte]=2026-03-10", True),
        ("created_at[gte]=2026-03-11", False),
        ("created_at[lte]=2026-03-09", False),
        ("created_at[date_range]=2026-03-01~2026-03-10", True),
        ("updated_at[date_range]=2026-03-11~2026-03-12", False),
        (f"incident_role[{LEAD}][one_of]=01JGZ0VSER000000000000ADA0", True),
        (f"incident_role[{LEAD}][is_set]=true", True),
        (f"incident_role[{LEAD}][is_set]=false", False),
        (f"custom_field[{TEAM_FIELD}][one_of]={PLATFORM}", True),
        (f"custom_field[{TEAM_FIELD}][not_in]={PLATFORM}", False),
    ],
)
def test_one_filter_matches_a_record(catalog: Catalog, spec: dict[str, Any], raw: str, hit: bool) -> None:
    rec = record(
        roles={LEAD: "01JGZ0VSER000000000000ADA0"},
        custom_fields={TEAM_FIELD: [{"value_option_id": PLATFORM}]},
    )
    assert listing.matches(parsed(raw, spec), catalog, rec) is hit


def test_filter_mode_any_needs_one_filter_and_all_needs_every_one(
    catalog: Catalog, spec: dict[str, Any]
) -> None:
    both = f"status_category[one_of]=live&severity[one_of]={CRITICAL}"
    assert not listing.matches(parsed(both, spec), catalog, record())
    assert listing.matches(parsed(both + "&filter_mode=any", spec), catalog, record())
    assert listing.matches(parsed("", spec), catalog, record())  # no filters: everything


def test_filters_naming_unknown_ids_are_422(catalog: Catalog, spec: dict[str, Any]) -> None:
    for raw in ("status[one_of]=nope", "severity[gte]=nope", "incident_role[nope][is_set]=true"):
        with pytest.raises(ValidationFailed) as caught:
            listing.check_references(parsed(raw, spec), catalog)
        assert caught.value.errors[0]["source"]["field"] == raw.split("[")[0]
    listing.check_references(parsed(f"severity[gte]={MINOR}&mode[one_of]=test", spec), catalog)


@pytest.mark.parametrize(("newer", "published"), [("active", "live"), ("post-incident", "learning")])
def test_a_status_category_filter_takes_the_newer_name_for_the_published_one(
    catalog: Catalog, spec: dict[str, Any], newer: str, published: str
) -> None:
    for op in ("one_of", "not_in"):
        query = parsed(f"status_category[{op}]={newer}&status_category[{op}]=triage", spec)
        assert (
            query.filters
            == parsed(f"status_category[{op}]={published}&status_category[{op}]=triage", spec).filters
        )
    live = record()  # in Investigating, a live status
    assert listing.matches(parsed("status_category[one_of]=active", spec), catalog, live)
    assert not listing.matches(parsed("status_category[one_of]=post-incident", spec), catalog, live)


def test_a_query_the_grammar_refuses_is_422_naming_the_parameter(spec: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parsed("status_category[one_of]=sideways", spec)
    assert caught.value.errors[0]["source"]["field"] == "status_category"
