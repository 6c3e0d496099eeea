"""A synchronous httpx transport over an ASGI app, for tests that need no event loop of their own."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


class WSGILikeASGI(httpx.BaseTransport):
    """Runs each request through httpx.ASGITransport on a private event loop."""

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._loop = asyncio.new_event_loop()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            response = await self._inner.handle_async_request(request)
            body = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=body)

        return self._loop.run_until_complete(send())

    def close(self) -> None:
        self._loop.close()
