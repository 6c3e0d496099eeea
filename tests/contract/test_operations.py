"""Operations, scopes, roles and error responses, as openapi.yaml fixes them."""

from __future__ import annotations

from typing import Any

from incident_contract.access import role_scopes
from incident_contract.operations import operations

# The first operations, named by the operationIds of the API this contract models.
EXPECTED = {
    "Utilities V1#Identity": ("GET", "/v1/identity", None, "200"),
    "Severities V1#List": ("GET", "/v1/severities", "severities.view", "200"),
    "Severities V1#Create": ("POST", "/v1/severities", "organisation_settings.update", "201"),
    "Severities V1#Show": ("GET", "/v1/severities/{id}", "severities.view", "200"),
    "Severities V1#Update": ("PUT", "/v1/severities/{id}", "organisation_settings.update", "200"),
    "Severities V1#Delete": ("DELETE", "/v1/severities/{id}", "organisation_settings.update", "202"),
    "Incident Types V1#List": ("GET", "/v1/incident_types", "incident_types.view", "200"),
    "Incident Types V1#Show": ("GET", "/v1/incident_types/{id}", "incident_types.view", "200"),
    "Incident Statuses V1#List": ("GET", "/v1/incident_statuses", "incident_statuses.view", "200"),
    "Incident Statuses V1#Show": ("GET", "/v1/incident_statuses/{id}", "incident_statuses.view", "200"),
    "Custom Fields V2#List": ("GET", "/v2/custom_fields", "custom_fields.view", "200"),
    "Custom Fields V2#Show": ("GET", "/v2/custom_fields/{id}", "custom_fields.view", "200"),
    "Custom Field Options V1#List": ("GET", "/v1/custom_field_options", "custom_fields.view", "200"),
    "Incident Roles V2#List": ("GET", "/v2/incident_roles", "incident_roles.view", "200"),
    "Incident Roles V2#Show": ("GET", "/v2/incident_roles/{id}", "incident_roles.view", "200"),
    "Incidents V2#List": ("GET", "/v2/incidents", "incidents.view", "200"),
    "Incidents V2#Create": ("POST", "/v2/incidents", "incidents.create", "200"),
    "Incidents V2#Show": ("GET", "/v2/incidents/{id}", "incidents.view", "200"),
    "Incidents V2#Edit": ("POST", "/v2/incidents/{id}/actions/edit", "incidents.update", "200"),
    "Incident Timestamps V2#List": ("GET", "/v2/incident_timestamps", None, "200"),
    "Incident Timestamps V2#Show": ("GET", "/v2/incident_timestamps/{id}", None, "200"),
}


def test_the_first_operations_keep_their_methods_paths_scopes_and_success(spec: dict[str, Any]) -> None:
    found = {
        opid: (
            method,
            path,
            (op.get("x-rbac-scopes") or [None])[0],
            next(s for s in op["responses"] if s < "3"),
        )
        for opid, (method, path, op) in ((o.id, (o.method, o.path, o.raw)) for o in operations(spec).values())
    }
    assert {opid: found.get(opid) for opid in EXPECTED} == EXPECTED


def test_every_operation_but_identity_names_a_scope_some_role_grants(spec: dict[str, Any]) -> None:
    granted = set().union(*role_scopes(spec).values())
    for opid, op in ((o.id, o.raw) for o in operations(spec).values()):
        scopes = op.get("x-rbac-scopes")
        if opid == "Utilities V1#Identity":
            assert scopes is None
            continue
        if scopes == []:  # the published API names no scope for it: any valid key may call it
            continue
        assert scopes, opid
        assert set(scopes) <= granted, (opid, set(scopes) - granted)


def test_the_creator_role_alone_can_run_the_getting_started_flow(spec: dict[str, Any]) -> None:
    creator = role_scopes(spec)["incident_creator"]
    ops = operations(spec)
    for opid in ("Severities V1#List", "Incidents V2#Create"):
        assert set(ops[opid].scopes) <= creator


def test_only_global_access_grants_private_incidents(spec: dict[str, Any]) -> None:
    assert [r for r, s in role_scopes(spec).items() if "incidents.view_private" in s] == ["global_access"]


def _ref(response: dict[str, Any]) -> str:
    return str(response.get("$ref", "")).rsplit("/", 1)[-1]


def test_every_operation_documents_the_errors_that_can_happen_to_it(spec: dict[str, Any]) -> None:
    for opid, path, op in ((o.id, o.path, o.raw) for o in operations(spec).values()):
        rs = op["responses"]
        assert _ref(rs["401"]) == "Unauthorized", opid
        assert ("403" in rs) == bool(op.get("x-rbac-scopes")), opid  # a scope to lack, or none (any key)
        assert ("404" in rs) == ("{" in path), opid  # the path names an object (or its parent) by id
        assert ("400" in rs) == ("requestBody" in op), opid
        for status in ("413", "422", "429"):
            assert status in rs, (opid, status)


def test_every_shared_error_response_is_json_error_response(spec: dict[str, Any]) -> None:
    """x-error-types names each shared response once, and each is an ErrorResponse of its status and type."""
    shared = spec["components"]["responses"]
    named = {
        int(status): entry["response"]
        for status, entry in spec["x-error-types"].items()
        if "response" in entry
    }
    assert sorted(named.values()) == sorted(shared)  # no shared response left unused, none named twice
    for status, name in named.items():
        media = shared[name]["content"]["application/json"]
        assert media["schema"] == {"$ref": "#/components/schemas/ErrorResponse"}
        assert media["example"]["status"] == status
        assert media["example"]["type"] == spec["x-error-types"][str(status)]["type"]
        assert "X-Request-Id" in shared[name]["headers"]
    assert "WWW-Authenticate" in shared[named[401]]["headers"]
    assert "Allow" in shared[named[405]]["headers"]


def test_error_source_requires_field_and_pointer(spec: dict[str, Any]) -> None:
    assert set(spec["components"]["schemas"]["ErrorSource"]["required"]) == {"field", "pointer"}


def test_security_is_bearer_on_every_operation(spec: dict[str, Any]) -> None:
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        **spec["components"]["securitySchemes"]["bearerAuth"], "type": "http", "scheme": "bearer",
    }  # fmt: skip
    assert spec["security"] == [{"bearerAuth": []}]
    # but for the operations an alert source's own token authenticates (alert events, heartbeat pings)
    own = {op.id: op.raw["security"] for op in operations(spec).values() if "security" in op.raw}
    assert set(own) == {"Alert Events V2#CreateHTTP", "Heartbeat V2#Ping", "Heartbeat V2#Ping#1"}
    assert all(security == [{"alertSourceToken": []}] for security in own.values())
    assert spec["components"]["securitySchemes"]["alertSourceToken"]["x-alert-source-token"] is True
