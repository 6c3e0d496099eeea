"""The seed data is data, and it is valid against the contract's own schemas."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from incident_contract.access import role_scopes
from incident_contract.resources import declared, packaged
from incident_mock.kit.sandboxes import SCHEMA_OF


def validator(spec: dict[str, Any], name: str) -> OAS30Validator:
    return OAS30Validator({"components": spec["components"], "$ref": f"#/components/schemas/{name}"})


@pytest.mark.parametrize("table", sorted(SCHEMA_OF))
def test_each_seeded_object_matches_its_schema(
    spec: dict[str, Any], fixtures: dict[str, Any], table: str
) -> None:
    check = validator(spec, SCHEMA_OF[table])
    # the schema's properties, the id every table keys its objects by, the fields the declaration names
    # (a reference to the parent, as a notification method's user_id) and the stored fields an answer
    # does not hold: what clients write (`assignee_id`), embedded on answer
    names = {r.fixtures: r for r in declared(spec).values()}
    known = set(spec["components"]["schemas"][SCHEMA_OF[table]]["properties"]) | {"id"}
    known |= set(names[table].references)
    known |= {f for r in packaged().values() if r.fixtures == table for f in r.writable}
    assert fixtures[table]
    for obj in fixtures[table]:
        assert list(check.iter_errors(obj)) == [], obj
        # Response schemas are open, so a stray key would validate; in seed data it is always a mistake
        # (an unquoted comma in a YAML flow mapping makes one).
        assert set(obj) <= known, set(obj) - known


def test_seeded_incidents_are_valid_create_payloads(spec: dict[str, Any], fixtures: dict[str, Any]) -> None:
    check = validator(spec, "IncidentsCreatePayloadV2")
    for seed in fixtures["incidents"]:
        assert list(check.iter_errors(seed["payload"])) == []


def test_default_keys_hold_roles_of_the_contract(spec: dict[str, Any], fixtures: dict[str, Any]) -> None:
    keys = {k["token"]: k["roles"] for k in fixtures["api_keys"]}
    assert set(keys) == {"mock-key-full", "mock-key-creator", "mock-key-viewer"}
    assert set(keys["mock-key-full"]) == set(role_scopes(spec))
    assert keys["mock-key-creator"] == ["incident_creator"]
    assert keys["mock-key-viewer"] == ["viewer"]


def test_seed_covers_what_the_readme_promises(fixtures: dict[str, Any]) -> None:
    assert [(s["name"], s["rank"]) for s in fixtures["severities"]] == [
        ("Minor", 1),
        ("Major", 2),
        ("Critical", 3),
    ]
    categories = {s["category"] for s in fixtures["incident_statuses"]}
    assert {"triage", "live", "learning", "closed", "declined", "merged", "canceled"} <= categories
    assert sum(s["category"] == "live" for s in fixtures["incident_statuses"]) >= 2
    types = {t["name"]: t for t in fixtures["incident_types"]}
    assert types["Default"]["is_default"]
    assert types["Security"]["private_incidents_only"]
    assert {f["field_type"] for f in fixtures["custom_fields"]} >= {"single_select", "text"}
    assert {r["role_type"] for r in fixtures["incident_roles"]} == {"lead", "reporter", "custom"}


def test_documented_example_ids_exist_in_the_seed(spec: dict[str, Any], fixtures: dict[str, Any]) -> None:
    """The path examples in openapi.yaml name seeded objects, so 'try it out' works on a fresh mock."""
    seeded = {
        str(obj["id"])
        for rows in fixtures.values()
        if isinstance(rows, list)
        for obj in rows
        if isinstance(obj, dict) and "id" in obj
    }
    seeded |= {str(i["payload"].get("reference", "")) for i in fixtures["incidents"]} - {""}
    examples = {
        str(p["example"])
        for item in spec["paths"].values()
        for op in item.values()
        for p in op.get("parameters", [])
        if "example" in p and p.get("in") == "path"
    }
    assert examples
    assert examples <= seeded, sorted(examples - seeded)
