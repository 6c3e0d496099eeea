"""Stage 11, dispatch: call the handler of the operation Connexion routed to.

`HandlerResolver` is the resolver Connexion asks for each operationId: it answers from the table of
handlers (`incident_mock.resources.organisation.served`: the engine's for declared resources, the behaviour
modules' for the rest), refuses to start if an operation has no handler, and records what it resolved.
`Dispatch` calls exactly those functions (tests/mock/test_dispatch.py checks they are the very objects
Connexion's operations hold).

Connexion does the contract's work before this stage: it routes by openapi.yaml, runs security,
validates the request and, when asked, the response. `Dispatch` sits after all of that (just before
Connexion's context middleware) and answers, in place of Connexion's terminal app, which matches the
route a second time, re-decorates the handler and re-parses its arguments on every request: more than
half of the mock's time per request (see bench/results.md). The terminal app is never reached for a
routed operation.

Arguments come from the spec: path parameters from the route, and the plain query parameters and JSON
body exactly as the validators parsed and checked them (kept in the request state; a handler taking
`query_pairs` gets the query string as the validator split it), with the schema's defaults for parameters
left out.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connexion.resolver import Resolver
from starlette.types import ASGIApp, Receive, Scope, Send

from incident_contract.document import Spec
from incident_contract.operations import operations
from incident_mock.domain import errors
from incident_mock.domain.errors import Internal
from incident_mock.engine.context import Ctx, Reply
from incident_mock.wire.request_state import request_state
from incident_mock.wire.responses import send_body

__all__ = ["Dispatch", "HandlerResolver", "Plan", "plan"]

Json = dict[str, Any]
Handler = Callable[..., Reply | Awaitable[Reply]]


class HandlerResolver(Resolver):  # type: ignore[misc]
    """operationId -> its handler in the table; `resolved` records every answer given to Connexion."""

    def __init__(self, table: Mapping[str, Handler]) -> None:
        super().__init__(function_resolver=self.lookup)
        self.table = table
        self.resolved: dict[str, Handler] = {}

    def lookup(self, operation_id: str) -> Handler:
        if operation_id not in self.table:
            raise KeyError(f"no handler for {operation_id!r}")
        handler = self.resolved[operation_id] = self.table[operation_id]
        return handler


@dataclass(frozen=True)
class Plan:
    """How to call one handler."""

    handler: Handler
    path: tuple[str, ...]
    query: tuple[tuple[str, Any], ...]  # name, default
    body: bool
    pairs: bool = False  # the handler reads the query's (key, value) pairs (deepObject filters)


def plan(spec: Spec, operation_id: str, handler: Handler) -> Plan:
    """Which of the operation's parameters the handler takes, by name, with their schema defaults."""
    wanted = set(inspect.signature(handler).parameters) - {"ctx"}
    params = operations(spec)[operation_id].parameters
    path = tuple(p["name"] for p in params if p["in"] == "path" and p["name"] in wanted)
    query = tuple(
        (p["name"], p.get("schema", {}).get("default"))
        for p in params
        if p["in"] == "query" and p["name"] in wanted
    )
    return Plan(handler, path, query, "body" in wanted, "query_pairs" in wanted)


class Dispatch:
    def __init__(self, app: ASGIApp, *, resolver: HandlerResolver, spec: Spec) -> None:
        self.app, self.resolver, self.spec = app, resolver, spec
        # Connexion resolves when it builds its stack, after constructing this stage: plan on first use.
        self.plans: dict[str, Plan] = {}

    def plan_for(self, operation_id: str) -> Plan | None:
        found = self.plans.get(operation_id)
        if found is None:
            handler = self.resolver.resolved.get(operation_id)
            if handler is None:
                return None
            found = self.plans[operation_id] = plan(self.spec, operation_id, handler)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = request_state(scope) if scope["type"] == "http" else None
        operation_id = state.operation_id if state is not None else None
        found = self.plan_for(operation_id) if operation_id else None
        if state is None or found is None:
            await self.app(scope, receive, send)
            return
        if state.caller is None:
            raise Internal(errors.INTERNAL)
        kwargs: Json = {name: scope["path_params"][name] for name in found.path}
        for name, default in found.query:
            kwargs[name] = state.query.get(name, default)
        if found.body:
            kwargs["body"] = state.body
        if found.pairs:
            kwargs["query_pairs"] = state.query_pairs
        caller = state.caller
        sandbox = caller.sandbox
        ctx = Ctx(sandbox.store, caller.key, caller.scopes, sandbox.webhooks, self.spec)
        reply = found.handler(ctx, **kwargs)
        if inspect.isawaitable(reply):  # a handler that yields to the loop while it works (a list)
            reply = await reply
        await _respond(send, reply)


async def _respond(send: Send, reply: Reply) -> None:
    body, status = reply[0], reply[1]
    extra: dict[str, str] = reply[2] if len(reply) > 2 else {}
    if body is None or isinstance(body, bytes):
        data = body or b""
    else:
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    headers = [(k.lower().encode(), v.encode()) for k, v in extra.items()]
    await send_body(send, status, data, None if body is None else b"application/json", headers)
