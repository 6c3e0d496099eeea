"""The v3 shapes the tables hold, and the deprecated v2 shapes over the same rows.

Where the versions differ: a v2 type has `semantic_type` and lacks the v3 fields about identifiers,
teams and engine types; a v2 attribute's `manual` mode is v3's `api` (and v3's `dashboard` reads as
`manual`); a v2 value carries a `sort_key` (its label) and, for a value naming a catalog entry, the entry
it names; a v2 resource has no `engine_resource_type`.
"""

from __future__ import annotations

from typing import Any

from incident_contract.document import Spec
from incident_contract.operations import operations

__all__ = [
    "V2_TYPE_FIELDS",
    "entry_v2",
    "mode_from_v2",
    "resource_v2",
    "static_resources",
    "type_v2",
]

Json = dict[str, Any]
V2_TYPE_FIELDS = (
    "id",
    "name",
    "description",
    "type_name",
    "ranked",
    "icon",
    "color",
    "categories",
    "is_editable",
    "annotations",
    "source_repo_url",
    "dynamic_resource_parameter",
    "estimated_count",
    "last_synced_at",
    "registry_type",
    "required_integrations",
    "created_at",
    "updated_at",
)
MODE_V2 = {"api": "manual", "dashboard": "manual"}


def static_resources(spec: Spec) -> list[Json]:
    """The catalog resources the mock supports: the list `Catalog V3#ListResources` documents."""
    answer = operations(spec)["Catalog V3#ListResources"].raw["responses"]["200"]
    resources: list[Json] = answer["content"]["application/json"]["example"]["resources"]
    return resources


def mode_from_v2(mode: str | None) -> str:
    return "api" if mode in (None, "", "manual") else mode


def type_v2(row: Json) -> Json:
    out = {k: row[k] for k in V2_TYPE_FIELDS if k in row}
    out["semantic_type"] = "custom"
    out["schema"] = {
        "version": row["schema"]["version"],
        "attributes": [{**a, "mode": MODE_V2.get(a["mode"], a["mode"])} for a in row["schema"]["attributes"]],
    }
    return out


def _value_v2(value: Json, named: Json | None) -> Json:
    out = {**value, "sort_key": value["label"]}
    if named is not None:
        out["catalog_entry"] = {
            "catalog_entry_id": named["id"],
            "catalog_entry_name": named["name"],
            "catalog_type_id": named["catalog_type_id"],
        }
    return out


def entry_v2(row: Json, entries: Any) -> Json:
    """A v2 entry; `entries` is the entries table, to name the entry a value points at."""
    values: Json = {}
    for attribute_id, binding in row["attribute_values"].items():
        if "array_value" in binding:
            values[attribute_id] = {
                "array_value": [_value_v2(v, entries.get(v["literal"])) for v in binding["array_value"]]
            }
        else:
            values[attribute_id] = {
                "value": _value_v2(binding["value"], entries.get(binding["value"]["literal"]))
            }
    return {**row, "attribute_values": values}


def resource_v2(resource: Json) -> Json:
    return {k: v for k, v in resource.items() if k != "engine_resource_type"}
