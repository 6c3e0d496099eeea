"""The document itself: valid OpenAPI 3.0.3, loadable by Connexion, every example valid."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import connexion
import httpx
import pytest
from connexion.resolver import Resolver
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from incident_contract import facts
from incident_contract.document import load_spec, spec_path
from incident_contract.operations import operations
from tests.transport import WSGILikeASGI


def test_document_is_valid_openapi_3_0(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.0.")
    validate(spec)


def test_connexion_builds_an_app_from_the_document() -> None:
    """Connexion 3.3 loads the document, routes every path, and its security sees bearerAuth."""

    class Stub(Resolver):
        def resolve_function_from_operation_id(self, operation_id: str) -> Any:
            return lambda **_: ({}, 200)

    app = connexion.AsyncApp(__name__)
    app.add_api(spec_path(), resolver=Stub())
    with httpx.Client(transport=WSGILikeASGI(app), base_url="http://test") as client:
        assert client.get("/v1/identity").status_code == 401  # secured, not 404: the route exists
        assert client.get("/v9/nothing").status_code == 404


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> OAS30Validator:
    """A validator for one schema whose local $refs resolve against the whole document."""
    return OAS30Validator({"components": spec["components"], "allOf": [schema]})


def _examples(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    for name, schema in spec["components"]["schemas"].items():
        yield f"schema {name}", schema, schema["example"]
    for name, response in spec["components"]["responses"].items():
        media = response["content"]["application/json"]
        yield f"response {name}", media["schema"], media["example"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            label = f"{method.upper()} {path}"
            for param in op.get("parameters", []):
                if "example" in param and "schema" in param:
                    yield f"{label} parameter {param['name']}", param["schema"], param["example"]
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                yield f"{label} request", body["schema"], body["example"]
            for status, response in op["responses"].items():
                media = response.get("content", {}).get("application/json")
                if media and "example" in media:
                    yield f"{label} {status}", media["schema"], media["example"]


def test_every_schema_has_a_description_and_an_example(spec: dict[str, Any]) -> None:
    missing = [
        name
        for name, schema in spec["components"]["schemas"].items()
        if not schema.get("description") or "example" not in schema
    ]
    assert missing == []


def test_every_operation_has_an_example_request_and_response(spec: dict[str, Any]) -> None:
    missing = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and "example" not in body:
                missing.append(f"{method} {path} request")
            success = [r for s, r in op["responses"].items() if s.startswith("2")]
            has_body = any("content" in r for r in success)
            has_example = any("example" in r.get("content", {}).get("application/json", {}) for r in success)
            if has_body and not has_example:
                missing.append(f"{method} {path} response")
    assert missing == []


@pytest.mark.parametrize("label", [label for label, _, _ in _examples(load_spec())])
def test_example_validates_against_its_schema(spec: dict[str, Any], label: str) -> None:
    schema, example = next((s, e) for lbl, s, e in _examples(spec) if lbl == label)
    errors = sorted(_validator(spec, schema).iter_errors(example), key=str)
    assert errors == [], [e.message for e in errors]


def test_links_chain_create_to_show_and_edit_and_list_to_show(spec: dict[str, Any]) -> None:
    create = spec["paths"]["/v2/incidents"]["post"]["responses"]["200"]["links"]
    listing = spec["paths"]["/v2/incidents"]["get"]["responses"]["200"]["links"]
    targets = {link["operationId"] for link in create.values()}
    assert {"Incidents V2#Show", "Incidents V2#Edit"} <= targets
    assert {link["operationId"] for link in listing.values()} == {"Incidents V2#Show"}


def test_a_broken_example_is_caught(spec: dict[str, Any]) -> None:
    """The example check is not vacuous: a wrong example fails it."""
    schema = spec["components"]["schemas"]["IncidentsCreatePayloadV2"]
    broken = dict(schema["example"], visibility="secret")
    assert list(_validator(spec, schema).iter_errors(broken))


def test_each_load_spec_caller_gets_its_own_copy() -> None:
    """Schemathesis rewrites the document in place; no caller may see another's changes."""
    first = load_spec()
    first["paths"]["/v2/incidents"]["post"]["responses"]["200"]["links"].clear()
    first["components"]["schemas"].pop("IncidentV2")
    second = load_spec()
    assert second["paths"]["/v2/incidents"]["post"]["responses"]["200"]["links"]
    assert "IncidentV2" in second["components"]["schemas"]


def test_each_status_category_alias_is_a_filter_value_standing_for_a_published_category(
    spec: dict[str, Any],
) -> None:
    aliases = facts.status_category_aliases(spec)
    published = spec["components"]["schemas"]["IncidentStatusV1"]["properties"]["category"]["enum"]
    assert published == spec["components"]["schemas"]["IncidentStatusV2"]["properties"]["category"]["enum"]
    operators = operations(spec)[facts.LIST_INCIDENTS].parameter("status_category")["schema"]["properties"]
    for op in ("one_of", "not_in"):
        assert set(operators[op]["items"]["enum"]) == set(published) | set(aliases)
    assert set(aliases.values()) <= set(published) and not set(aliases) & set(published)
