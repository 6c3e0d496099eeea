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

from dataclasses import dataclass
from typing import Any

from connexion.json_schema import Draft4RequestValidator
from jsonschema.validators import extend
from starlette.types import Scope

from incident_contract.query import QueryError, check_key, depth, split
from incident_mock.domain import errors
from incident_mock.domain.errors import BadRequest, ValidationFailed
from incident_mock.domain.param_check import ParamCheck
from incident_mock.domain.problems import FORMATS, SKIPPING, bounded, fast_check, read_json
from incident_mock.wire.request_state import RequestState

__all__ = ["QueryPlan", "check_body", "check_query", "fast_check", "parse_body"]

Json = dict[str, Any]


Reporting = extend(Draft4RequestValidator, SKIPPING)


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
    every: dict[str, list[str]] = {}  # an array parameter's values, in order
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
        every.setdefault(name, []).append(sent)
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
            query[check.name] = check(every[check.name] if check.array else value)
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
