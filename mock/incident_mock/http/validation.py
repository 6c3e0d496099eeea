"""Stage 10, request validation: Connexion's, with validators that answer in the contract's terms.

Connexion still validates every request against openapi.yaml; these subclasses only change what a
failure looks like. Connexion reports one flat string per failure, and the contract needs a 422 per
field with `source.field` and `source.pointer`, so the body validator reports jsonschema's own errors,
and reading the body fails with a 400 rather than the 500 Connexion 3.3 gives for non-UTF-8 input.

JSON may spell a lone surrogate (`"\ud800"`), which parses into a Python string that is not valid
Unicode and cannot be encoded again: stored, it would turn every later answer that shows it into a 500.
The body validator refuses it (422 invalid_value naming the field) before anything can store it. The
query validator caps the query string at the contract's `x-max-query-parameters` pairs.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any, ClassVar

import jsonschema_rs
from connexion.json_schema import Draft4RequestValidator
from connexion.validators import JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, FormatChecker
from starlette.types import Scope

from incident_contract.document import Spec
from incident_contract.facts import max_query_parameters
from incident_contract.query import QueryError, check_key, depth, split
from incident_mock.domain import errors
from incident_mock.domain.errors import BadRequest, ValidationFailed
from incident_mock.domain.param_check import ParamCheck
from incident_mock.domain.problems import describe, lone_surrogate
from incident_mock.wire.request_state import request_state

__all__ = ["BodyValidator", "QueryValidator"]

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


class BodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
    """JSON request bodies: 400 when unreadable, 422 per invalid field."""

    @property
    def _validator(self) -> Any:
        return Draft4RequestValidator(self._schema, format_checker=FORMATS)

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(errors.BAD_ENCODING, code="invalid_encoding") from None
        if not text.strip():
            return None
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadRequest(errors.BAD_JSON.format(detail=exc.msg), code="invalid_json") from None
        except ValueError:  # an integer longer than Python converts (4300 digits)
            raise BadRequest(
                errors.BAD_JSON.format(detail="a number is too long"), code="invalid_json"
            ) from None
        except RecursionError:
            raise BadRequest(
                errors.BAD_JSON.format(detail="nested too deeply"), code="invalid_json"
            ) from None
        if "\\u" in text:  # a surrogate can only arrive escaped: the text itself is valid UTF-8
            bad = lone_surrogate(body)
            if bad is not None:
                field, pointer, code = bad
                message = errors.LONE_SURROGATE.format(field=field, code=code)
                raise ValidationFailed(message, field=field, pointer=pointer)
        request_state(scope).body = body  # what Dispatch hands the handler, once _validate has passed it
        return body

    def _validate(self, body: Any) -> Json | None:
        if body is None:
            raise BadRequest(errors.BAD_JSON.format(detail="a JSON body is required"), code="invalid_json")
        if fast_check(self._schema).is_valid(body):
            return None
        try:
            found = sorted(self._validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
        except RecursionError:
            raise BadRequest(
                errors.BAD_JSON.format(detail="nested too deeply"), code="invalid_json"
            ) from None
        if found:
            # jsonschema reports each missing field in its own error, and each names them all: one entry each.
            entries = {json.dumps(entry, sort_keys=True): entry for e in found for entry in describe(e)}
            raise ValidationFailed.many(list(entries.values()))
        return None


class QueryValidator(ParameterValidator):  # type: ignore[misc]
    """Parameters: unknown names and invalid values are 422 naming the parameter.

    Reads the raw query string with the contract's one query grammar (`incident_contract.query`):
    Connexion's own parser raises on brackets deeper than the schema (`status[one_of][x]=y`), so
    malformed keys must be refused before anything asks it. deepObject values are left to the handler,
    which reads them from the raw query string with the same grammar. `bound(spec)` is this validator with
    the contract's cap on the number of query parameters.

    Connexion builds this validator for every request, handing it the operation's own parameter list (the
    same list each time); what the checks need of that list is built once per operation (`_Plan`) and kept
    by the bound class, so it lives as long as the app.
    """

    max_pairs: int | None = None
    plans: ClassVar[dict[int, tuple[list[Json], _Plan]]] = {}

    @classmethod
    def bound(cls, spec: Spec) -> type[QueryValidator]:
        """This validator, refusing more query parameters than the contract's `x-max-query-parameters`."""
        return type(cls.__name__, (cls,), {"max_pairs": max_query_parameters(spec), "plans": {}})

    def __init__(self, parameters: list[Json], *_: Any, **__: Any) -> None:
        # Connexion's own __init__ only regroups the parameters, which _Plan has done once already.
        hit = self.plans.get(id(parameters))
        if hit is None or hit[0] is not parameters:
            hit = self.plans[id(parameters)] = (parameters, _Plan.of(parameters))
        self.plan = hit[1]

    def validate(self, scope: Scope) -> None:
        plan = self.plan
        first: dict[str, str] = {}
        try:
            pairs = split(scope.get("query_string", b"").decode("latin-1"), self.max_pairs)
        except QueryError as exc:
            raise ValidationFailed.invalid(exc.field, exc.detail) from None
        for key, sent in pairs:
            try:
                name = check_key(key, plan.declared)
            except QueryError:
                raise ValidationFailed.invalid(key, "unknown query parameter") from None
            first.setdefault(name, sent)
        path = scope.get("path_params", {})
        query = request_state(scope).query
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
class _Plan:
    """What validating an operation's parameters needs, built once from its parameter list."""

    declared: dict[str, Json]  # the query parameters by name
    checks: tuple[ParamCheck, ...]  # the plain query parameters, then the path parameters

    @classmethod
    def of(cls, parameters: list[Json]) -> _Plan:
        query = [p for p in parameters if p["in"] == "query"]
        plain = [p for p in query if not depth(p)] + [p for p in parameters if p["in"] == "path"]
        return cls({p["name"]: p for p in query}, tuple(ParamCheck.of(p) for p in plain))
