"""What the rules need to know about the contract, read from the document, never restated.

Required fields, enums, scopes, roles, page-size bounds and the status-to-error-type table all come
from openapi.yaml (the table from the Errors section of `info.description`), so a change to the contract
changes what the suite checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from incident_contract.document import Spec, operations, resolved_parameters, role_scopes
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

__all__ = ["BodyEnum", "Contract", "QueryEnum"]

Json = dict[str, Any]
SPEC_URI = "urn:incident-contract:openapi"
_ERROR_ROW = re.compile(r"^\|\s*(\d{3})\s*\|\s*([a-z_]+)\s*\|", re.MULTILINE)


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
        self.ops = operations(spec)
        resource = Resource.from_contents(spec, default_specification=DRAFT4)
        self.registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)

    # --- operations and paths --------------------------------------------------------------------------
    def method(self, operation_id: str) -> str:
        return self.ops[operation_id][0]

    def path(self, operation_id: str, **params: str) -> str:
        template = self.ops[operation_id][1]
        return re.sub(r"\{(\w+)\}", lambda m: params.get(m[1], "x"), template)

    def scopes(self, operation_id: str) -> list[str]:
        return list(self.ops[operation_id][2].get("x-rbac-scopes", []))

    def roles(self) -> dict[str, frozenset[str]]:
        return role_scopes(self.spec)

    def success_status(self, operation_id: str) -> int:
        return min(int(s) for s in self.ops[operation_id][2]["responses"] if s.startswith("2"))

    def writes(self) -> list[str]:
        return [op for op, (method, _, _) in self.ops.items() if method != "GET"]

    def settings_writes(self) -> list[str]:
        """Writes that change organisation settings (need organisation_settings.update)."""
        return [
            op for op in self.writes() if any(s.startswith("organisation_settings") for s in self.scopes(op))
        ]

    # --- schemas ---------------------------------------------------------------------------------------
    def resolve(self, schema: Json) -> Json:
        while "$ref" in schema:
            node: Any = self.spec
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def body_schema(self, operation_id: str) -> Json | None:
        body = self.ops[operation_id][2].get("requestBody")
        if body is None:
            return None
        return self.resolve(self.resolve(body)["content"]["application/json"]["schema"])

    def body_validator(self, operation_id: str) -> Draft4Validator | None:
        """A validator for the request body of an operation (None when it takes no JSON body)."""
        body = self.ops[operation_id][2].get("requestBody")
        if body is None:
            return None
        schema = self.resolve(body)["content"]["application/json"]["schema"]
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            schema = {"$ref": f"{SPEC_URI}{ref}"}
        return Draft4Validator(schema, registry=self.registry)

    def required_fields(self, operation_id: str) -> list[str]:
        schema = self.body_schema(operation_id)
        return list(schema.get("required", [])) if schema else []

    def body_enums(self, operation_id: str) -> list[BodyEnum]:
        """Closed enums among the top-level fields of an operation's request body."""
        schema = self.body_schema(operation_id) or {}
        found = []
        for name, prop in schema.get("properties", {}).items():
            prop = self.resolve(prop)
            if "enum" in prop:
                found.append(BodyEnum(operation_id, name, tuple(prop["enum"])))
        return found

    def query_enums(self, operation_id: str) -> list[QueryEnum]:
        """Closed enums of query parameters, plain (`sort_by`) or one level deep (`mode[one_of]`)."""
        found = []
        for param in resolved_parameters(self.spec, operation_id):
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
        return [
            op for op in self.ops if any(p["name"] == "after" for p in resolved_parameters(self.spec, op))
        ]

    def param_schema(self, operation_id: str, name: str) -> Json:
        for param in resolved_parameters(self.spec, operation_id):
            if param["name"] == name:
                return dict(param.get("schema", {}))
        raise KeyError(name)

    def required_query(self, operation_id: str) -> list[str]:
        params = resolved_parameters(self.spec, operation_id)
        return [p["name"] for p in params if p.get("in") == "query" and p.get("required")]

    def validator(self, schema_name: str) -> Draft4Validator:
        ref = {"$ref": f"{SPEC_URI}#/components/schemas/{schema_name}"}
        return Draft4Validator(ref, registry=self.registry)

    def schema_errors(self, schema_name: str, instance: Any) -> list[str]:
        """Why an instance does not match a component schema; empty when it does."""
        found = sorted(self.validator(schema_name).iter_errors(instance), key=lambda e: list(e.absolute_path))
        return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:160]}" for e in found[:5]]

    def error_types(self) -> dict[int, str]:
        """Status -> error type, from the table in the contract's description."""
        rows = _ERROR_ROW.findall(self.spec["info"].get("description", ""))
        return {int(status): kind for status, kind in rows}
