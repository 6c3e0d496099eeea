"""Stage 1, intake: give the request its id and its state, and read its body once, up to the limit.

It sits outside everything, so every answer (the control plane's, every error's) carries the
X-Request-Id it chose. The body is read here, stopping as soon as it passes the contract's
`x-max-body-bytes`, so no later layer ever holds more; a body over the limit is replaced by an empty one
and marked `too_large`, and `Admission` answers 413 once authentication and scopes have had their say.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from ulid import ULID

from incident_mock.request_state import KEY, RequestState

__all__ = ["Intake"]


class Intake:
    def __init__(self, app: ASGIApp, *, max_body: int) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = RequestState(str(ULID()))
        scope.setdefault("extensions", {})[KEY] = state
        id_header = (b"x-request-id", state.request_id.encode())

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
            if body is None:
                state.too_large = True
                body = b""
            receive = _replay(body)
            headers.append((b"content-length", str(len(body)).encode()))
        scope["headers"] = headers
        await self.app(scope, receive, send_with_id)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the limit."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
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
