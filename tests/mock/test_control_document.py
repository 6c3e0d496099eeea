"""control-plane.yaml: a valid OpenAPI 3.0 document, every input bounded, the contract's error shape, served
next to the contract, and every operation routed to a function."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from openapi_spec_validator import validate as openapi_validate

from incident_contract.document import control_spec_path, load_control_spec, load_spec, spec_path
from incident_contract.operations import operations as contract_operations
from incident_contract.refs import resolve
from incident_mock.app import create_app
from incident_mock.kit.control_plane import OPERATIONS
from tests.docs.browser import Browser
from tests.servers import serve

ERROR_SCHEMAS = ("ErrorDebug", "ErrorRateLimit", "ErrorResponse", "ErrorSingle", "ErrorSource")


@pytest.fixture(scope="module")
def control() -> dict[str, Any]:
    return load_control_spec()


def test_the_document_is_valid_openapi_3_0_beside_the_contract(control: dict[str, Any]) -> None:
    openapi_validate(control)
    assert control["openapi"].startswith("3.0.")
    assert control_spec_path().parent == spec_path().parent  # both in the package (openapi.yaml a link)


def test_every_operation_has_a_function_and_no_function_is_orphaned(control: dict[str, Any]) -> None:
    ids = {
        op["operationId"] for item in control["paths"].values() for k, op in item.items() if k != "parameters"
    }
    assert ids == set(OPERATIONS)
    assert all(path.startswith("/_mock/") for path in control["paths"])


def test_its_errors_have_the_contracts_shape(control: dict[str, Any]) -> None:
    contract = load_spec()
    for name in ERROR_SCHEMAS:
        assert control["components"]["schemas"][name] == contract["components"]["schemas"][name], name
    for status, entry in control["x-error-types"].items():
        assert entry["type"] == contract["x-error-types"][status]["type"]


def unbounded(spec: dict[str, Any], node: Any, where: str, seen: set[int]) -> Iterator[str]:
    """Paths inside an input schema where a string, array, integer or object has no bound."""
    node = resolve(spec, node)
    if not isinstance(node, dict) or id(node) in seen:
        return
    seen.add(id(node))
    kind = node.get("type")
    if kind == "string" and "maxLength" not in node and "enum" not in node:
        yield where
    if kind == "integer" and not ("minimum" in node and "maximum" in node):
        yield where
    if kind == "array":
        if "maxItems" not in node:
            yield where
        yield from unbounded(spec, node.get("items", {}), f"{where}[]", seen)
    if kind == "object":
        # Free-form objects only inside fixtures (rows and payloads, checked against the contract's schemas
        # and bounded by the body limit).
        free = node.get("additionalProperties", True) is not False and node.get("maxProperties") is None
        if free and " body/fixtures/" not in where:
            yield where
        for name, sub in node.get("properties", {}).items():
            yield from unbounded(spec, sub, f"{where}/{name}", seen)


def test_every_input_is_bounded_in_the_schema(control: dict[str, Any]) -> None:
    found: list[str] = []
    for path, item in control["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            for param in [*item.get("parameters", []), *op.get("parameters", [])]:
                param = resolve(control, param)
                found += unbounded(control, param["schema"], f"{method} {path} {param['name']}", set())
            body = op.get("requestBody")
            if body:
                schema = resolve(control, body)["content"]["application/json"]["schema"]
                found += unbounded(control, schema, f"{method} {path} body", set())
    assert found == []


@pytest.fixture(scope="module")
def live() -> Iterator[str]:
    with serve(create_app()) as url:
        yield url


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_the_document_is_served_next_to_the_contract(live: str, fmt: str, control: dict[str, Any]) -> None:
    response = httpx.get(f"{live}/control-plane.{fmt}")
    assert response.status_code == 200
    served = response.json() if fmt == "json" else yaml.safe_load(response.text)
    assert served["servers"] == [{"url": live, "description": "This mock."}]
    assert {k: v for k, v in served.items() if k != "servers"} == {
        k: v for k, v in control.items() if k != "servers"
    }
    links = httpx.get(f"{live}/", follow_redirects=False).json()
    assert links["control_plane"] == [f"{live}/control-plane.json", f"{live}/control-plane.yaml"]
    assert "control-plane.json" in httpx.get(f"{live}/docs/incident-contract.js").text


def wait_for(page: Any, script: str, expected: Any) -> Any:
    deadline, value = time.monotonic() + 20, None
    while time.monotonic() < deadline:
        value = page.evaluate(script)
        if value == expected:
            break
        time.sleep(0.1)
    return value


def test_swagger_ui_switches_between_the_contract_and_the_control_plane(live: str, browser: Browser) -> None:
    blocks = "document.querySelectorAll('.opblock').length"
    with browser.page() as page:
        page.load(f"{live}/docs/")
        total = len(contract_operations(load_spec()))
        assert wait_for(page, blocks, total) == total
        options = page.evaluate("[...document.querySelectorAll('#document option')].map(o => o.textContent)")
        assert len(options) == 2 and "control plane" in options[1]
        page.evaluate("(() => { const s = document.getElementById('document'); s.value = '1';"
                      " s.dispatchEvent(new Event('change')); })()")  # fmt: skip
        operations = len(OPERATIONS)
        assert wait_for(page, blocks, operations) == operations
        assert "/_mock/sandboxes" in page.evaluate("document.body.innerText")
        assert page.errors() == []
