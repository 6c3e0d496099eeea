"""Writing a whole response outside Connexion: the control plane, the docs and `Dispatch` answer this way."""

from __future__ import annotations

from starlette.types import Send

__all__ = ["send_body"]


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
