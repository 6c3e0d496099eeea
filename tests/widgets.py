"""A throw-away contract: the real openapi.yaml plus one resource of its own, "widgets", declared in
x-resources and written to a file, with no Python written for it anywhere in the mock.

A widget has a name (unique) and a `severity_id` that references severities; deleting a severity a widget
uses is refused. Its create answers 201 and its delete 204 (the severities' delete answers 202): the mock
takes each success status from the operation's own `responses`.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from incident_contract.document import load_spec

Json = dict[str, Any]
LIST, CREATE, SHOW, UPDATE, DELETE = (
    f"Widgets V1#{v}" for v in ("List", "Create", "Show", "Update", "Delete")
)
DECLARATION: Json = {
    "kind": "widget",
    "schema": "WidgetV1",
    "fixtures": "widgets",
    "envelope": {"one": "widget", "many": "widgets"},
    "operations": {"list": LIST, "create": CREATE, "show": SHOW, "update": UPDATE, "delete": DELETE},
    "fills": {"id": "id", "created_at": "now", "updated_at": "touched"},
    "order": ["name"],
    "unique": ["name"],
    "references": {"severity_id": {"resource": "severities", "on_delete": "refuse"}},
}


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _operation(template: Json, opid: str, summary: str, status: str, result: str | None, body: bool) -> Json:
    """A widget operation made from a severity operation: its scopes, parameters and error responses."""
    op = copy.deepcopy(template)
    op.update(operationId=opid, tags=["Widgets"], summary=summary, description=summary + ".")
    errors = {k: v for k, v in op["responses"].items() if not k.startswith("2")}
    success: Json = {"description": summary + "."}
    if result is not None:
        success["content"] = {"application/json": {"schema": _ref(result)}}
    op["responses"] = {status: success, **errors}
    if body:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref("WidgetPayloadV1")}},
        }
    for param in op.get("parameters", []):
        if param.get("in") == "path":
            param.update(description="The widget id.", example="01WIDGET")
    return op


def widget_spec(**declaration: Any) -> Json:
    """The contract with widgets; `declaration` overrides parts of the widgets' x-resources entry."""
    spec = load_spec()
    text = {"type": "string", "minLength": 1, "maxLength": 50}
    stamp = {"type": "string", "format": "date-time"}
    spec["components"]["schemas"].update(
        WidgetV1={
            "type": "object",
            "description": "A widget.",
            "required": ["id", "name", "severity_id", "created_at", "updated_at"],
            "properties": {
                "id": {"type": "string"},
                "name": text,
                "severity_id": {"type": "string"},
                "created_at": stamp,
                "updated_at": stamp,
            },
            "additionalProperties": False,
        },
        WidgetPayloadV1={
            "type": "object",
            "description": "The body of a widget create or update.",
            "required": ["name", "severity_id"],
            "properties": {"name": text, "severity_id": {"type": "string", "minLength": 1}},
            "additionalProperties": False,
        },
        WidgetResultV1={
            "type": "object",
            "required": ["widget"],
            "properties": {"widget": _ref("WidgetV1")},
            "additionalProperties": False,
        },
        WidgetsListResultV1={
            "type": "object",
            "required": ["widgets"],
            "properties": {"widgets": {"type": "array", "items": _ref("WidgetV1")}},
            "additionalProperties": False,
        },
    )
    many, one = spec["paths"]["/v1/severities"], spec["paths"]["/v1/severities/{id}"]
    spec["paths"]["/v1/widgets"] = {
        "get": _operation(many["get"], LIST, "List widgets", "200", "WidgetsListResultV1", False),
        "post": _operation(many["post"], CREATE, "Create a widget", "201", "WidgetResultV1", True),
    }
    spec["paths"]["/v1/widgets/{id}"] = {
        "get": _operation(one["get"], SHOW, "Show a widget", "200", "WidgetResultV1", False),
        "put": _operation(one["put"], UPDATE, "Update a widget", "200", "WidgetResultV1", True),
        "delete": _operation(one["delete"], DELETE, "Delete a widget", "204", None, False),
    }
    spec["tags"].append({"name": "Widgets", "description": "Widgets, declared in x-resources only."})
    spec["x-resources"]["widgets"] = {**DECLARATION, **declaration}
    return spec


def write_widget_contract(directory: Path, **declaration: Any) -> Path:
    """The widget contract as a file in `directory`; returns its path."""
    path = directory / "widgets.yaml"
    path.write_text(yaml.safe_dump(widget_spec(**declaration), sort_keys=False), encoding="utf-8")
    return path
