"""GET /v2/incidents query: parsed from the raw query string, checked against the contract.

OpenAPI 3.0 cannot describe `incident_role[ROLE_ID][one_of]=...` exactly, and repeated deepObject
keys are easy to get wrong, so the mock reads the whole query here. Which parameters and operators
exist, and which values an enum allows, come from the operation's parameter schemas in the document.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from incident_mock.errors import ValidationFailed

if TYPE_CHECKING:
    from incident_mock.records import IncidentRecord
    from incident_mock.store import Store

__all__ = ["IncidentQuery", "parse_query"]

Json = dict[str, Any]
KEY = re.compile(r"^(?P<name>[a-z_]+)(?:\[(?P<a>[^\[\]]+)\])?(?:\[(?P<b>[^\[\]]+)\])?$")
SCALARS = {"page_size", "after", "sort_by", "filter_mode"}


bad = ValidationFailed.invalid


@dataclass(frozen=True)
class Filter:
    param: str
    op: str
    values: tuple[str, ...]
    key: str | None = None  # the role or custom field id of two-level filters


@dataclass
class IncidentQuery:
    page_size: int = 25
    after: str | None = None
    sort_by: str = "created_at_newest_first"
    filter_mode: str = "all"
    modes: tuple[str, ...] = ()
    filters: list[Filter] = field(default_factory=list)

    def has_filters(self) -> bool:
        return bool(self.filters)

    def check_references(self, store: Store) -> None:
        """Ids named in filters must exist, as ids in a create body must."""
        tables = {"status": store.statuses, "severity": store.severities, "incident_type": store.types}
        for f in self.filters:
            table = tables.get(f.param)
            named = list(f.values) if table is not None else []
            if f.param in ("incident_role", "custom_field"):
                table = store.roles if f.param == "incident_role" else store.custom_fields
                named = [f.key or ""]
            if table is not None and any(v not in table for v in named):
                raise bad(f.param, "names an id that does not exist")

    def matches(self, store: Store, rec: IncidentRecord) -> bool:
        if not self.filters:
            return True
        results = (_match(store, rec, f) for f in self.filters)
        return any(results) if self.filter_mode == "any" else all(results)


def _match(store: Store, rec: IncidentRecord, f: Filter) -> bool:
    if f.param in ("created_at", "updated_at"):
        day = (rec.created_at if f.param == "created_at" else rec.updated_at).date().isoformat()
        lo, _, hi = f.values[0].partition("~") if f.op == "date_range" else (f.values[0], "", f.values[0])
        return (f.op == "lte" or day >= lo) and (f.op == "gte" or day <= hi)
    if f.param == "severity" and f.op in ("gte", "lte"):
        mine, other = store.severities[rec.severity_id]["rank"], store.severities[f.values[0]]["rank"]
        return bool(mine >= other if f.op == "gte" else mine <= other)
    if f.param == "incident_role":
        holder = rec.roles.get(f.key or "")
        if f.op == "one_of":
            return holder in f.values
        wants_set = (f.values[0] == "true") == (f.op == "is_set")
        return (holder is not None) == wants_set
    current: set[str] = {
        "status": {rec.status_id},
        "status_category": {store.statuses[rec.status_id]["category"]},
        "severity": {rec.severity_id},
        "incident_type": {rec.type_id},
        "custom_field": {v.get("value_option_id", "") for v in rec.custom_fields.get(f.key or "", [])},
    }[f.param]
    hit = bool(current & set(f.values))
    return hit if f.op == "one_of" else not hit


def _operators(param: Json) -> Json:
    schema = param["schema"]
    inner = schema.get("additionalProperties")
    return dict((inner if isinstance(inner, dict) else schema).get("properties", {}))


def _check_value(param: str, schema: Json, value: str) -> None:
    item = schema.get("items", schema)
    if "enum" in item and value not in item["enum"]:
        raise bad(param, f"{value!r} is not one of {', '.join(item['enum'])}")
    if item.get("format") == "date":
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise bad(param, f"{value!r} is not a date (YYYY-MM-DD)") from None
    if "pattern" in item and not re.fullmatch(item["pattern"], value):
        raise bad(param, f"{value!r} is not START~END")
    if not value:
        raise bad(param, "is empty")


def parse_query(raw: str, params: list[Json]) -> IncidentQuery:
    """Parse and check the raw query string. `params` are the operation's resolved parameters."""
    by_name = {p["name"]: p for p in params}
    grouped: dict[tuple[str, str | None, str | None], list[str]] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        m = KEY.match(key)
        if m is None or m["name"] not in by_name:
            raise bad(key, "is not a known query parameter")
        grouped.setdefault((m["name"], m["a"], m["b"]), []).append(value)
    query = IncidentQuery()
    for (name, a, b), values in grouped.items():
        if name in SCALARS:
            if a is not None or len(values) > 1:
                raise bad(name, "takes one plain value")
            setattr(query, name, int(values[0]) if name == "page_size" else values[0])
            continue
        two_level = isinstance(by_name[name]["schema"].get("additionalProperties"), dict)
        op: str | None = b if two_level else a
        target: str | None = a if two_level else None
        if op is None or (not two_level and b is not None):
            raise bad(name, "needs an operator, for example [one_of]")
        operators = _operators(by_name[name])
        if op not in operators:
            raise bad(name, f"{op!r} is not an operator; use {', '.join(operators)}")
        if operators[op].get("type") != "array" and len(values) > 1:
            raise bad(name, f"[{op}] takes one value")
        for value in values:
            _check_value(name, operators[op], value)
        if name == "mode":
            query.modes = tuple(values)
        else:
            query.filters.append(Filter(name, op, tuple(values), target))
    return query
