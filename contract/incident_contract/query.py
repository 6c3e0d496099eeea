"""The one grammar of query strings: plain parameters and deepObject keys, as the contract declares them.

OpenAPI 3.0 cannot describe `incident_role[ROLE_ID][one_of]=...` exactly, and repeated deepObject keys are
easy to get wrong, so the incident list's query is read here from the raw string. Which parameters and
operators exist, and which values an enum allows, come from the operation's parameter schemas.

A key is `name`, `name[a]` or `name[a][b]`; `depth(param)` says how many bracket groups a parameter takes
(0 plain, 1 deepObject, 2 deepObject of objects). Errors are `QueryError`s naming the parameter.

Bounds come from the document too: `maxItems` of an operator's array caps the values of one filter,
`minLength` refuses blank values, and the top-level `x-max-query-parameters` caps the pairs of a whole
query string (`split(raw, limit)`), so the work a query can ask for is bounded before anything is parsed.
A `date_range` (`START~END`) holds two real dates, START on or before END. A parameter's `x-value-aliases`
maps a value its enum accepts to the one it stands for (`status_category`'s `active` to `live`): filters
hold the value stood for.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

__all__ = [
    "Filter",
    "ListQuery",
    "QueryError",
    "depth",
    "key_parts",
    "parse_date",
    "parse_list_query",
    "split",
]

Json = dict[str, Any]
KEY = re.compile(r"^(?P<name>[a-z_]+)(?:\[(?P<a>[^\[\]]+)\])?(?:\[(?P<b>[^\[\]]+)\])?$")
SCALARS = ("page_size", "after", "sort_by", "filter_mode")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class QueryError(Exception):
    """A query parameter the contract does not accept: `field` names it, `detail` says why."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field, self.detail = field, detail


def split(raw: str, limit: int | None = None) -> list[tuple[str, str]]:
    """The (key, value) pairs of a raw query string, blank values kept, in order.

    With a `limit`, more pairs than that is a QueryError naming the first key past it (counted before
    anything is decoded, so an oversized query costs one scan of the string).
    """
    if limit is not None and raw.count("&") >= limit:
        pairs = [p for p in raw.split("&") if p]
        if len(pairs) > limit:
            key = unquote_plus(pairs[limit].partition("=")[0])
            parts = key_parts(key)
            field = parts[0] if parts else key[:100] or "query"
            raise QueryError(field, f"a query takes at most {limit} parameters; this one has {len(pairs)}")
    return parse_qsl(raw, keep_blank_values=True)


def key_parts(key: str) -> tuple[str, str | None, str | None] | None:
    """`name[a][b]` -> (name, a, b); None for a key the grammar does not allow."""
    m = KEY.match(key)
    return None if m is None else (m["name"], m["a"], m["b"])


def depth(param: Json) -> int:
    """How many [..] groups a key of this parameter has: 0 plain, 1 deepObject, 2 deepObject of objects."""
    if param.get("style") != "deepObject":
        return 0
    return 2 if isinstance(param.get("schema", {}).get("additionalProperties"), dict) else 1


def check_key(key: str, declared: dict[str, Json]) -> str:
    """The parameter name of a well-formed key of a declared parameter; QueryError otherwise."""
    parts = key_parts(key)
    param = declared.get(parts[0]) if parts else None
    if parts is None or param is None:
        raise QueryError(key, "is not a known query parameter")
    groups = sum(part is not None for part in parts[1:])
    if groups != depth(param):
        raise QueryError(key, "is not a known query parameter")
    return parts[0]


@dataclass(frozen=True)
class Filter:
    param: str
    op: str
    values: tuple[str, ...]
    key: str | None = None  # the role or custom field id of two-level filters


@dataclass
class ListQuery:
    """The incident list's query, parsed and checked; defaults are the schemas' defaults."""

    page_size: int
    sort_by: str
    filter_mode: str
    after: str | None = None
    modes: tuple[str, ...] = ()
    filters: list[Filter] = field(default_factory=list)


def _operators(param: Json) -> Json:
    schema = param["schema"]
    inner = schema.get("additionalProperties")
    return dict((inner if isinstance(inner, dict) else schema).get("properties", {}))


def parse_date(value: str) -> dt.date:
    """A full-date (RFC 3339: YYYY-MM-DD, ASCII digits). Year 0000, valid there but before Python's first
    date, is checked as the leap year it is and read as the earliest date; ValueError otherwise."""
    if not DATE.fullmatch(value):
        raise ValueError(value)
    if value.startswith("0000-"):
        dt.date.fromisoformat("2000" + value[4:])
        return dt.date.min
    return dt.date.fromisoformat(value)


def _date(param: str, value: str) -> dt.date:
    try:
        return parse_date(value)
    except ValueError:
        raise QueryError(param, f"{value[:40]!r} is not a date (YYYY-MM-DD)") from None


def _check_value(param: str, op: str, schema: Json, value: str) -> None:
    item = schema.get("items", schema)
    if len(value) < item.get("minLength", 1):
        raise QueryError(param, "is empty")
    if "enum" in item and value not in item["enum"]:
        raise QueryError(param, f"{value[:40]!r} is not one of {', '.join(item['enum'])}")
    if item.get("format") == "date":
        _date(param, value)
    if "pattern" in item and not re.fullmatch(item["pattern"], value):
        raise QueryError(param, f"{value[:40]!r} does not match {item['pattern']}")
    if op == "date_range":
        start, _, end = value.partition("~")
        if _date(param, start) > _date(param, end):
            raise QueryError(param, f"{value!r} starts after it ends (START~END)")


def _plain(param: Json, value: str) -> Any:
    """A plain value as its schema's type (integers as int), unchecked."""
    if param.get("schema", {}).get("type") == "integer" and re.fullmatch(r"-?[0-9]{1,18}", value):
        return int(value)
    return value


def _default(by_name: dict[str, Json], name: str) -> Any:
    return by_name[name].get("schema", {}).get("default")


def parse_list_query(
    raw: str | Sequence[tuple[str, str]],
    params: Iterable[Json],
    scalars: Json | None = None,
    max_pairs: int | None = None,
) -> ListQuery:
    """Parse and check a raw list query, or its (key, value) pairs as `split` gave them. `params` are the
    operation's resolved parameters.

    `scalars` are the plain parameters already parsed and checked against their schemas (the mock's
    validator does that); without them, plain values are taken as sent. `max_pairs` is the document's
    `x-max-query-parameters` (`incident_contract.facts.max_query_parameters`).
    """
    by_name = {p["name"]: p for p in params}
    grouped: dict[tuple[str, str | None, str | None], list[str]] = {}
    for key, value in split(raw, max_pairs) if isinstance(raw, str) else raw:
        check_key(key, by_name)
        parts = key_parts(key)
        assert parts is not None
        grouped.setdefault(parts, []).append(value)
    plain = {name: _default(by_name, name) for name in SCALARS if name in by_name}
    query = ListQuery(plain["page_size"], plain["sort_by"], plain["filter_mode"])
    for (name, a, b), values in grouped.items():
        if depth(by_name[name]) == 0:
            if len(values) > 1:
                raise QueryError(name, "takes one plain value")
            if name in SCALARS:  # as the validator checked it, else as sent (parsed only then)
                checked = scalars is not None and name in scalars
                value = scalars[name] if scalars and checked else _plain(by_name[name], values[0])
                setattr(query, name, value)
            continue
        two_level = depth(by_name[name]) == 2
        op = b if two_level else a
        target = a if two_level else None
        assert op is not None
        operators = _operators(by_name[name])
        if op not in operators:
            raise QueryError(name, f"{op!r} is not an operator; use {', '.join(operators)}")
        if operators[op].get("type") != "array" and len(values) > 1:
            raise QueryError(name, f"[{op}] takes one value")
        most = operators[op].get("maxItems")
        if most is not None and len(values) > most:
            raise QueryError(name, f"[{op}] takes at most {most} values")
        for value in values:
            _check_value(name, op, operators[op], value)
        aliases = by_name[name].get("x-value-aliases", {})
        values = [aliases.get(value, value) for value in values]
        if name == "mode":
            query.modes = tuple(values)
        else:
            query.filters.append(Filter(name, op, tuple(values), target))
    return query
