"""The contract's operations, each with its parameters and request body already resolved.

Memoised per document, since the mock asks on every request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from incident_contract.document import HTTP_METHODS, Spec
from incident_contract.refs import resolve

__all__ = ["Operation", "operations", "path_for"]

Json = dict[str, Any]


@dataclass(frozen=True)
class Operation:
    id: str
    method: str  # upper case: GET, POST, ...
    path: str  # the template, e.g. /v2/incidents/{id}
    raw: Json  # the operation object as written
    parameters: tuple[Json, ...]  # with component $refs resolved
    scopes: tuple[str, ...]  # x-rbac-scopes: every one is required
    body_schema: Json | None  # the JSON request body's schema, resolved one level; None without a body
    success_status: int  # the lowest 2xx the operation documents

    def parameter(self, name: str) -> Json:
        for param in self.parameters:
            if param["name"] == name:
                return param
        raise KeyError(f"{self.id} has no parameter {name!r}")

    def url(self, **params: str) -> str:
        """The path with its `{name}` parameters filled in."""
        return path_for(self.path, **params)


def path_for(template: str, **params: str) -> str:
    out = template
    for name, value in params.items():
        out = out.replace("{" + name + "}", value)
    return out


def _build(spec: Spec, method: str, path: str, op: Json) -> Operation:
    body = op.get("requestBody")
    schema = None
    if body is not None:
        schema = resolve(spec, resolve(spec, body)["content"]["application/json"]["schema"])
    return Operation(
        id=op["operationId"],
        method=method.upper(),
        path=path,
        raw=op,
        parameters=tuple(resolve(spec, p) for p in op.get("parameters", [])),
        scopes=tuple(op.get("x-rbac-scopes", ())),
        body_schema=schema,
        success_status=min(int(s) for s in op["responses"] if s.startswith("2")),
    )


_MEMO: dict[int, tuple[Spec, dict[str, Operation]]] = {}


def operations(spec: Spec) -> dict[str, Operation]:
    """operationId -> Operation, in document order."""
    hit = _MEMO.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    out = {
        item[method]["operationId"]: _build(spec, method, path, item[method])
        for path, item in spec["paths"].items()
        for method in HTTP_METHODS
        if method in item
    }
    _MEMO[id(spec)] = (spec, out)
    return out
