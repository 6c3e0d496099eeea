"""Stage 1, intake: give the request its state (and so its id), and read its body once, up to the limit.

It sits outside everything, so every answer (the control plane's, every error's) carries the
X-Request-Id it chose, `Cache-Control: no-store` (unless the answer set its own) and
`X-Content-Type-Options: nosniff`; a redirect's `Location` loses its scheme and host, which Starlette's
trailing-slash redirects take from the client's Host header. The body is read here, stopping as soon as
it passes the contract's `x-max-body-bytes`, so no later layer ever holds more; a body over the limit is
replaced by an empty one and its 413 kept in `too_large` (the one place the size is judged), which
`Admission` raises (the control plane at once) once authentication and
scopes have had their say; that answer closes the connection, since the rest of the body is never read.
A client that disconnects before its body is complete (or that the transport's deadline cut off) gets
nothing: the request never reaches a later stage, so half a body is never taken for a whole one.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from incident_mock.domain import errors
from incident_mock.domain.errors import PayloadTooLarge
from incident_mock.domain.ids import Ids
from incident_mock.wire.request_state import begin
from incident_mock.wire.responses import CLOSE, NO_STORE, SAFETY

__all__ = ["Intake", "replay"]


class _Gone(Exception):
    """The client disconnected before its body was complete."""


class Intake:
    def __init__(self, app: ASGIApp, *, max_body: int, ids: Ids | None = None) -> None:
        self.app, self.max_body, self.ids = app, max_body, ids

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = begin(scope, self.ids)
        added = list(SAFETY)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append(NO_STORE)
                if 300 <= message["status"] < 400:
                    headers = [(n, _relative(v) if n.lower() == b"location" else v) for n, v in headers]
                message["headers"] = [*headers, (b"x-request-id", state.request_id.encode()), *added]
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
            try:
                body = await self._read(receive)
            except _Gone:
                return
            if body is None:
                state.too_large = PayloadTooLarge(errors.TOO_LARGE.format(limit=self.max_body))
                added.append(CLOSE)
                body = b""
            state.raw = body
            receive = replay(body)
            headers.append((b"content-length", str(len(body)).encode()))
        scope["headers"] = headers
        await self.app(scope, receive, send_with_id)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None as soon as it passes the limit."""
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Gone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            more = message.get("more_body", False)
        return b"".join(chunks)


def _relative(location: bytes) -> bytes:
    """A redirect's target without scheme and host: Starlette builds them from the client's Host header."""
    scheme, sep, rest = location.partition(b"://")
    if not sep or b"/" in scheme:
        return location
    cut = min((i for i in (rest.find(b"/"), rest.find(b"?")) if i >= 0), default=len(rest))
    return b"/" + rest[cut:].lstrip(b"/")  # never `//host/...`, which a browser takes for another site


def replay(body: bytes) -> Receive:
    """A `receive` that gives `body` once, then a disconnect."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
