"""intake.py on its own: the request state, the X-Request-Id header, the body read once up to the limit."""

from __future__ import annotations

from typing import Any

from incident_mock.http.intake import Intake
from incident_mock.wire.request_state import RequestState, request_state


class Inner:
    """Records what the next stage sees and answers 204."""

    def __init__(self) -> None:
        self.state: RequestState | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.state, self.headers = request_state(scope), scope["headers"]
        self.body = (await receive())["body"]
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


async def call(body: bytes | None, limit: int = 10, chunk: int = 4) -> tuple[Inner, list[Any]]:
    inner, sent = Inner(), []
    headers = [(b"content-type", b"Application/JSON; charset=utf-8")]
    if body is not None:
        headers.append((b"content-length", str(len(body)).encode()))
    parts = [body[i : i + chunk] for i in range(0, len(body), chunk)] if body else [b""]
    messages = [
        {"type": "http.request", "body": p, "more_body": i < len(parts) - 1} for i, p in enumerate(parts)
    ]

    async def receive() -> Any:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    await Intake(inner, max_body=limit)({"type": "http", "headers": headers}, receive, send)
    return inner, sent


async def test_each_request_gets_a_state_and_its_id_on_the_answer() -> None:
    inner, sent = await call(None)
    assert inner.state is not None and len(inner.state.request_id) == 26
    assert (b"x-request-id", inner.state.request_id.encode()) in sent[0]["headers"]
    assert (b"content-type", b"application/json; charset=utf-8") in inner.headers


async def test_a_body_within_the_limit_is_replayed_whole() -> None:
    inner, _ = await call(b'{"a": 12}', limit=10)
    assert inner.body == b'{"a": 12}' and inner.state is not None and not inner.state.too_large
    assert (b"content-length", b"9") in inner.headers


async def test_a_body_over_the_limit_is_dropped_and_marked() -> None:
    inner, _ = await call(b'{"a": 123456}', limit=10)
    assert inner.body == b"" and inner.state is not None and inner.state.too_large
    assert (b"content-length", b"0") in inner.headers
