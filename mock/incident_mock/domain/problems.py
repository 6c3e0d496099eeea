"""What is wrong with a request body, in the contract's terms, in time linear in its size.

`read_json` parses a body (the API's and the control plane's): orjson first, which reads a MiB in a few
milliseconds and refuses what JSON has not (NaN, Infinity) and what Unicode has not (a lone surrogate,
`"\\ud800"`); only a body it refuses is read again by the standard library, for the message, or to find
the field holding the lone surrogate, which is 422 `invalid_value` naming it: stored, such a string
would turn every later answer that shows it into a 500.

`fast_check` is a compiled validator (jsonschema_rs) that only answers valid or not; jsonschema, whose
messages the 422 carries, runs only on an invalid body, passing over what the compiled one finds valid
(`SKIPPING`). `bounded` turns a validator's errors into ErrorSingle entries, at most `MAX_PROBLEMS` of
them and a last entry saying how many more there were (counted up to `MAX_COUNTED`), so that no 422 grows
with the body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import jsonschema_rs
import orjson
from jsonschema import Draft4Validator, FormatChecker, ValidationError

from incident_mock.domain import errors
from incident_mock.domain.errors import BadRequest, ValidationFailed

__all__ = [
    "FORMATS",
    "MAX_COUNTED",
    "MAX_PROBLEMS",
    "SKIPPING",
    "Compiled",
    "bounded",
    "describe",
    "fast_check",
    "inlined",
    "lone_surrogate",
    "read_json",
]

Json = dict[str, Any]
SURROGATE = re.compile("[\\ud800-\\udfff]")
Compiled = jsonschema_rs.Draft4Validator  # what fast_check gives
MAX_PROBLEMS = 10  # entries listed in one 422
MAX_NAME = 100  # characters of a field name shown in an answer
MAX_COUNTED = 100  # problems counted beyond them, at most (each costs a descent of jsonschema)
MORE = "and {more} more problems in this body, not listed: fix these and send it again"
MORE_THAN = "and more than {more} more problems in this body, not listed: fix these and send it again"


def read_json(raw: bytes) -> Any:
    """The JSON value of a body (None when it is empty or blank); BadRequest when it is not JSON or not
    UTF-8; ValidationFailed when a string or name holds a lone surrogate."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(errors.BAD_ENCODING, code="invalid_encoding") from None
    if not text.strip():
        return None
    try:
        body = json.loads(text, parse_constant=_not_a_number)
    except json.JSONDecodeError as exc:
        raise BadRequest(errors.BAD_JSON.format(detail=exc.msg), code="invalid_json") from None
    except ValueError as exc:  # NaN or Infinity, or an integer longer than Python converts (4300 digits)
        detail = str(exc) if "JSON value" in str(exc) else "a number is too long"
        raise BadRequest(errors.BAD_JSON.format(detail=detail), code="invalid_json") from None
    except RecursionError:
        raise BadRequest(errors.BAD_JSON.format(detail="nested too deeply"), code="invalid_json") from None
    bad = lone_surrogate(body)
    if bad is not None:
        field, pointer, code = bad
        raise ValidationFailed(
            errors.LONE_SURROGATE.format(field=field, code=code), field=field, pointer=pointer
        )
    return body  # what orjson refuses and Python reads (a number beyond a double's range)


def _not_a_number(name: str) -> Any:
    """NaN and Infinity, which Python's json reads but JSON has not: no schema bound catches them."""
    raise ValueError(f"{name} is not a JSON value")


def lone_surrogate(body: Any) -> tuple[str, str, int] | None:
    """(field, pointer, code point) of the first string or name in a parsed body holding a lone
    surrogate, or None. A name holding one is reported at the object that holds it. A container's strings
    are searched together, so the cost per value is a type test."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(body, ())]
    while stack:
        value, path = stack.pop()
        found, at = None, path
        if type(value) is str:
            found = SURROGATE.search(value)
        elif type(value) is dict:
            found = SURROGATE.search("".join(value))
            if found is None:
                found, at = _among(value.items(), path)
            stack.extend((v, (*path, k)) for k, v in value.items() if type(v) in (dict, list))
        elif type(value) is list:
            found, at = _among(enumerate(value), path)
            stack.extend((v, (*path, i)) for i, v in enumerate(value) if type(v) in (dict, list))
        if found is not None:
            path = at
            named = [p for p in path if isinstance(p, str)]
            return (_short(named[-1]) if named else "body"), _pointer(path), ord(found.group())
    return None


def _among(
    items: Iterable[tuple[Any, Any]], path: tuple[Any, ...]
) -> tuple[re.Match[str] | None, tuple[Any, ...]]:
    """The surrogate among a container's string members, and the path to the member holding it."""
    pairs = [(k, v) for k, v in items if type(v) is str]
    if not pairs or SURROGATE.search("".join(v for _, v in pairs)) is None:
        return None, path
    for key, text in pairs:
        found = SURROGATE.search(text)
        if found is not None:
            return found, (*path, key)
    return None, path  # two halves of a pair, split between two strings


def _pointer(parts: Iterable[Any]) -> str:
    return "".join(f"/{_short(str(p)).replace('~', '~0').replace('/', '~1')}" for p in parts)


def _short(name: str) -> str:
    """A name as an answer shows it: cut at `MAX_NAME` characters, so that no answer grows with a body."""
    return errors.shortened(name, MAX_NAME)


def describe(error: ValidationError) -> Iterator[Json]:
    """The ErrorSingle entries for one jsonschema error."""
    path = list(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        for n in error.validator_value:
            if n not in error.instance:
                yield errors.entry(
                    "is_required", errors.REQUIRED.format(field=_short(n)), _short(n), _pointer([*path, n])
                )
        return
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        for n in error.instance:
            if n not in known:
                message = errors.UNKNOWN_FIELD.format(field=_short(n))
                yield errors.entry("invalid_value", message, _short(n), _pointer([*path, n]))
        return
    named = [p for p in path if isinstance(p, str)]
    field = _short(named[-1]) if named else "body"
    detail = (
        error.message if len(error.message) < 200 else f"{error.validator} {error.validator_value!r}"[:200]
    )
    yield errors.entry(
        "invalid_value", errors.INVALID.format(field=field, detail=detail), field, _pointer(path)
    )


def bounded(found: Iterable[ValidationError]) -> list[Json]:
    """The entries for a validator's errors: the first `MAX_PROBLEMS` (each listed once, in the order of
    their pointers), then one entry `too_many_problems` saying how many more there were."""
    entries: dict[tuple[str, str], Json] = {}
    more = 0
    for error in found:
        for entry in describe(error):
            key = (entry["source"]["pointer"], entry["message"])
            if key in entries:
                continue  # jsonschema reports each missing field in its own error, and each names them all
            if len(entries) < MAX_PROBLEMS:
                entries[key] = entry
            else:
                more += 1
                if more > MAX_COUNTED:
                    break
        if more > MAX_COUNTED:
            break
    listed = sorted(entries.values(), key=lambda e: str(e["source"]["pointer"]))
    if more:
        text = MORE_THAN.format(more=MAX_COUNTED) if more > MAX_COUNTED else MORE.format(more=more)
        listed.append(
            {"code": "too_many_problems", "message": text, "metadata": {"more": str(min(more, MAX_COUNTED))}}
        )
    return listed


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
        yield from Draft4Validator.VALIDATORS["items"](validator, items, instance, schema)
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


SKIPPING = {
    "items": _skipping_items,
    "properties": _skipping_properties,
}  # jsonschema keywords, to extend with


def inlined(spec: Json, schema: Any, chain: tuple[str, ...] = ()) -> Any:
    """A copy of a schema with every local `$ref` replaced by what it names (a cycle is a ValueError)."""
    if isinstance(schema, list):
        return [inlined(spec, s, chain) for s in schema]
    if not isinstance(schema, dict):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith("#/") or ref in chain:
            raise ValueError(f"cannot inline $ref {ref!r}")
        target: Any = spec
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        return inlined(spec, target, (*chain, ref))
    return {k: inlined(spec, v, chain) for k, v in schema.items()}
