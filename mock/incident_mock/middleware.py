"""ASGI middleware around Connexion's stack.

`Envelope` sits outside everything: it gives each request an id, sends it back as X-Request-Id on
every answer, and reads the body once, stopping at the limit, so no layer ever holds more than 1 MiB.
`Gate` sits after routing and before Connexion's security and validation: it authenticates, checks
scopes, refuses a body over the limit (413) and applies the rate limit, so a bad key gets 401 and a
key without the scope 403 whatever its body says.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from ulid import ULID

from incident_mock.auth import Policy
from incident_mock.errors import PayloadTooLarge, TooManyRequests
from incident_mock.store import Store

from . import errors

__all__ = ["MAX_BODY", "STATE", "Envelope", "Gate", "send_body", "state"]

MAX_BODY = 1024 * 1024
STATE = "incident_mock"  # our key in scope["extensions"]


def state(scope: Scope) -> dict[str, Any]:
    return scope.setdefault("extensions", {}).setdefault(STATE, {})  # type: ignore[no-any-return]


async def send_body(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes | None,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Send a whole response: the one place that writes status, length, type and body."""
    headers = [(b"content-length", str(len(body)).encode())]
    if content_type is not None:
        headers.append((b"content-type", content_type))
    headers += extra or []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Envelope:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = str(ULID())
        state(scope)["request_id"] = request_id
        id_header = (b"x-request-id", request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        # One pass over the raw headers: this runs on every request.
        has_body = False
        headers = []
        for name, value in scope["headers"]:
            if name == b"content-type":  # media types are case-insensitive; Connexion matches them verbatim
                kind, sep, params = value.partition(b";")
                value = kind.strip().lower() + sep + params
            elif name in (b"content-length", b"transfer-encoding"):
                has_body = True
                continue
            headers.append((name, value))
        if has_body:
            body = await self._read(receive)
            if body is None:  # over the limit: Gate answers 413, once auth and scope have had their say
                state(scope)["too_large"] = True
                body = b""
            receive = _replay(body)
            headers.append((b"content-length", str(len(body)).encode()))
        scope["headers"] = headers
        await self.app(scope, receive, send_with_id)

    @staticmethod
    async def _read(receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the limit."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


class Gate:
    def __init__(
        self, app: ASGIApp, *, policy: Policy, store: Callable[[], Store], rate_limit: int | None = None
    ) -> None:
        self.app, self.policy, self.store, self.rate_limit = app, policy, store, rate_limit
        self.buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, last refill)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation_id = scope.get("extensions", {}).get("connexion_routing", {}).get("operation_id")
        if scope["type"] != "http" or operation_id is None:
            await self.app(scope, receive, send)
            return
        caller = self.policy.authenticate(self.store(), Headers(scope=scope).get("authorization"))
        self.policy.authorize(caller, operation_id)
        if state(scope).get("too_large"):
            raise PayloadTooLarge(errors.TOO_LARGE.format(limit=MAX_BODY))
        if self.rate_limit:
            self._spend(caller.key.id)
        state(scope)["caller"] = caller
        await self.app(scope, receive, send)

    def _spend(self, key_id: str) -> None:
        """Token bucket: `rate_limit` requests a minute, refilled continuously."""
        assert self.rate_limit
        capacity, moment = float(self.rate_limit), time.monotonic()
        tokens, last = self.buckets.get(key_id, (capacity, moment))
        tokens = min(capacity, tokens + (moment - last) * capacity / 60)
        if tokens < 1:
            retry = math.ceil((1 - tokens) * 60 / capacity)
            err = TooManyRequests(
                errors.RATE.format(limit=self.rate_limit, retry=retry), headers={"Retry-After": str(retry)}
            )
            reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + retry))
            err.extra["rate_limit"] = {
                "name": "api_key",
                "limit": self.rate_limit,
                "remaining": 0,
                "retry_after": reset,
            }
            self.buckets[key_id] = (tokens, moment)
            raise err
        self.buckets[key_id] = (tokens - 1, moment)
