"""The one typed object a request carries through the stages, stored in the ASGI scope under one key.

`Intake` creates it and keeps the body in `raw`; `RouteNote` sets `operation_id`, the operation Connexion
routed to; authentication sets `caller`; `Admission` raises `too_large`; `Injection` sets `fault` when one
fires; the validators set `body`, `query` and `query_pairs`; `Dispatch` hands `caller`, `body`, `query`
and `query_pairs` to the handler; the error handler reads `request_id`; the journal records what they
hold. Nothing else is passed between stages.

The request id is drawn when first read (the answer's headers, an error body): from the caller's sandbox's
ids once authentication has named it, else from the mock's, so a seeded sandbox's request ids depend only
on the requests it was sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.types import Scope
from ulid import ULID

from incident_mock.domain.errors import PayloadTooLarge
from incident_mock.domain.ids import Ids
from incident_mock.kit.callers import Caller

__all__ = ["KEY", "RequestState", "begin", "request_state"]

KEY = "incident_mock"  # our key in scope["extensions"]


@dataclass
class RequestState:
    ids: Ids | None = None  # the mock's own ids, for a request no sandbox claims
    raw: bytes = b""  # the body as Intake read it (empty when over the limit), for the journal
    too_large: PayloadTooLarge | None = None  # the body passed the contract's limit: the 413 Admission raises
    # (after authentication), made once by Intake
    caller: Caller | None = None  # who sent it, once authentication has run
    body: Any = None  # the JSON body as the body validator parsed it
    query: dict[str, Any] = field(default_factory=dict)  # plain query parameters, typed by their schemas
    query_pairs: list[tuple[str, str]] = field(default_factory=list)  # the query string's (key, value) pairs
    operation_id: str | None = None  # the contract operation Connexion's router matched (RouteNote)
    fault: dict[str, Any] | None = None  # the fault that fired on this request (faults.Fault.note), if any
    drawn: str = ""  # the request id, once drawn

    @property
    def request_id(self) -> str:
        if not self.drawn:
            ids = self.caller.sandbox.ids if self.caller is not None else self.ids
            self.drawn = ids.ulid() if ids is not None else str(ULID())
        return self.drawn


def begin(scope: Scope, ids: Ids | None) -> RequestState:
    """A new request's state, put into its scope (Intake, the first stage)."""
    state = scope.setdefault("extensions", {})[KEY] = RequestState(ids)
    return state


def request_state(scope: Scope) -> RequestState:
    """The request's state; created empty if no stage has made it yet (a stage tested on its own)."""
    extensions = scope.setdefault("extensions", {})
    found = extensions.get(KEY)
    if found is None:
        found = extensions[KEY] = RequestState()
    return found  # type: ignore[no-any-return]
