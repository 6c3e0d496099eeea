"""Request bodies: required sets, closed objects, every field the official SDK can send."""

from __future__ import annotations

from typing import Any

import attrs
import incident_io.models as sdk
import pytest

from incident_contract.operations import operations

SCHEMAS_SDK_SENDS = [
    "IncidentsCreatePayloadV2",
    "IncidentsEditPayloadV2",
    "IncidentEditPayloadV2",
    "SeveritiesCreatePayloadV1",
    "SeveritiesUpdatePayloadV1",
    "CustomFieldEntryPayloadV2",
    "CustomFieldValuePayloadV2",
    "IncidentRoleAssignmentPayloadV2",
    "UserReferencePayloadV2",
    "IncidentTimestampValuePayloadV2",
    "RetrospectiveIncidentOptionsV2",
]


def _json_names(model: type) -> set[str]:
    return {f.name.rstrip("_") for f in attrs.fields(model) if f.name != "additional_properties"}


def test_create_requires_exactly_idempotency_key_severity_and_visibility(spec: dict[str, Any]) -> None:
    schema = spec["components"]["schemas"]["IncidentsCreatePayloadV2"]
    assert set(schema["required"]) == {"idempotency_key", "severity_id", "visibility"}


def test_visibility_is_a_closed_enum(spec: dict[str, Any]) -> None:
    prop = spec["components"]["schemas"]["IncidentsCreatePayloadV2"]["properties"]["visibility"]
    assert prop["enum"] == ["public", "private"]


def test_edit_cannot_carry_visibility_mode_or_type(spec: dict[str, Any]) -> None:
    props = spec["components"]["schemas"]["IncidentEditPayloadV2"]["properties"]
    assert not {"visibility", "mode", "incident_type_id"} & set(props)


@pytest.mark.parametrize("name", SCHEMAS_SDK_SENDS)
def test_request_body_is_closed_and_accepts_every_sdk_field(spec: dict[str, Any], name: str) -> None:
    schema = spec["components"]["schemas"][name]
    assert schema["additionalProperties"] is False
    assert _json_names(getattr(sdk, name)) <= set(schema["properties"])


def test_every_request_body_schema_is_closed(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    bodies = {
        op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        for op in (o.raw for o in operations(spec).values())
        if "requestBody" in op
    }
    assert bodies
    assert all(schemas[b]["additionalProperties"] is False for b in bodies)


def test_idempotency_key_bounds(spec: dict[str, Any]) -> None:
    prop = spec["components"]["schemas"]["IncidentsCreatePayloadV2"]["properties"]["idempotency_key"]
    assert (prop["minLength"], prop["maxLength"]) == (1, 255)


UPSTREAM_LIST_PARAMS = {
    "page_size", "after", "sort_by", "filter_mode", "status", "status_category", "created_at", "updated_at",
    "severity", "incident_type", "incident_role", "custom_field", "mode",
}  # fmt: skip


def test_incident_list_accepts_every_upstream_query_parameter(spec: dict[str, Any]) -> None:
    params = spec["paths"]["/v2/incidents"]["get"]["parameters"]
    names = set()
    for p in params:
        if "$ref" in p:
            p = spec["components"]["parameters"][p["$ref"].rsplit("/", 1)[-1]]
        names.add(p["name"])
        if p["name"] in UPSTREAM_LIST_PARAMS - {"page_size", "after", "sort_by", "filter_mode"}:
            assert (p["style"], p["explode"]) == ("deepObject", True), p["name"]
    assert names == UPSTREAM_LIST_PARAMS


def test_page_size_is_1_to_250(spec: dict[str, Any]) -> None:
    schema = spec["components"]["parameters"]["page_size"]["schema"]
    assert (schema["minimum"], schema["maximum"], schema["default"]) == (1, 250, 25)
