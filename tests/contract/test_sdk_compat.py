"""Every field the official SDK requires in a response model is required in ours, with the same type.

The SDK models are read from the installed `incident_io.models` classes, so a newer SDK that starts to
require a field fails this test until the contract carries it.
"""

from __future__ import annotations

import enum
import re
from typing import Any

import attrs
import incident_io.models as sdk
import pytest

from incident_contract.document import load_spec

PRIMITIVES = {"str": "string", "int": "integer", "bool": "boolean", "float": "number"}


def _response_schemas() -> list[str]:
    """Our schemas that the SDK parses: every schema reachable from a response, minus request payloads."""
    schemas = load_spec()["components"]["schemas"]
    return sorted(n for n in schemas if hasattr(sdk, n) and "Payload" not in n)


def _expected(sdk_type: str) -> dict[str, Any]:
    """The JSON Schema shape that an SDK annotation implies."""
    sdk_type = sdk_type.replace(" | Unset", "")
    if m := re.fullmatch(r"list\[(.+)\]", sdk_type):
        return {"type": "array", "items": _expected(m.group(1))}
    if sdk_type == "datetime.datetime":
        return {"type": "string", "format": "date-time"}
    if sdk_type in PRIMITIVES:
        return {"type": PRIMITIVES[sdk_type]}
    cls = getattr(sdk, sdk_type)
    if issubclass(cls, enum.Enum):
        return {"type": "string"}
    return {"$ref": f"#/components/schemas/{sdk_type}"}


def _actual(prop: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in prop:
        return {"$ref": prop["$ref"]}
    out: dict[str, Any] = {"type": prop["type"]}
    if prop["type"] == "array":
        out["items"] = _actual(prop["items"])
    if prop.get("format") == "date-time":
        out["format"] = "date-time"
    return out


@pytest.mark.parametrize("name", _response_schemas())
def test_sdk_required_fields_are_required_with_the_same_type(spec: dict[str, Any], name: str) -> None:
    ours = spec["components"]["schemas"][name]
    for field in attrs.fields(getattr(sdk, name)):
        if field.name == "additional_properties" or field.default is not attrs.NOTHING:
            continue
        key = field.name.rstrip("_")
        assert key in ours.get("required", []), f"{name}.{key} is required by the SDK"
        assert _actual(ours["properties"][key]) == _expected(str(field.type)), f"{name}.{key}"


def test_the_key_schemas_are_compared() -> None:
    """Guards the parametrisation: the schemas that matter most are in the list."""
    assert {"IncidentV2", "ErrorResponse", "ErrorSource", "SeverityV1", "IdentityV1"} <= set(
        _response_schemas()
    )
