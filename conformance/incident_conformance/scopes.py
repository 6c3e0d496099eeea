"""Before the rules run: the scopes --api-key holds, the scopes the selected rules need, and whether the
target is the project's mock.

The key's roles are what GET /v1/identity reports; the contract's `x-api-key-roles` turns them into
scopes. A rule's scopes are the `x-rbac-scopes` of the operations it calls (`rules.Rule.scopes`). On the
mock the roles grant exactly what the contract's table says, so a key lacking scopes cannot pass the rules
that need them and the run stops before it starts. Another deployment's roles may be named or cut
differently, so there the gap is a warning and the run goes on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx

from incident_conformance.contract import Contract
from incident_conformance.rules import Rule
from incident_conformance.target import Target
from incident_contract.document import Spec, load_control_spec
from incident_contract.refs import validator

__all__ = ["SKIP_OPTION", "KeyScopes", "check_key", "is_mock", "roles_of"]

SKIP_OPTION = "--skip-missing-scopes"
HEALTH = "Mock#Health"  # the mock's control plane (control-plane.yaml): liveness and version, no key needed


def roles_of(identity: Any) -> tuple[str, ...] | None:
    """The roles of an identity answer's body (UtilitiesIdentityResultV1); None when it has no list of them
    (AUTH-4 judges that answer)."""
    found = identity.get("identity") if isinstance(identity, dict) else None
    roles = found.get("roles") if isinstance(found, dict) else None
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        return None
    return tuple(roles)


@dataclass(frozen=True)
class KeyScopes:
    """What --api-key holds, measured against what the selected rules need."""

    contract: Contract
    roles: tuple[str, ...]
    held: frozenset[str]
    lacking: dict[str, frozenset[str]]  # rule id -> the scopes it needs that the key lacks (if any)

    @property
    def missing(self) -> list[str]:
        """Every scope some selected rule needs and the key lacks, sorted."""
        return sorted(frozenset().union(*self.lacking.values()))

    def _granted(self, scopes: Iterable[str]) -> str:
        """`scope (the roles that grant it)`, for each scope."""
        parts = []
        for scope in scopes:
            roles = self.contract.roles_granting(scope)
            parts.append(f"{scope} (role {' or '.join(roles)})" if roles else f"{scope} (no role grants it)")
        return ", ".join(parts)

    def line(self, total: int) -> str:
        """One line: the key's roles, the scopes it lacks, the rules needing them, the roles granting them."""
        return (
            f"--api-key (roles: {', '.join(self.roles) or 'none'}) lacks scopes that {len(self.lacking)} of "
            f"the {total} selected rules need: {self._granted(self.missing)}"
        )

    def reason(self, rule_id: str) -> str:
        """Why a rule is skipped under --skip-missing-scopes."""
        return f"needs scopes --api-key lacks: {self._granted(sorted(self.lacking[rule_id]))} ({SKIP_OPTION})"


def check_key(
    contract: Contract, rules: Iterable[Rule], identity: Any, settings_writes: bool
) -> KeyScopes | None:
    """Measure the key of an identity answer's body against the scopes of `rules`; None when the body
    names no roles to measure."""
    roles = roles_of(identity)
    if roles is None:
        return None
    grants = contract.roles()
    held = frozenset().union(*(grants.get(role, frozenset()) for role in roles))
    lacking = {}
    for rule in rules:
        gap = rule.scopes(contract, settings_writes) - held
        if gap:
            lacking[rule.id] = gap
    return KeyScopes(contract, roles, held, lacking)


@cache
def _health() -> tuple[str, Spec, dict[str, Any]]:
    """The path of the control plane's health operation, its document and the schema of its 200 answer."""
    control = load_control_spec()
    for path, item in control["paths"].items():
        operation = item.get("get") or {}
        if operation.get("operationId") == HEALTH:
            schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
            return path, control, schema
    raise LookupError(f"control-plane.yaml has no {HEALTH}")


def is_mock(target: Target) -> bool:
    """Whether the target is the project's mock: its control plane's health answers 200 with the body
    control-plane.yaml promises (`status` ok and a `version`).

    Asked without the API key (the key is sent only to the contract's operations). A mock started with
    --admin-token refuses the question, and counts as another target: the gap is then a warning.
    """
    path, control, schema = _health()
    try:
        answer = target.request("GET", path, authorization=None)
    except httpx.HTTPError:
        return False
    body = answer.json()
    return answer.status == 200 and isinstance(body, dict) and validator(control, schema).is_valid(body)
