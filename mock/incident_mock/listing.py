"""Which incidents a GET /v2/incidents query selects: the filters, applied to records. Pure functions.

The query itself is parsed by the contract's one grammar (`incident_contract.query.parse_list_query`);
this module turns its `QueryError` into our 422 and matches records against the parsed filters, reading
settings (severity ranks, status categories, which ids exist) from a `Catalog` snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from incident_contract.query import Filter, ListQuery, QueryError, parse_list_query
from incident_mock.catalog import Catalog
from incident_mock.errors import ValidationFailed
from incident_mock.records import IncidentRecord

__all__ = ["check_references", "matches", "parse"]

Json = dict[str, Any]


def parse(raw: str, params: Iterable[Json], scalars: Json | None = None) -> ListQuery:
    """The parsed query, or 422 invalid_value naming the parameter."""
    try:
        return parse_list_query(raw, params, scalars)
    except QueryError as exc:
        raise ValidationFailed.invalid(exc.field, exc.detail) from None


def check_references(query: ListQuery, catalog: Catalog) -> None:
    """Ids named in filters must exist, as ids in a create body must."""
    tables = {"status": catalog.statuses, "severity": catalog.severities, "incident_type": catalog.types}
    for f in query.filters:
        table = tables.get(f.param)
        named = list(f.values) if table is not None else []
        if f.param in ("incident_role", "custom_field"):
            table = catalog.roles if f.param == "incident_role" else catalog.custom_fields
            named = [f.key or ""]
        if table is not None and any(v not in table for v in named):
            raise ValidationFailed.invalid(f.param, "names an id that does not exist")


def matches(query: ListQuery, catalog: Catalog, rec: IncidentRecord) -> bool:
    """Whether the record passes the filters: all of them, or any with `filter_mode=any`."""
    if not query.filters:
        return True
    results = (match(catalog, rec, f) for f in query.filters)
    return any(results) if query.filter_mode == "any" else all(results)


def match(catalog: Catalog, rec: IncidentRecord, f: Filter) -> bool:
    """Whether the record passes one filter."""
    if f.param in ("created_at", "updated_at"):
        day = (rec.created_at if f.param == "created_at" else rec.updated_at).date().isoformat()
        lo, _, hi = f.values[0].partition("~") if f.op == "date_range" else (f.values[0], "", f.values[0])
        return (f.op == "lte" or day >= lo) and (f.op == "gte" or day <= hi)
    if f.param == "severity" and f.op in ("gte", "lte"):
        mine, other = catalog.severities[rec.severity_id]["rank"], catalog.severities[f.values[0]]["rank"]
        return bool(mine >= other if f.op == "gte" else mine <= other)
    if f.param == "incident_role":
        holder = rec.roles.get(f.key or "")
        if f.op == "one_of":
            return holder in f.values
        wants_set = (f.values[0] == "true") == (f.op == "is_set")
        return (holder is not None) == wants_set
    current: set[str] = {
        "status": {rec.status_id},
        "status_category": {catalog.statuses[rec.status_id]["category"]},
        "severity": {rec.severity_id},
        "incident_type": {rec.type_id},
        "custom_field": {v.get("value_option_id", "") for v in rec.custom_fields.get(f.key or "", [])},
    }[f.param]
    hit = bool(current & set(f.values))
    return hit if f.op == "one_of" else not hit
