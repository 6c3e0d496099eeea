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
BOOLEANS = {"true": True, "false": False}  # a boolean query value as clients write it


@dataclass(frozen=True, slots=True)
class ParamCheck:
    name: str
    where: str  # "query" or "path"
    required: bool
    integer: bool  # the schema's type is integer: a value of digits is checked (and handed on) as an int
    boolean: bool  # the schema's type is boolean: `true` and `false` are checked (and handed on) as bools
    fast: jsonschema_rs.Draft4Validator
    slow: Draft4Validator

    @classmethod
    def of(cls, param: Json) -> ParamCheck:
        """The check of a resolved parameter object."""
        schema = param.get("schema", {})
        return cls(
            str(param["name"]),
            str(param["in"]),
            bool(param.get("required")),
            schema.get("type") == "integer",
            schema.get("type") == "boolean",
            jsonschema_rs.Draft4Validator(schema, validate_formats=False),
            Draft4Validator(schema),
        )

    def __call__(self, raw: str) -> Any:
        """The value as its schema's type, or ValidationFailed naming the parameter."""
        value: Any = int(raw) if self.integer and DIGITS.fullmatch(raw) else raw
        if self.boolean and raw in BOOLEANS:
            value = BOOLEANS[raw]
        try:
            if self.fast.is_valid(value):
                return value
        except ValueError:  # a string Rust cannot hold: jsonschema decides
            pass
        for error in self.slow.iter_errors(value):
            raise ValidationFailed.invalid(self.name, error.message[:200])
        return value
