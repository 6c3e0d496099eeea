"""Writing a whole response outside Connexion: the stages before routing, the control plane and `Dispatch`."""

from __future__ import annotations

import json
from collections.abc import Mapping

from starlette.types import Scope, Send

from incident_mock.domain.errors import ApiError, error_body
from incident_mock.wire.request_state import request_state

__all__ = ["CLOSE", "NO_STORE", "SAFETY", "send_body", "send_error"]

# Headers every answer carries (Intake adds them; the transport writes them into its own answers).
SAFETY = [(b"x-content-type-options", b"nosniff")]
NO_STORE = (b"cache-control", b"no-store")
CLOSE = (b"connection", b"close")


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


async def send_error(send: Send, scope: Scope, err: ApiError, types: Mapping[int, str]) -> None:
    """An error answered before Connexion's error handling (which only wraps the stages after routing)."""
    body = error_body(err, request_state(scope).request_id, types)
    extra = [(name.lower().encode(), value.encode()) for name, value in err.headers.items()]
    await send_body(send, err.status, json.dumps(body).encode(), b"application/json", extra)
