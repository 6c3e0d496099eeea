"""What the rules need to know about the contract, asked of the core (`incident_contract`), never restated.

Required fields, enums, scopes, roles, page-size bounds, the body limit and the status-to-error-type table
all come from openapi.yaml through the core, so a change to the contract changes what the suite checks.
This module only adds the questions that are the suite's own (which enums to try, which operations page).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from jsonschema import Draft4Validator

from incident_contract import access, facts, refs
from incident_contract.document import Spec
from incident_contract.operations import Operation, operations

__all__ = ["BodyEnum", "Contract", "QueryEnum"]

Json = dict[str, Any]
# the scopes of the writes that change organisation settings: severities, roles, custom fields and
# their options (organisation_settings.update), incident statuses (incident_lifecycles.update)
SETTINGS_SCOPES = ("organisation_settings.", "incident_lifecycles.")


@dataclass(frozen=True)
class BodyEnum:
    operation_id: str
    field: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class QueryEnum:
    operation_id: str
    param: str  # the query key as sent, e.g. sort_by or mode[one_of]
    values: tuple[str, ...]


class Contract:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.ops: dict[str, Operation] = operations(spec)
        # the families (tags) a run checks, set once they are chosen (families.chosen); None: every one
        self.chosen: frozenset[str] | None = None

    # --- operations and paths --------------------------------------------------------------------------
    def method(self, operation_id: str) -> str:
        return self.ops[operation_id].method

    def path(self, operation_id: str, **params: str) -> str:
        """The operation's path; every `{name}` not given is filled with `x`."""
        op = self.ops[operation_id]
        names = [part[1:-1] for part in op.path.split("/") if part.startswith("{") and part.endswith("}")]
        return op.url(**{name: params.get(name, "x") for name in names})

    def by_source_token(self) -> list[str]:
        """The operations that name a security of their own (alert events and heartbeat pings, which an alert
        source's token authenticates), of every family."""
        return [op.id for op in self.ops.values() if "security" in op.raw]

    def by_api_key(self) -> list[str]:
        """The operations an API key authenticates, of the families a run checks: all but those naming a
        security of their own (alert events and heartbeat pings, which an alert source's token
        authenticates)."""
        return [op.id for op in self.ops.values() if "security" not in op.raw and self.checked(op.id)]

    def checked(self, operation_id: str) -> bool:
        """Whether a run checks this operation: its family is among `chosen` (all, when None)."""
        return self.chosen is None or self.family(operation_id) in self.chosen

    def scopes(self, operation_id: str) -> list[str]:
        return list(self.ops[operation_id].scopes)

    def roles(self) -> dict[str, frozenset[str]]:
        return access.role_scopes(self.spec)

    def roles_granting(self, scope: str) -> list[str]:
        return access.roles_granting(self.spec, scope)

    def success_status(self, operation_id: str) -> int:
        return self.ops[operation_id].success_status

    def writes(self) -> list[str]:
        return [op.id for op in self.ops.values() if op.method != "GET"]

    # --- families: the contract's tags -------------------------------------------------------------------
    @cached_property
    def families(self) -> dict[str, tuple[str, ...]]:
        """Tag -> the operations it holds (an operation's family is its first tag)."""
        found: dict[str, list[str]] = {}
        for op in self.ops.values():
            found.setdefault(self.family(op.id), []).append(op.id)
        return {tag: tuple(ops) for tag, ops in found.items()}

    def family(self, operation_id: str) -> str:
        tags = self.ops[operation_id].raw.get("tags") or ["(untagged)"]
        return str(tags[0])

    def _tags_marked(self, mark: str) -> frozenset[str]:
        return frozenset(str(t["name"]) for t in self.spec.get("tags", []) if t.get(mark))

    @cached_property
    def always_checked(self) -> frozenset[str]:
        """The families every run checks (`x-always-checked` on their tag)."""
        return self._tags_marked("x-always-checked")

    @cached_property
    def mock_only_writes(self) -> frozenset[str]:
        """The families whose writes run only against the mock (`x-writes-on-mock-only` on their tag)."""
        return self._tags_marked("x-writes-on-mock-only")

    def settings_writes(self) -> list[str]:
        """Writes that change organisation settings (need a scope of SETTINGS_SCOPES)."""
        return [op for op in self.writes() if any(s.startswith(SETTINGS_SCOPES) for s in self.scopes(op))]

    # --- facts -----------------------------------------------------------------------------------------
    @cached_property
    def error_types(self) -> dict[int, str]:
        """Error status -> the ErrorResponse `type` (the contract's `x-error-types`)."""
        return facts.error_types(self.spec)

    @cached_property
    def max_body_bytes(self) -> int:
        return facts.max_body_bytes(self.spec)

    @cached_property
    def max_url_bytes(self) -> int | None:
        """The contract's `x-max-url-bytes`, if set: a longer URL may be refused before the API runs."""
        value = self.spec.get("x-max-url-bytes")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def page_size_bounds(self, operation_id: str) -> tuple[int, int, int]:
        """(minimum, maximum, default) of an operation's page_size."""
        return facts.page_size_bounds(self.spec, operation_id)

    # --- schemas ---------------------------------------------------------------------------------------
    def body_schema(self, operation_id: str) -> Json | None:
        return self.ops[operation_id].body_schema

    def property_schema(self, operation_id: str, name: str) -> Json:
        """The resolved schema of a top-level field of an operation's request body."""
        schema = self.body_schema(operation_id) or {}
        prop: Json = refs.resolve(self.spec, schema.get("properties", {}).get(name, {}))
        return prop

    def body_validator(self, operation_id: str) -> Draft4Validator | None:
        """A validator for the request body of an operation (None when it takes no JSON body)."""
        schema = self.body_schema(operation_id)
        return None if schema is None else refs.validator(self.spec, schema)

    def required_fields(self, operation_id: str) -> list[str]:
        schema = self.body_schema(operation_id)
        return list(schema.get("required", [])) if schema else []

    def body_enums(self, operation_id: str) -> list[BodyEnum]:
        """Closed enums among the top-level fields of an operation's request body."""
        schema = self.body_schema(operation_id) or {}
        found = []
        for name, prop in schema.get("properties", {}).items():
            prop = refs.resolve(self.spec, prop)
            if "enum" in prop:
                found.append(BodyEnum(operation_id, name, tuple(prop["enum"])))
        return found

    def query_enums(self, operation_id: str) -> list[QueryEnum]:
        """Closed enums of query parameters, plain (`sort_by`) or one level deep (`mode[one_of]`)."""
        found = []
        for param in self.ops[operation_id].parameters:
            if param.get("in") != "query":
                continue
            schema = param.get("schema", {})
            if "enum" in schema:
                found.append(QueryEnum(operation_id, param["name"], tuple(schema["enum"])))
            for op, sub in (schema.get("properties") or {}).items():
                items = sub.get("items", sub)
                if "enum" in items:
                    found.append(QueryEnum(operation_id, f"{param['name']}[{op}]", tuple(items["enum"])))
        return found

    def paginated(self) -> list[str]:
        """The paginated lists of the families a run checks."""
        return [
            op.id
            for op in self.ops.values()
            if any(p["name"] == "after" for p in op.parameters) and self.checked(op.id)
        ]

    def required_query(self, operation_id: str) -> list[str]:
        params = self.ops[operation_id].parameters
        return [p["name"] for p in params if p.get("in") == "query" and p.get("required")]

    def success_schema(self, operation_id: str) -> Json:
        """The resolved JSON schema of an operation's success answer."""
        op = self.ops[operation_id]
        response = refs.resolve(self.spec, op.raw["responses"][str(op.success_status)])
        schema: Json = refs.resolve(self.spec, response["content"]["application/json"]["schema"])
        return schema

    def schema_errors(self, schema_name: str, instance: Any) -> list[str]:
        """Why an instance does not match a component schema; empty when it does."""
        errors = refs.validator(self.spec, schema_name).iter_errors(instance)
        found = sorted(errors, key=lambda e: list(e.absolute_path))
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:160]}" for e in found[:5]]
