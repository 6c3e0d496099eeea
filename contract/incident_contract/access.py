"""Roles and scopes: which scopes each key role grants (`x-api-key-roles`) and who grants a scope."""

from __future__ import annotations

from incident_contract.document import Spec

__all__ = ["role_scopes", "roles_granting"]


def role_scopes(spec: Spec) -> dict[str, frozenset[str]]:
    """Role name -> the scopes it grants, from the x-api-key-roles extension."""
    return {role: frozenset(entry["scopes"]) for role, entry in spec["x-api-key-roles"].items()}


def roles_granting(spec: Spec, scope: str) -> list[str]:
    """The roles that grant a scope, in document order."""
    return [role for role, scopes in role_scopes(spec).items() if scope in scopes]
