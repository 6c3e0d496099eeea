"""The last step of the request: call the handler for the operation Connexion routed to.

Connexion still does the contract's work here: it routes by openapi.yaml, runs security, validates the
request and, when asked, the response; this middleware sits after all of that (just before Connexion's
context middleware) and answers. It replaces only Connexion's terminal app, which matches the route a
second time, re-decorates the handler and re-parses its arguments on every request: more than half of
the mock's time per request (see bench/results.md).

Arguments come from the spec: path parameters from the route, plain query parameters coerced by their
schema type with their defaults, and the already validated JSON body.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from .contract import Spec, resolved_parameters
from .handlers import HANDLERS
from .handlers.context import Ctx, Reply
from .middleware import STATE
from .store import Store

__all__ = ["Dispatch"]

Json = dict[str, Any]


@dataclass(frozen=True)
class Plan:
    """How to call one handler."""

    handler: Callable[..., Reply]
    path: tuple[str, ...]
    query: tuple[tuple[str, str | None, Any], ...]  # name, schema type, default
    body: bool


def plans(spec: Spec) -> dict[str, Plan]:
    out = {}
    for operation_id, handler in HANDLERS.items():
        wanted = set(inspect.signature(handler).parameters) - {"ctx"}
        params = resolved_parameters(spec, operation_id)
        path = tuple(p["name"] for p in params if p["in"] == "path" and p["name"] in wanted)
        query = tuple(
            (p["name"], p.get("schema", {}).get("type"), p.get("schema", {}).get("default"))
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
        kwargs: Json = {name: scope["path_params"][name] for name in plan.path}
        if plan.query:
            raw = dict(parse_qsl(query_string, keep_blank_values=True))
            for name, kind, default in plan.query:
                value = raw.get(name, default)
                kwargs[name] = int(value) if kind == "integer" and value is not None else value
        if plan.body:
            kwargs["body"] = json.loads(await _read(receive))
        ctx = Ctx(self.store(), scope["extensions"][STATE]["caller"], self.spec, query_string)
        reply = plan.handler(ctx, **kwargs)
        await _respond(send, reply)


async def _read(receive: Receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _respond(send: Send, reply: Reply) -> None:
    body, status = reply[0], reply[1]
    extra: dict[str, str] = reply[2] if len(reply) > 2 else {}
    if body is None or isinstance(body, bytes):
        data = body or b""
    else:
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    headers = [(b"content-length", str(len(data)).encode())]
    if body is not None:
        headers.append((b"content-type", b"application/json"))
    headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
