"""Stage 6, journaling: record every request a sandbox's key made to the contract's API in its journal.

It sits after the control plane (which never records its own requests) and outside Connexion, so it sees
every answer as sent, errors included (Connexion's error handling is inside it). A request whose caller
authentication named is recorded in the journal of the caller's sandbox; one that no sandbox can claim (no
key, an unknown key, a path outside the contract) in the `unattributed` journal. What is recorded is in
journal.py: no request header, so never a token.
The response body is kept as it passes, up to the journal's body limit; the time comes from the sandbox's
clock. A request whose connection a fault cut (no answer at all) is recorded with status 0 and its `fault`.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from incident_mock.kit.sandboxes import Sandboxes
from incident_mock.wire.request_state import request_state

__all__ = ["Recording"]

REPLAYED = b"idempotent-replayed"
RETRY_AFTER = b"retry-after"


class Recording:
    def __init__(self, app: ASGIApp, *, sandboxes: Sandboxes) -> None:
        self.app, self.sandboxes = app, sandboxes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answer = 0
        replayed = False
        retry: str | None = None
        chunks: list[bytes] = []

        async def recording_send(message: Message) -> None:
            nonlocal answer, replayed, retry
            if message["type"] == "http.response.start":
                answer = message["status"]
                for name, value in message.get("headers", ()):  # lower case: Starlette's and send_body's
                    if name == REPLAYED:
                        replayed = True
                    elif name == RETRY_AFTER:
                        retry = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            state = request_state(scope)
            caller = state.caller
            gone = caller is not None and caller.sandbox.deleted  # its journal was given back: keep out
            if (answer or state.fault is not None) and not gone:
                if caller is not None:
                    sandbox = caller.sandbox
                    journal, key_id = sandbox.journal, caller.key.id
                else:  # unattributed; its entries' time is the default sandbox's clock
                    sandbox, journal, key_id = self.sandboxes.default, self.sandboxes.unattributed, ""
                journal.record(
                    time=sandbox.store.clock.now(),
                    operation_id=state.operation_id or "",
                    method=scope["method"],
                    path=scope["path"],
                    query=scope.get("query_string", b"").decode("latin-1"),
                    status=answer,
                    key_id=key_id,
                    request_id=state.request_id,
                    replayed=replayed,
                    retry_after=retry,
                    duration_ms=(time.perf_counter() - started) * 1000,
                    request_body=state.raw,
                    response_body=chunks[0] if len(chunks) == 1 else b"".join(chunks),
                    fault=state.fault,
                )
