"""Loads the packaged contract and answers questions about it.

Everything here reads openapi.yaml; nothing restates it. Framework-free, so the store, the mock and the
conformance suite can all use it.
"""

from __future__ import annotations

import copy
import functools
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = ["load_spec", "operations", "resolved_parameters", "role_scopes", "roles_granting", "spec_path"]

Spec = dict[str, Any]
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def spec_path() -> Path:
    """The packaged openapi.yaml (also the repo-root file in an editable install)."""
    with resources.as_file(resources.files("incident_contract") / "openapi.yaml") as path:
        return Path(path)


@functools.cache
def _load(path: str) -> Spec:
    with open(path, encoding="utf-8") as fh:
        doc: Spec = yaml.safe_load(fh)
    return doc


def load_spec(path: Path | None = None) -> Spec:
    """The contract as a dict: the parsed file is cached, and each caller gets its own deep copy.

    Libraries that take the document (Schemathesis among them) may rewrite parts of it in place;
    a shared copy would let one consumer change what every other one reads.
    """
    return copy.deepcopy(_load(str(path or spec_path())))


_OPERATIONS: dict[int, tuple[Spec, dict[str, tuple[str, str, dict[str, Any]]]]] = {}


def operations(spec: Spec) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (METHOD, path, operation object). Memoised per document: handlers ask per request."""
    hit = _OPERATIONS.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    out: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                out[item[method]["operationId"]] = (method.upper(), path, item[method])
    _OPERATIONS[id(spec)] = (spec, out)
    return out


def role_scopes(spec: Spec) -> dict[str, frozenset[str]]:
    """Role name -> the scopes it grants, from the x-api-key-roles extension."""
    return {role: frozenset(entry["scopes"]) for role, entry in spec["x-api-key-roles"].items()}


def roles_granting(spec: Spec, scope: str) -> list[str]:
    """The roles that grant a scope, in document order."""
    return [role for role, scopes in role_scopes(spec).items() if scope in scopes]


def resolved_parameters(spec: Spec, operation_id: str) -> list[dict[str, Any]]:
    """An operation's parameters with component $refs resolved."""
    _, _, op = operations(spec)[operation_id]
    shared = spec["components"].get("parameters", {})
    return [shared[p["$ref"].rsplit("/", 1)[-1]] if "$ref" in p else p for p in op.get("parameters", [])]
