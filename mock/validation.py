"""Request validation that answers in the contract's terms.

Connexion still validates every request against openapi.yaml; these subclasses only change what a
failure looks like. Connexion reports one flat string per failure, and the contract needs a 422 per
field with `source.field` and `source.pointer`, so the body validator reports jsonschema's own errors,
and reading the body fails with a 400 rather than the 500 Connexion 3.3 gives for non-UTF-8 input.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import Any

from connexion.validators import JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, ValidationError
from starlette.types import Scope

from mock.errors import BadRequest, ValidationFailed

from . import errors

__all__ = ["BodyValidator", "QueryValidator", "describe"]

Json = dict[str, Any]


def _pointer(parts: list[Any]) -> str:
    return "".join(f"/{str(p).replace('~', '~0').replace('/', '~1')}" for p in parts)


def describe(error: ValidationError) -> list[Json]:
    """The ErrorSingle entries for one jsonschema error."""
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        return [
            errors.entry("is_required", errors.REQUIRED.format(field=n), n, _pointer([*path, n]))
            for n in missing
        ]
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        return [
            errors.entry("invalid_value", errors.UNKNOWN_FIELD.format(field=n), n, _pointer([*path, n]))
            for n in error.instance
            if n not in known
        ]
    named = [p for p in path if isinstance(p, str)]
    field = named[-1] if named else "body"
    detail = error.message if len(error.message) < 200 else f"{error.validator} {error.validator_value!r}"
    return [
        errors.entry(
            "invalid_value", errors.INVALID.format(field=field, detail=detail), field, _pointer(path)
        )
    ]


class BodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
    """JSON request bodies: 400 when unreadable, 422 per invalid field."""

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(errors.BAD_ENCODING, code="invalid_encoding") from None
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadRequest(errors.BAD_JSON.format(detail=exc.msg), code="invalid_json") from None
        except RecursionError:
            raise BadRequest(
                errors.BAD_JSON.format(detail="nested too deeply"), code="invalid_json"
            ) from None

    def _validate(self, body: Any) -> Json | None:
        if body is None:
            raise BadRequest(errors.BAD_JSON.format(detail="a JSON body is required"), code="invalid_json")
        try:
            found = sorted(self._validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
        except RecursionError:
            raise BadRequest(
                errors.BAD_JSON.format(detail="nested too deeply"), code="invalid_json"
            ) from None
        if found:
            raise ValidationFailed.many([entry for e in found for entry in describe(e)])
        return None


class QueryValidator(ParameterValidator):  # type: ignore[misc]
    """Parameters: unknown names and invalid values are 422 naming the parameter.

    deepObject parameters are left to the handler, which reads them from the raw query string.
    """

    def validate_request(self, request: Any) -> None:
        declared = {p["name"]: p for p in self.parameters.get("query", [])}
        for key in request.query_params:
            name = key.split("[", 1)[0]
            if name not in declared or ("[" in key and declared[name].get("style") != "deepObject"):
                raise ValidationFailed(
                    errors.INVALID.format(field=key, detail="unknown query parameter"), field=key
                )
        checks = [("query", p, request.query_params.get(p["name"])) for p in declared.values()]
        checks += [("path", p, request.path_params.get(p["name"])) for p in self.parameters.get("path", [])]
        for where, param, value in checks:
            if where == "query" and param.get("style") == "deepObject":
                continue
            if value is None:
                if param.get("required"):
                    name = param["name"]
                    raise ValidationFailed(errors.REQUIRED.format(field=name), code="is_required", field=name)
                continue
            self._check(param, value)

    @staticmethod
    def _check(param: Json, raw: str) -> None:
        schema = param.get("schema", {})
        value: Any = raw
        if schema.get("type") == "integer":
            try:
                value = int(raw)
            except ValueError:
                value = raw
        for error in Draft4Validator(schema).iter_errors(value):
            detail = error.message
            raise ValidationFailed(
                errors.INVALID.format(field=param["name"], detail=detail), field=param["name"]
            )
