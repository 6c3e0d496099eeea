"""Checking a fixtures document before anything is built from it, with one error naming where and why.

The schema is the core's (`incident_contract.fixtures`): the control plane's `Fixtures`, each table held
to the contract schema its resource declares. The first problem, in document order, is reported as a JSON
pointer, the message and the rule that failed (`/severities/0/rank: 'one' is not of type 'integer'
(type)`). Roles a key names must be roles of the contract's `x-api-key-roles`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft4Validator, ValidationError

from incident_contract.document import Spec
from incident_contract.fixtures import fixtures_validator

__all__ = ["ROLE_RULE", "FixturesCheck", "FixturesInvalid"]

Json = dict[str, Any]
ROLE_RULE = "x-api-key-roles"  # the rule a key naming an unknown role breaks


class FixturesInvalid(ValueError):
    """A fixtures document the mock cannot build from: `pointer` says where, `rule` which check failed."""

    def __init__(self, pointer: str, message: str, rule: str) -> None:
        super().__init__(f"{pointer or '/'}: {message} ({rule})")
        self.pointer, self.message, self.rule = pointer, message, rule


def _pointer(parts: Any) -> str:
    return "".join(f"/{str(p).replace('~', '~0').replace('/', '~1')}" for p in parts)


def _first(errors: list[ValidationError]) -> ValidationError:
    """The problem nearest the top of the document (then the first found): what a reader fixes first."""
    return min(errors, key=lambda e: [str(p).zfill(12) for p in e.absolute_path])


class FixturesCheck:
    """The checks for complete documents (a fixtures file) and partial ones (a sandbox's own tables)."""

    def __init__(self, spec: Spec, control: Spec, tables: Mapping[str, str]) -> None:
        self.roles = frozenset(spec["x-api-key-roles"])
        self.complete: Draft4Validator = fixtures_validator(spec, control, tables, complete=True)
        self.partial: Draft4Validator = fixtures_validator(spec, control, tables, complete=False)

    def check(self, document: Any, *, complete: bool) -> Json:
        """`document`, checked (FixturesInvalid otherwise)."""
        if not isinstance(document, dict):
            kind = "empty" if document is None else f"a {type(document).__name__}"
            raise FixturesInvalid("", f"the document is {kind}; expected a mapping of tables", "type")
        errors = list((self.complete if complete else self.partial).iter_errors(document))
        if errors:
            error = _first(errors)
            message = error.message if len(error.message) <= 200 else error.message[:200] + "..."
            where = list(error.absolute_path)
            if error.validator == "additionalProperties" and isinstance(error.instance, dict):
                known = set(error.schema.get("properties", {}))
                where.append(next(name for name in error.instance if name not in known))  # the stray key
            raise FixturesInvalid(_pointer(where), message, str(error.validator))
        for i, key in enumerate(document.get("api_keys", [])):
            unknown = [r for r in key["roles"] if r not in self.roles]
            if unknown:
                detail = f"not a role of x-api-key-roles: {unknown[0][:50]!r}"
                raise FixturesInvalid(f"/api_keys/{i}/roles", detail, ROLE_RULE)
        return document
