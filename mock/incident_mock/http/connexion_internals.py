"""The one module that relies on Connexion's internals (connexion is pinned exactly, 3.3.0).

- `routed_operation`: the operation Connexion's router chose, read from its private scope key
  (`scope["extensions"]["connexion_routing"]`); `RouteNote`, a stage just inside the router, copies it
  into the request state, so no other stage reads Connexion's key;
- `BodyValidator`: Connexion's JSON body validator with its private `_parse`, `_validate` and
  `_validator` replaced by http/validation.py's parsing and checking;
- `QueryValidator`: Connexion's parameter validator with its constructor and `validate` replaced by
  http/validation.py's query check, its plan built once per operation;
- `trusted_contract`: while it is open, Connexion loads a document without checking it against the
  OpenAPI meta-schema (its `Specification._validate_spec`), 1.5 of the 2.5 s a start took with the whole
  contract. The packaged contract is checked by the test suite (tests/contract/test_document.py), so
  app.py trusts it; a contract given with `spec_file` is still checked.

tests/mock/test_connexion_internals.py checks that each of these still has the shape used here, and
fails naming the pinned version if an upgrade changed it.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from connexion.json_schema import Draft4RequestValidator
from connexion.spec import Specification
from connexion.validators import JSONRequestBodyValidator, ParameterValidator
from starlette.types import ASGIApp, Receive, Scope, Send

from incident_contract.document import Spec
from incident_contract.facts import max_query_parameters
from incident_mock.domain.problems import FORMATS
from incident_mock.http.validation import QueryPlan, check_body, check_query, parse_body
from incident_mock.wire.request_state import request_state

__all__ = [
    "PINNED",
    "ROUTING_KEY",
    "BodyValidator",
    "QueryValidator",
    "RouteNote",
    "routed_operation",
    "trusted_contract",
]

PINNED = "connexion==3.3.0"
ROUTING_KEY = "connexion_routing"  # where Connexion's router leaves what it matched, in scope["extensions"]

Json = dict[str, Any]
_TRUST = threading.Lock()


@contextmanager
def trusted_contract() -> Iterator[None]:
    """Connexion loads documents unchecked against the OpenAPI meta-schema while this is open."""
    with _TRUST:
        checked = Specification.__dict__["_validate_spec"]
        Specification._validate_spec = classmethod(lambda cls, spec: None)
        try:
            yield
        finally:
            Specification._validate_spec = checked


def routed_operation(scope: Scope) -> str | None:
    """The operationId Connexion's router matched for this request, if any."""
    routing = scope.get("extensions", {}).get(ROUTING_KEY)
    found = routing.get("operation_id") if isinstance(routing, dict) else None
    return found if isinstance(found, str) else None


class RouteNote:
    """Just inside Connexion's router: the operation it matched goes into the request state."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request_state(scope).operation_id = routed_operation(scope)
        await self.app(scope, receive, send)


class BodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
    """JSON request bodies: 400 when unreadable, 422 per invalid field (a bounded number of them)."""

    @property
    def _validator(self) -> Any:
        return Draft4RequestValidator(self._schema, format_checker=FORMATS)

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        body = parse_body(b"".join([chunk async for chunk in stream]))
        request_state(scope).body = body  # what Dispatch hands the handler, once _validate has passed it
        return body

    def _validate(self, body: Any) -> Json | None:
        check_body(self._schema, body)
        return None


class QueryValidator(ParameterValidator):  # type: ignore[misc]
    """Parameters, checked by http/validation.py's `check_query`. `bound(spec)` is this validator with
    the contract's cap on the number of query parameters.

    Connexion builds this validator for every request, handing it the operation's own parameter list (the
    same list each time); what the checks need of that list is built once per operation (`QueryPlan`) and
    kept by the bound class, so it lives as long as the app."""

    max_pairs: int | None = None
    plans: ClassVar[dict[int, tuple[list[Json], QueryPlan]]] = {}

    @classmethod
    def bound(cls, spec: Spec) -> type[QueryValidator]:
        """This validator, refusing more query parameters than the contract's `x-max-query-parameters`."""
        return type(cls.__name__, (cls,), {"max_pairs": max_query_parameters(spec), "plans": {}})

    def __init__(self, parameters: list[Json], *_: Any, **__: Any) -> None:
        # Connexion's own __init__ only regroups the parameters, which QueryPlan has done once already.
        hit = self.plans.get(id(parameters))
        if hit is None or hit[0] is not parameters:
            hit = self.plans[id(parameters)] = (parameters, QueryPlan.of(parameters))
        self.plan = hit[1]

    def validate(self, scope: Scope) -> None:
        check_query(self.plan, scope, request_state(scope), self.max_pairs)
