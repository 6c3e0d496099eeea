"""Stage 10, request validation: Connexion's, with validators that answer in the contract's terms.

Connexion still validates every request against openapi.yaml; our validators (plugged into Connexion's
hooks by connexion_internals.py, the one module that relies on its internals) only change what a
failure looks like and what it costs. Connexion reports one flat string per failure, and the contract
needs a 422 per field with `source.field` and `source.pointer`, so the body validator reports
jsonschema's own errors, at most a few of them (domain/problems.py `bounded`), and reading the body fails
with a 400 rather than the 500 Connexion 3.3 gives for non-UTF-8 input.

Cost: a body is parsed by orjson and checked by a compiled validator (jsonschema_rs), each linear in its
size with a small constant (a MiB in milliseconds). Only an invalid body meets jsonschema, whose messages
the 422 carries; it stops after the few errors it lists and a bounded count of the rest, and skips what
the compiled validator passes (an array's valid items, an object's valid members), so a MiB of valid
items before the first invalid one costs no more than checking them once.

A lone surrogate (`"\\ud800"`) is 422 invalid_value naming the field (domain/problems.py `read_json`).
The query validator caps the query string at the contract's `x-max-query-parameters` pairs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from connexion.json_schema import Draft4RequestValidator
from jsonschema import Draft4Validator, FormatChecker, ValidationError
from jsonschema.validators import extend
from starlette.types import Scope

from incident_contract.query import QueryError, check_key, depth, split
from incident_mock.domain import errors
from incident_mock.domain.errors import BadRequest, ValidationFailed
from incident_mock.domain.param_check import ParamCheck
from incident_mock.domain.problems import bounded, read_json
from incident_mock.wire.request_state import RequestState

__all__ = ["QueryPlan", "check_body", "check_query", "fast_check", "parse_body"]

Json = dict[str, Any]


# jsonschema checks no int32/int64 ranges, and the contract's integers carry those formats.
FORMATS = FormatChecker(formats=())
FORMATS.checkers.update(Draft4Validator.FORMAT_CHECKER.checkers)
for _name, _bits in (("int32", 31), ("int64", 63)):
    FORMATS.checks(_name)(lambda v, b=_bits: not isinstance(v, int) or -(2**b) <= v < 2**b)


def _as_bounds(schema: Any) -> Any:
    """A copy of a schema with the int32/int64 formats written as the bounds they mean for integers."""
    if isinstance(schema, list):
        return [_as_bounds(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _as_bounds(v) for k, v in schema.items()}
    bits = {"int32": 31, "int64": 63}.get(out.get("format", "")) if out.get("type") == "integer" else None
    if bits:
        out.setdefault("minimum", -(2**bits))
        out.setdefault("maximum", 2**bits - 1)
    return out


_FAST: dict[int, tuple[Any, jsonschema_rs.Draft4Validator]] = {}


def fast_check(schema: Json) -> jsonschema_rs.Draft4Validator:
    """A compiled validator that only answers valid or not, about fifty times faster than jsonschema.

    It never accepts what the jsonschema validator below rejects (tests/mock/test_validation.py
    compares the two on generated bodies); every error message still comes from jsonschema.
    """
    hit = _FAST.get(id(schema))
    if hit is None or hit[0] is not schema:
        hit = _FAST[id(schema)] = (
            schema,
            jsonschema_rs.Draft4Validator(_as_bounds(schema), validate_formats=True),
        )
    return hit[1]


def _skipping_items(validator: Any, items: Any, instance: Any, schema: Json) -> Iterator[ValidationError]:
    """jsonschema's `items`, passing over the items the compiled validator finds valid."""
    if not validator.is_type(instance, "array") or not isinstance(items, dict):
        yield from Draft4RequestValidator.VALIDATORS["items"](validator, items, instance, schema)
        return
    fast = fast_check(items)
    for index, item in enumerate(instance):
        if not fast.is_valid(item):
            yield from validator.descend(item, items, path=index)


def _skipping_properties(
    validator: Any, properties: Json, instance: Any, schema: Json
) -> Iterator[ValidationError]:
    """jsonschema's `properties`, passing over the members the compiled validator finds valid."""
    if not validator.is_type(instance, "object"):
        return
    for name, subschema in properties.items():
        if name in instance and not fast_check(subschema).is_valid(instance[name]):
            yield from validator.descend(instance[name], subschema, path=name, schema_path=name)


Reporting = extend(Draft4RequestValidator, {"items": _skipping_items, "properties": _skipping_properties})


def parse_body(raw: bytes) -> Any:
    """A request body as JSON (None when blank): 400 when unreadable, 422 for a lone surrogate."""
    return read_json(raw)


def check_body(schema: Json, body: Any) -> None:
    """400 when there is no body, 422 listing the first problems of an invalid one."""
    if body is None:
        raise BadRequest(errors.BAD_JSON.format(detail="a JSON body is required"), code="invalid_json")
    if fast_check(schema).is_valid(body):
        return
    try:
        found = bounded(Reporting(schema, format_checker=FORMATS).iter_errors(body))
    except RecursionError:
        raise BadRequest(errors.BAD_JSON.format(detail="nested too deeply"), code="invalid_json") from None
    if found:
        raise ValidationFailed.many(found)


def check_query(plan: QueryPlan, scope: Scope, state: RequestState, max_pairs: int | None) -> None:
    """Parameters: unknown names and invalid values are 422 naming the parameter; the plain query
    parameters, typed by their schemas, go into the request state.

    Reads the raw query string with the contract's one query grammar (`incident_contract.query`):
    Connexion's own parser raises on brackets deeper than the schema (`status[one_of][x]=y`), so malformed
    keys are refused before anything asks it. deepObject values are left to the handler."""
    first: dict[str, str] = {}
    try:
        pairs = split(scope.get("query_string", b"").decode("latin-1"), max_pairs)
    except QueryError as exc:
        raise ValidationFailed.invalid(exc.field, exc.detail) from None
    state.query_pairs = pairs
    for key, sent in pairs:
        try:
            name = check_key(key, plan.declared)
        except QueryError:
            raise ValidationFailed.invalid(key, "unknown query parameter") from None
        first.setdefault(name, sent)
    path = scope.get("path_params", {})
    query = state.query
    for check in plan.checks:
        value = first.get(check.name) if check.where == "query" else path.get(check.name)
        if value is None:
            if check.required:
                raise ValidationFailed(
                    errors.REQUIRED.format(field=check.name), code="is_required", field=check.name
                )
            continue
        if check.where == "query":  # what Dispatch hands the handler, coerced to the schema's type
            query[check.name] = check(value)
        else:
            check(value)


@dataclass(frozen=True)
class QueryPlan:
    """What validating an operation's parameters needs, built once from its parameter list."""

    declared: dict[str, Json]  # the query parameters by name
    checks: tuple[ParamCheck, ...]  # the plain query parameters, then the path parameters

    @classmethod
    def of(cls, parameters: list[Json]) -> QueryPlan:
        query = [p for p in parameters if p["in"] == "query"]
        plain = [p for p in query if not depth(p)] + [p for p in parameters if p["in"] == "path"]
        return cls({p["name"]: p for p in query}, tuple(ParamCheck.of(p) for p in plain))
