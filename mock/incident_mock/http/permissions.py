"""Who is calling, and may they call this operation: one policy over the contract's two tables.

Scopes per operation come from `x-rbac-scopes` and scopes per role from `x-api-key-roles`; no handler
compares role strings. Framework-free: `authentication` and `admission` apply it to requests.
"""

from __future__ import annotations

from incident_contract.access import role_scopes, roles_granting
from incident_contract.document import Spec
from incident_contract.operations import operations
from incident_mock.domain import errors
from incident_mock.domain.errors import Forbidden, Unauthorized
from incident_mock.kit.callers import Caller
from incident_mock.kit.sandboxes import Sandboxes, expired

__all__ = ["Policy"]

SCOPE_SETS = 4_096  # the role sets whose scopes are remembered at most; past it, they are worked out again


class Policy:
    """Decides 401 and 403 for an operation, before anything reads the request body."""

    def __init__(self, spec: Spec) -> None:
        self.grants = role_scopes(spec)
        self.required = {op.id: op.scopes for op in operations(spec).values()}
        self.spec = spec
        self.scopes: dict[tuple[str, ...], frozenset[str]] = {}  # roles -> the scopes they grant

    def authenticate(self, sandboxes: Sandboxes, authorization: str | None) -> Caller:
        """The caller an Authorization header names (its key and sandbox), or Unauthorized."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized(
                errors.MISSING_AUTH, code="missing_authorization_material", headers=errors.CHALLENGE
            )
        found = sandboxes.lookup(token)
        if found is None:
            gone = sandboxes.expired_token(token)  # a sandbox reclaimed for idleness: a code of its own
            raise errors.invalid_key() if gone is None else expired(gone)
        sandbox, key = found
        scopes = self.scopes.get(key.roles)
        if scopes is None:
            if len(self.scopes) >= SCOPE_SETS:  # keys made through the API can name any set of roles
                self.scopes.clear()
            scopes = self.scopes[key.roles] = frozenset().union(
                *(self.grants.get(r, frozenset()) for r in key.roles)
            )
        return Caller(key, scopes, sandbox)

    def authorize(self, caller: Caller, operation_id: str) -> None:
        """Forbidden naming the first scope of the operation the caller lacks, and the roles granting it."""
        for scope in self.required.get(operation_id, ()):
            if scope not in caller.scopes:
                roles = ", ".join(roles_granting(self.spec, scope)) or "none"
                raise Forbidden(errors.MISSING_SCOPE.format(scope=scope, roles=roles))
