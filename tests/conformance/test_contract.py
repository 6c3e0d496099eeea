"""The suite's questions about the contract, answered from the document through the core."""

from __future__ import annotations

from incident_conformance.contract import Contract
from incident_contract import facts
from incident_contract.document import load_spec

CONTRACT = Contract(load_spec())


def test_paths_fill_every_parameter_and_default_to_x() -> None:
    assert CONTRACT.path("Incidents V2#Edit", id="I1") == "/v2/incidents/I1/actions/edit"
    assert CONTRACT.path("Incidents V2#Show") == "/v2/incidents/x"
    assert (
        CONTRACT.method("Incidents V2#Create") == "POST"
        and CONTRACT.success_status("Incidents V2#Create") == 200
    )


def test_facts_come_from_the_core() -> None:
    spec = CONTRACT.spec
    assert CONTRACT.error_types == facts.error_types(spec) and CONTRACT.error_types[404] == "not_found"
    assert CONTRACT.max_body_bytes == facts.max_body_bytes(spec)
    assert CONTRACT.page_size_bounds("Incidents V2#List") == facts.page_size_bounds(spec, "Incidents V2#List")


def test_settings_writes_are_the_writes_that_need_a_settings_scope() -> None:
    writes = set(CONTRACT.settings_writes())
    assert {
        "Severities V1#Create",
        "Severities V1#Update",
        "Severities V1#Delete",
        "Incident Roles V2#Delete",
        "Custom Field Options V1#Create",
        "Incident Statuses V1#Delete",  # incident_lifecycles.update
    } <= writes
    assert writes == {
        op
        for op in CONTRACT.writes()
        if {"organisation_settings.update", "incident_lifecycles.update"} & set(CONTRACT.scopes(op))
    }
    assert writes < set(CONTRACT.writes()) and "Incidents V2#Create" not in writes


def test_enums_and_paginated_operations() -> None:
    body = {e.field: e.values for e in CONTRACT.body_enums("Incidents V2#Create")}
    assert body["visibility"] == ("public", "private")
    query = {q.param for q in CONTRACT.query_enums("Incidents V2#List")}
    assert {"sort_by", "mode[one_of]"} <= query
    assert "Incidents V2#List" in CONTRACT.paginated() and "Severities V1#List" not in CONTRACT.paginated()
    assert CONTRACT.required_query("Custom Field Options V1#List") == ["custom_field_id"]


def test_schemas_validate_against_the_document() -> None:
    assert CONTRACT.schema_errors("ErrorResponse", {"type": "not_found"})
    assert CONTRACT.body_validator("Incidents V2#Show") is None
    validator = CONTRACT.body_validator("Severities V1#Create")
    assert validator is not None and not validator.is_valid({})
    assert CONTRACT.property_schema("Severities V1#Create", "name").get("maxLength") == 50
    assert "incidents" in CONTRACT.success_schema("Incidents V2#List")["properties"]
