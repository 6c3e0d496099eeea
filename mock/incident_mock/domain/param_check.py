"""One path or query parameter's check against its schema, compiled once per parameter.

Connexion builds a parameter validator for every request, and building a jsonschema validator costs about
10 µs, running it 3.4 µs; a compiled one (jsonschema_rs) answers valid-or-not in 0.3 µs. So the contract's
parameter validator (validation.QueryValidator) and the control plane (control_plane.py) build a
`ParamCheck` per parameter of an operation once, and call it per request.

jsonschema stays the authority: a value the compiled check refuses (or cannot read: a string holding a
lone surrogate) is asked again, and a failure's message is jsonschema's. The compiled check is never more
lenient than jsonschema on these schemas (types, lengths, enums, bounds; formats are not checked, as
jsonschema does not check them without a format checker); tests/mock/test_parameter_check.py compares them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from jsonschema import Draft4Validator

from incident_mock.domain.errors import ValidationFailed

__all__ = ["ParamCheck"]

Json = dict[str, Any]
DIGITS = re.compile(r"-?[0-9]{1,4000}")  # ASCII digits only: int() would also take " 5", "1_0" and "\u0663"
BOOLEANS = {"true": True, "false": False}  # a boolean in a query, as clients write it (the SDK: httpx)


@dataclass(frozen=True, slots=True)
class ParamCheck:
    name: str
    where: str  # "query" or "path"
    required: bool
    integer: bool  # the schema's type is integer: a value of digits is checked (and handed on) as an int
    fast: jsonschema_rs.Draft4Validator
    slow: Draft4Validator
    boolean: bool = False  # the schema's type is boolean: `true` and `false` are handed on as booleans
    array: bool = False  # the schema's type is array: every value of the parameter (`a=1&a=2`), as a list

    @classmethod
    def of(cls, param: Json) -> ParamCheck:
        """The check of a resolved parameter object."""
        schema = param.get("schema", {})
        return cls(
            str(param["name"]),
            str(param["in"]),
            bool(param.get("required")),
            schema.get("type") == "integer",
            jsonschema_rs.Draft4Validator(schema, validate_formats=False),
            Draft4Validator(schema),
            schema.get("type") == "boolean",
            schema.get("type") == "array",
        )

    def __call__(self, raw: str | list[str]) -> Any:
        """The value as its schema's type, or ValidationFailed naming the parameter. An array parameter
        takes the list of its values (repeated in the query), each checked by the items' schema."""
        value: Any
        if isinstance(raw, list):
            value = raw
        elif self.boolean:
            value = BOOLEANS.get(raw, raw)
        else:
            value = int(raw) if self.integer and DIGITS.fullmatch(raw) else raw
        try:
            if self.fast.is_valid(value):
                return value
        except ValueError:  # a string Rust cannot hold: jsonschema decides
            pass
        for error in self.slow.iter_errors(value):
            raise ValidationFailed.invalid(self.name, error.message[:200])
        return value
