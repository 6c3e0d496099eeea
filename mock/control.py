"""The control plane under /_mock/: outside the contract, never in openapi.yaml."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from mock.app import StoreHolder

__all__ = ["Control"]

PREFIX = "/_mock/"


class Control:
    def __init__(self, app: ASGIApp, holder: StoreHolder) -> None:
        self.app, self.holder = app, holder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        route = (scope["method"], path[len(PREFIX) :])
        if route == ("GET", "health"):
            await self._send(send, 200, {"status": "ok", "incidents": len(self.holder.store.incidents)})
        elif route == ("POST", "reset"):
            self.holder.reset()
            await self._send(send, 200, {"status": "reset"})
        else:
            await self.app(scope, receive, send)  # the router answers 404/405 in the contract's shape

    @staticmethod
    async def _send(send: Send, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})
