"""The catalog's rules: attribute values checked against their type's schema, schema changes, the
`identifier` match and the defaults of a new type.

Values are held as the v3 answers show them: `{attribute id: {"value": {"literal", "label"}}}` for a
single-valued attribute, `{"array_value": [...]}` for an array. A literal is checked against the
attribute's type: `Number` a decimal number, `Bool` true or false, `User` one of the organisation's users
(by id, email or Slack user id; held as the id), a catalog type's `type_name` (`Custom["Team"]`) one of its
entries (by id, external id, alias, or name when the type uses names as identifiers; held as the id). The
label is the user's or entry's name, else the literal itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from incident_mock.domain.errors import ValidationFailed
from incident_mock.resources.service_catalog.tables import Tables

__all__ = [
    "check_type_name",
    "default_type_name",
    "identifies",
    "kept_values",
    "new_schema",
    "resolve_values",
    "team_type",
]

Json = dict[str, Any]
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
TYPE_NAME = re.compile(r'Custom\["[A-Za-z][A-Za-z0-9]{0,99}"\]')
DERIVED = ("backlink", "path")  # modes whose values the catalog works out itself


def identifies(catalog_type: Json, entry: Json, identifier: str) -> bool:
    """Whether `identifier` names this entry: its id, external id, an alias, or its name when the type
    uses names as identifiers."""
    return (
        identifier in (entry["id"], entry.get("external_id"))
        or identifier in entry.get("aliases", ())
        or (bool(catalog_type.get("use_name_as_identifier")) and identifier == entry["name"])
    )


def team_type(tables: Tables) -> Json | None:
    """The catalog type whose entries are the organisation's teams."""
    return next((t for t in tables.types() if t.get("is_team_type")), None)


def default_type_name(name: str) -> str:
    """`Custom["PaymentMethod"]` for a type named "Payment method"."""
    camel = "".join(w[:1].upper() + w[1:] for w in re.findall(r"[A-Za-z0-9]+", name))
    return f'Custom["{camel if camel[:1].isalpha() else "Type" + camel}"]'


def check_type_name(tables: Tables, type_name: str, own_id: str | None = None) -> None:
    if not TYPE_NAME.fullmatch(type_name):
        raise ValidationFailed.invalid(
            "type_name", 'write it as Custom["Name"], a letter then letters or digits'
        )
    if any(t["type_name"] == type_name and t["id"] != own_id for t in tables.types()):
        raise ValidationFailed.invalid("type_name", "another catalog type has this type name")


def _users(tables: Tables) -> Mapping[str, Json]:
    return tables.store.catalog.users


def _resolve(tables: Tables, kind: str, literal: str, where: str, pointer: str) -> tuple[str, str]:
    """(literal as held, label) for one value of an attribute of type `kind`, or 422."""
    if kind == "Number" and not NUMBER.fullmatch(literal):
        raise ValidationFailed.invalid(where, "not a number", pointer)
    if kind == "Bool" and literal not in ("true", "false"):
        raise ValidationFailed.invalid(where, "write true or false", pointer)
    if kind == "User":
        for user in _users(tables).values():
            if literal in (user["id"], user.get("email"), user.get("slack_user_id")):
                return str(user["id"]), str(user["name"])
        raise ValidationFailed.invalid(where, "no such user", pointer)
    target = next((t for t in tables.types() if t["type_name"] == kind), None)
    if target is not None:
        for entry in tables.entries_of(target["id"]):
            if identifies(target, entry, literal):
                return str(entry["id"]), str(entry["name"])
        raise ValidationFailed.invalid(where, f"no {target['name']} entry with this identifier", pointer)
    return literal, literal


def _literal(item: Any, where: str, pointer: str) -> str:
    if not isinstance(item, dict) or not isinstance(item.get("literal"), str):
        raise ValidationFailed.invalid(where, 'give the value as {"literal": ...}', pointer)
    if item.get("reference") is not None:
        raise ValidationFailed.invalid(where, "the mock holds literal values only", pointer)
    return str(item["literal"])


def resolve_values(tables: Tables, catalog_type: Json, values: Mapping[str, Any]) -> Json:
    """Attribute values as held, from a body's `attribute_values`; 422 naming `attribute_values` (with the
    pointer to the value) for an attribute the type lacks or a value its attribute refuses. A value with
    neither `value` nor `array_value` (or an empty array) is left out: the attribute has no value."""
    attributes = {a["id"]: a for a in catalog_type["schema"]["attributes"]}
    held: Json = {}
    for attribute_id, binding in values.items():
        pointer = f"/attribute_values/{attribute_id}"
        attribute = attributes.get(attribute_id)
        if attribute is None:
            raise ValidationFailed.invalid(
                "attribute_values", f"the catalog type has no attribute {attribute_id!r}", pointer
            )
        if attribute.get("mode") in DERIVED:
            raise ValidationFailed.invalid(
                "attribute_values", f"attribute {attribute_id!r} is worked out by the catalog", pointer
            )
        binding = binding or {}
        kind = attribute["type"]
        if attribute["array"]:
            if binding.get("value") is not None:
                raise ValidationFailed.invalid(
                    "attribute_values", f"attribute {attribute_id!r} holds a list: use array_value", pointer
                )
            items = binding.get("array_value") or []
            resolved = [
                _resolve(
                    tables,
                    kind,
                    _literal(item, "attribute_values", f"{pointer}/array_value/{i}"),
                    "attribute_values",
                    f"{pointer}/array_value/{i}",
                )
                for i, item in enumerate(items)
            ]
            if resolved:
                held[attribute_id] = {
                    "array_value": [{"literal": lit, "label": lab} for lit, lab in resolved]
                }
        else:
            if binding.get("array_value"):
                raise ValidationFailed.invalid(
                    "attribute_values", f"attribute {attribute_id!r} holds one value: use value", pointer
                )
            if binding.get("value") is not None:
                item_pointer = f"{pointer}/value"
                literal = _literal(binding["value"], "attribute_values", item_pointer)
                lit, lab = _resolve(tables, kind, literal, "attribute_values", item_pointer)
                held[attribute_id] = {"value": {"literal": lit, "label": lab}}
    return held


def _reshaped(binding: Json, array: bool) -> Json | None:
    """A held value after its attribute became (or stopped being) an array; None: no value left."""
    items = binding.get("array_value") or ([binding["value"]] if binding.get("value") else [])
    if not items:
        return None
    return {"array_value": items} if array else {"value": items[0]}


def new_schema(
    tables: Tables, catalog_type: Json, body: Json, resource_types: set[str]
) -> tuple[Json, dict[str, bool | None]]:
    """The type's schema after an `update_schema` body, and what happens to held values: attribute id ->
    its new `array` flag, or None when the attribute is gone. `version` must be the version held (so a
    client does not overwrite a change it has not seen); the answer carries the next one. An attribute
    without an id gets a new one; names are unique within the type (ignoring case); a type is one of the
    catalog resources or a catalog type's `type_name`; a `path` names attributes of this schema."""
    schema = catalog_type["schema"]
    if body["version"] != schema["version"]:
        raise ValidationFailed.invalid(
            "version", f"the schema is at version {schema['version']}: send that version"
        )
    known = resource_types | {t["type_name"] for t in tables.types()}
    attributes: list[Json] = []
    names: set[str] = set()
    ids: set[str] = set()
    for i, given in enumerate(body["attributes"]):
        name = given["name"]
        if not name.strip() or name.casefold() in names:
            raise ValidationFailed.invalid(
                "name", "attribute names must be unique and not blank", f"/attributes/{i}/name"
            )
        if given["type"] not in known:
            raise ValidationFailed.invalid(
                "type", "not a catalog resource or catalog type name", f"/attributes/{i}/type"
            )
        attribute_id = given.get("id") or tables.new_id()
        if attribute_id in ids:
            raise ValidationFailed.invalid("id", "two attributes share this id", f"/attributes/{i}/id")
        names.add(name.casefold())
        ids.add(attribute_id)
        attribute: Json = {
            "id": attribute_id,
            "name": name,
            "type": given["type"],
            "array": given["array"],
            "mode": given.get("mode") or "api",
        }
        if given.get("backlink_attribute"):
            attribute["backlink_attribute"] = given["backlink_attribute"]
        if given.get("path"):
            attribute["path"] = given["path"]
        attributes.append(attribute)
    by_id = {a["id"]: a for a in attributes}
    for i, attribute in enumerate(attributes):
        if "path" in attribute:
            path = []
            for j, step in enumerate(attribute["path"]):
                target = by_id.get(step["attribute_id"])
                if target is None:
                    raise ValidationFailed.invalid(
                        "attribute_id",
                        "no attribute with this id in the schema",
                        f"/attributes/{i}/path/{j}/attribute_id",
                    )
                path.append({"attribute_id": target["id"], "attribute_name": target["name"]})
            attribute["path"] = path
    changes: dict[str, bool | None] = {a["id"]: None for a in schema["attributes"]}
    changes.update((a["id"], a["array"]) for a in attributes)
    return {"version": schema["version"] + 1, "attributes": attributes}, changes


def kept_values(values: Json, changes: Mapping[str, bool | None]) -> Json:
    """An entry's held values after a schema change."""
    kept: Json = {}
    for attribute_id, binding in values.items():
        array = changes.get(attribute_id, False)
        if array is not None:
            reshaped = _reshaped(binding, array)
            if reshaped is not None:
                kept[attribute_id] = reshaped
    return kept
