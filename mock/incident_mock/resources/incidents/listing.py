"""Which incidents a GET /v2/incidents query selects: the filters, applied to records. Pure functions.

The query itself is parsed by the contract's one grammar (`incident_contract.query.parse_list_query`);
this module turns its `QueryError` into our 422 and matches records against the parsed filters, reading
settings (severity ranks, status categories, which ids exist) from a `Catalog` snapshot.

`matcher(query, catalog)` compiles the filters once per request into one predicate: every filter's
values become a set (a rank or category filter becomes the set of ids it admits, a date filter two
datetimes), so testing a record costs the same whatever the number of values, and a list is one pass
over the incidents with one call per incident.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from typing import Any

from incident_contract.query import Filter, ListQuery, QueryError, parse_date, parse_list_query
from incident_mock.domain.errors import ValidationFailed
from incident_mock.domain.records import IncidentRecord
from incident_mock.engine.catalog import Catalog

__all__ = ["Predicate", "check_references", "matcher", "matches", "parse"]

Json = dict[str, Any]
Predicate = Callable[[IncidentRecord], bool]
ATTRIBUTE = {"status": "status_id", "status_category": "status_id", "severity": "severity_id",
             "incident_type": "type_id"}  # fmt: skip


def parse(
    raw: str | Sequence[tuple[str, str]],
    params: Iterable[Json],
    scalars: Json | None = None,
    max_pairs: int | None = None,
) -> ListQuery:
    """The parsed query (from the raw query string, or its pairs as the validator split them), or 422
    invalid_value naming the parameter."""
    try:
        return parse_list_query(raw, params, scalars, max_pairs)
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
    test = matcher(query, catalog)
    return test is None or test(rec)


def matcher(query: ListQuery, catalog: Catalog) -> Predicate | None:
    """One predicate for all the query's filters (None when it has none: everything matches)."""
    tests = [_compile(catalog, f) for f in query.filters]
    if not tests:
        return None
    return functools.reduce(_either if query.filter_mode == "any" else _both, tests)


def _both(first: Predicate, second: Predicate) -> Predicate:
    return lambda rec: first(rec) and second(rec)


def _either(first: Predicate, second: Predicate) -> Predicate:
    return lambda rec: first(rec) or second(rec)


def _day(value: str, after: bool = False) -> dt.datetime:
    """The start of the day (UTC), or with `after` the start of the next one (the end of time for the
    last day a date can name)."""
    day = parse_date(value)
    if after:
        if day == dt.date.max:
            return dt.datetime.max.replace(tzinfo=dt.UTC)
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(), dt.UTC)


def _compile(catalog: Catalog, f: Filter) -> Predicate:
    """One filter as a predicate; its values are turned into sets and bounds here, once."""
    values = frozenset(f.values)
    if f.param in ("created_at", "updated_at"):
        lo_text, _, hi_text = f.values[0].partition("~") if f.op == "date_range" else (f.values[0],) * 3
        lo = _day(lo_text) if f.op != "lte" else dt.datetime.min.replace(tzinfo=dt.UTC)
        hi = _day(hi_text, after=True) if f.op != "gte" else dt.datetime.max.replace(tzinfo=dt.UTC)
        if f.param == "created_at":
            return lambda rec: lo <= rec.created_at < hi
        return lambda rec: lo <= rec.updated_at < hi
    if f.param == "severity" and f.op in ("gte", "lte"):
        rank = catalog.severities[f.values[0]]["rank"]
        ranks = {sid: s["rank"] for sid, s in catalog.severities.items()}
        ids = frozenset(sid for sid, r in ranks.items() if (r >= rank if f.op == "gte" else r <= rank))
        return lambda rec: rec.severity_id in ids
    if f.param == "incident_role":
        role = f.key or ""
        if f.op == "one_of":
            return lambda rec: rec.roles.get(role) in values
        wants_set = (f.values[0] == "true") == (f.op == "is_set")
        return lambda rec: (role in rec.roles) == wants_set
    if f.param == "custom_field":
        field = f.key or ""

        def hit(rec: IncidentRecord) -> bool:
            return any(v.get("value_option_id") in values for v in rec.custom_fields.get(field, ()))

        return hit if f.op == "one_of" else lambda rec: not hit(rec)
    if f.param == "status_category":
        values = frozenset(sid for sid, s in catalog.statuses.items() if s["category"] in values)
    get = attrgetter(ATTRIBUTE[f.param])
    if f.op == "one_of":
        return lambda rec: get(rec) in values
    return lambda rec: get(rec) not in values
