"""Stage 3, cors (only with `--cors-origin`): browser-based integrators may call the API from their origins.

Off by default: without it a browser page on another origin can send no request whose answer it may read.
With it, requests from a listed origin (or any, with `*`) get `Access-Control-Allow-Origin`, and their
preflights (`OPTIONS` with `Access-Control-Request-Method`) are answered 204 here, before authentication,
since a browser sends no credentials on a preflight. Only the API's paths get CORS headers: never the
control plane (`/_mock/`), the dashboard or the docs. A preflight from an origin that is not listed goes
on like any other `OPTIONS`: the router answers 405 in the contract's shape, without CORS headers, and the
browser refuses the call.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from incident_contract.document import HTTP_METHODS
from incident_mock.wire.responses import send_body

__all__ = ["Cors"]

ALLOWED_HEADERS = b"authorization, content-type"
EXPOSED = b"x-request-id, idempotent-replayed, retry-after"
MAX_AGE = b"600"
API = ("/v1/", "/v2/")  # the contract's paths: nothing else of the mock is for a browser on another origin


class Cors:
    def __init__(self, app: ASGIApp, *, origins: Iterable[str]) -> None:
        self.app = app
        self.origins = frozenset(o.rstrip("/") for o in origins)
        self.methods = ", ".join(m.upper() for m in HTTP_METHODS).encode()

    def allows(self, origin: str) -> bool:
        return "*" in self.origins or origin in self.origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None or not self.allows(origin):
            await self.app(scope, receive, send)
            return
        allow = [(b"access-control-allow-origin", origin.encode()), (b"vary", b"origin")]
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            await send_body(
                send,
                204,
                b"",
                None,
                [
                    *allow,
                    (b"access-control-allow-methods", self.methods),
                    (b"access-control-allow-headers", ALLOWED_HEADERS),
                    (b"access-control-max-age", MAX_AGE),
                ],
            )
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [*allow, (b"access-control-expose-headers", EXPOSED)]
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_cors)
