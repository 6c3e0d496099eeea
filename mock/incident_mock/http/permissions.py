"""Who is calling, and may they call this operation: one policy over the contract's two tables.

Scopes per operation come from `x-rbac-scopes` and scopes per role from `x-api-key-roles`; no handler
compares role strings. Framework-free: `authentication` and `admission` apply it to requests.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from incident_contract.access import role_scopes, roles_granting
from incident_contract.document import Spec
from incident_contract.operations import operations
from incident_mock.domain import errors
from incident_mock.domain.errors import Forbidden, NotFound, Unauthorized
from incident_mock.domain.records import ApiKey
from incident_mock.kit.callers import Caller
from incident_mock.kit.sandboxes import Sandboxes, expired
from incident_mock.resources.alerts.sources import holder

__all__ = ["Policy", "source_token"]

NO_SOURCE_TOKEN = (
    "No alert source token was sent: use the token query parameter or the header "
    "Authorization: Bearer <the source's secret_token>"
)
WRONG_SOURCE_TOKEN = "The token is not this alert source's secret_token (an API key is not accepted here)"


def source_token(token_param: Sequence[str], authorization: str | None) -> str | None:
    """The token an alert event or heartbeat ping carries: the `token` parameter when sent (it decides),
    else a Bearer token, else the password of Basic credentials (the user name when the password is
    empty)."""
    if token_param:
        return token_param[0] or None
    scheme, _, value = (authorization or "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic" and value:
        try:
            user, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return password or user or None
    return None


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

    def authenticate_source(
        self, sandboxes: Sandboxes, source_id: str, token_param: Sequence[str], authorization: str | None
    ) -> Caller:
        """The alert source a path names, as a caller of its sandbox: 401 with no token, 404 when no
        sandbox has the source, 401 when the token is not its own."""
        token = source_token(token_param, authorization)
        if token is None:
            raise Unauthorized(
                NO_SOURCE_TOKEN, code="missing_authorization_material", headers=errors.CHALLENGE
            )
        found = holder(((s, s.store) for s in sandboxes), source_id, token)
        if found is None:
            raise Unauthorized(WRONG_SOURCE_TOKEN, headers=errors.CHALLENGE)
        sandbox, row = found
        try:
            sandboxes.get(sandbox.id)  # touched, or reclaimed when it sat idle past the timeout
        except NotFound:
            raise Unauthorized(WRONG_SOURCE_TOKEN, headers=errors.CHALLENGE) from None
        key = ApiKey(row["id"], "", f"Alert source: {row['name']}", ())
        return Caller(key, frozenset(), sandbox)
