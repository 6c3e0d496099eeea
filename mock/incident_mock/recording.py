"""Stage 5, journal: record every request a sandbox's key made to the contract's API in its journal.

It sits after the control plane (which never records its own requests) and outside Connexion, so it sees
every answer as sent, errors included (Connexion's error handling is inside it). A request is recorded once
authentication has named its caller: the caller's sandbox gets the entry. Requests no sandbox can claim (no
key, an unknown key) are not recorded. What is recorded is in journal.py: never a header, so never a token.
The response body is kept as it passes, up to the journal's body limit; the time comes from the sandbox's
clock.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from incident_mock.request_state import request_state

__all__ = ["Recording"]

REPLAYED = b"idempotent-replayed"


class Recording:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answer: list[int] = [0]
        replayed = [False]
        chunks: list[bytes] = []

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer[0] = message["status"]
                replayed[0] = any(n.lower() == REPLAYED for n, _ in message.get("headers", ()))
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            state = request_state(scope)
            caller = state.caller
            if caller is not None and answer[0]:
                sandbox = caller.sandbox
                sandbox.journal.record(
                    time=sandbox.store.clock.now(),
                    operation_id=state.operation_id or "",
                    method=scope["method"],
                    path=scope["path"],
                    query=scope.get("query_string", b"").decode("latin-1"),
                    status=answer[0],
                    key_id=caller.key.id,
                    request_id=state.request_id,
                    replayed=replayed[0],
                    duration_ms=(time.perf_counter() - started) * 1000,
                    request_body=state.raw,
                    response_body=b"".join(chunks) if len(chunks) != 1 else chunks[0],
                )
