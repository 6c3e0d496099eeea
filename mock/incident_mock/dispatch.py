"""The last step of the request: call the handler for the operation Connexion routed to.

Connexion still does the contract's work here: it routes by openapi.yaml, runs security, validates the
request and, when asked, the response; this middleware sits after all of that (just before Connexion's
context middleware) and answers. It replaces only Connexion's terminal app, which matches the route a
second time, re-decorates the handler and re-parses its arguments on every request: more than half of
the mock's time per request (see bench/results.md).

Arguments come from the spec: path parameters from the route, and the plain query parameters and JSON
body exactly as the validators parsed and checked them (mock/validation.py keeps them in the request
state), with the schema's defaults for parameters left out.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from incident_contract.document import Spec, resolved_parameters
from starlette.types import ASGIApp, Receive, Scope, Send

from .handlers import HANDLERS
from .handlers.context import Ctx, Reply
from .middleware import send_body, state
from .store import Store

__all__ = ["Dispatch"]

Json = dict[str, Any]


@dataclass(frozen=True)
class Plan:
    """How to call one handler."""

    handler: Callable[..., Reply]
    path: tuple[str, ...]
    query: tuple[tuple[str, Any], ...]  # name, default
    body: bool


def plans(spec: Spec) -> dict[str, Plan]:
    out = {}
    for operation_id, handler in HANDLERS.items():
        wanted = set(inspect.signature(handler).parameters) - {"ctx"}
        params = resolved_parameters(spec, operation_id)
        path = tuple(p["name"] for p in params if p["in"] == "path" and p["name"] in wanted)
        query = tuple(
            (p["name"], p.get("schema", {}).get("default"))
            for p in params
            if p["in"] == "query" and p["name"] in wanted
        )
        out[operation_id] = Plan(handler, path, query, "body" in wanted)
    return out


class Dispatch:
    def __init__(self, app: ASGIApp, *, store: Callable[[], Store], spec: Spec) -> None:
        self.app, self.store, self.spec = app, store, spec
        self.plans = plans(spec)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation_id = scope.get("extensions", {}).get("connexion_routing", {}).get("operation_id")
        plan = self.plans.get(operation_id) if scope["type"] == "http" else None
        if plan is None:
            await self.app(scope, receive, send)
            return
        query_string = scope["query_string"].decode("latin-1")
        parsed = state(scope)
        kwargs: Json = {name: scope["path_params"][name] for name in plan.path}
        for name, default in plan.query:
            kwargs[name] = parsed.get("query", {}).get(name, default)
        if plan.body:
            kwargs["body"] = parsed["body"]
        ctx = Ctx(self.store(), parsed["caller"], self.spec, query_string)
        reply = plan.handler(ctx, **kwargs)
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
