"""What is wrong with a request body, in the contract's terms: one ErrorSingle per jsonschema error, and
the first string holding a lone surrogate (which parses but cannot be encoded again)."""

from __future__ import annotations

import re
from typing import Any

from jsonschema import ValidationError

from incident_mock.domain import errors

__all__ = ["describe", "lone_surrogate"]

Json = dict[str, Any]
SURROGATE = re.compile("[\\ud800-\\udfff]")


def lone_surrogate(body: Any) -> tuple[str, str, int] | None:
    """(field, pointer, code point) of the first string or name in a parsed body holding a lone
    surrogate, or None. A name holding one is reported at the object that holds it."""
    stack: list[tuple[Any, list[Any]]] = [(body, [])]
    while stack:
        value, path = stack.pop()
        found = None
        if isinstance(value, str):
            found = SURROGATE.search(value)
        elif isinstance(value, dict):
            found = next((m for m in map(SURROGATE.search, value) if m is not None), None)
            stack.extend((v, [*path, k]) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, [*path, i]) for i, v in enumerate(value))
        if found is not None:
            named = [p for p in path if isinstance(p, str)]
            return (named[-1] if named else "body"), _pointer(path), ord(found.group())
    return None


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
