"""Stage 7, authentication: the security handler Connexion runs for the contract's `bearer` scheme.

Connexion's security middleware already runs, per operation, whatever the document's `security` names,
so authentication is done there, once: this handler replaces Connexion's stock bearer handler (whose
info function would need a dotted path and which answers in its own 401 shape) and raises our
`Unauthorized` (401 `missing_authorization_material` or `invalid_authorization`, with
`WWW-Authenticate: Bearer`), which Connexion re-raises unchanged since it is the only scheme. The caller
goes into the request state, with the sandbox its token belongs to. Scopes are not checked here: for
`http` bearer schemes Connexion passes no scopes at all, so `Admission`, the next stage, checks
`x-rbac-scopes`.

An operation whose `security` names a scheme flagged `x-alert-source-token` (alert events, heartbeat pings)
authenticates by the token of the alert source its path names instead (`Policy.authenticate_source`): the
caller is then that source, in the sandbox holding it, with no scopes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connexion.lifecycle import ConnexionRequest
from connexion.security import AbstractSecurityHandler

from incident_mock.http.permissions import Policy
from incident_mock.kit.sandboxes import Sandboxes
from incident_mock.wire.request_state import request_state

__all__ = ["BearerAuthentication"]


class BearerAuthentication(AbstractSecurityHandler):  # type: ignore[misc]
    """Connexion builds one per operation (`security_map` takes a factory that needs no arguments)."""

    def __init__(self, policy: Policy, sandboxes: Sandboxes) -> None:
        self.policy, self.sandboxes = policy, sandboxes

    def get_fn(self, security_scheme: Any, required_scopes: Any) -> Callable[[ConnexionRequest], Any]:
        if security_scheme.get("x-alert-source-token"):
            return self.by_source

        def verify(request: ConnexionRequest) -> dict[str, Any]:
            caller = self.policy.authenticate(self.sandboxes, request.headers.get("authorization"))
            request_state(request.scope).caller = caller
            return {"sub": caller.key.name}

        return verify

    def by_source(self, request: ConnexionRequest) -> dict[str, Any]:
        caller = self.policy.authenticate_source(
            self.sandboxes,
            str(request.scope.get("path_params", {}).get("alert_source_config_id", "")),
            request.query_params.getlist("token"),
            request.headers.get("authorization"),
        )
        request_state(request.scope).caller = caller
        return {"sub": caller.key.name}
