"""On-the-wire changes to a server under test: an ASGI wrapper that sees each request and answer as data.

A defect built on `Wire` changes only what travels between the client and the real mock (a request on
its way in, an answer on its way out, or an extra request of its own), never the mock's internals, so
the mock can be refactored without breaking the defects that prove the conformance rules can fail.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

__all__ = ["Answer", "Request", "Switch", "Wire", "error_answer"]

Json = dict[str, Any]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    raw_query: str  # as sent (fuzzed queries need not survive parsing and encoding again)
    headers: tuple[tuple[str, str], ...]  # names in lower case, in the order sent
    body: bytes
    scope: Json = field(repr=False, compare=False)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name.lower()), None)

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(self.raw_query, keep_blank_values=True)

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.query if k == name), None)

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def with_header(self, name: str, value: str) -> Request:
        kept = tuple((k, v) for k, v in self.headers if k != name.lower())
        return replace(self, headers=(*kept, (name.lower(), value)))

    def with_json(self, data: Any) -> Request:
        return replace(self, body=json.dumps(data).encode())

    def with_query(self, pairs: list[tuple[str, str]]) -> Request:
        return replace(self, raw_query=urlencode(pairs))


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...]  # names in lower case
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name.lower()), None)

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def with_header(self, name: str, value: str | None) -> Answer:
        """The answer with header `name` set to `value` (or removed, for None)."""
        kept = tuple((k, v) for k, v in self.headers if k != name.lower())
        return replace(self, headers=kept if value is None else (*kept, (name.lower(), value)))

    def with_json(self, data: Any, status: int | None = None) -> Answer:
        return replace(self, status=status or self.status, body=json.dumps(data).encode())


def error_answer(status: int, kind: str, code: str, message: str, request_id: str = "defect") -> Answer:
    """An answer in the contract's ErrorResponse shape, as a server that has the defect would send it."""
    body = {
        "type": kind,
        "status": status,
        "request_id": request_id,
        "errors": [{"code": code, "message": message}],
    }
    headers = (("content-type", "application/json"), ("x-request-id", request_id))
    return Answer(status, headers, json.dumps(body).encode())


class Wire:
    """An ASGI app in front of another. Override `request` and `answer`, or `handle` for more."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, request: Request) -> Request | Answer:
        """The request to pass on, or the answer to send without asking the server."""
        return request

    def answer(self, request: Request, answer: Answer) -> Answer:
        """The answer to send back for the request the server saw."""
        return answer

    async def handle(self, request: Request) -> Answer:
        changed = self.request(request)
        if isinstance(changed, Answer):
            return changed
        return self.answer(changed, await self.send(changed))

    async def send(self, request: Request) -> Answer:
        """Ask the wrapped server: usable by `handle` for requests of the defect's own."""
        scope = {
            **request.scope,
            "method": request.method,
            "path": request.path,
            "raw_path": request.scope["raw_path"]
            if request.path == request.scope["path"]
            else request.path.encode(),
            "query_string": request.raw_query.encode("latin-1"),
            "headers": [
                (k.encode("latin-1"), v.encode("latin-1"))
                for k, v in request.headers
                if k != "content-length"
            ]
            + [(b"content-length", str(len(request.body)).encode())],
        }
        sent = False

        async def receive() -> Json:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": request.body, "more_body": False}

        start: Json = {}
        chunks: list[bytes] = []

        async def capture(message: Json) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        headers = tuple(
            (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in start.get("headers", [])
        )
        return Answer(int(start["status"]), headers, b"".join(chunks))

    async def __call__(self, scope: Json, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        request = Request(
            scope["method"],
            scope["path"],
            scope["query_string"].decode("latin-1"),
            tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]),
            b"".join(chunks),
            scope,
        )
        answer = await self.handle(request)
        headers = [
            (k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers if k != "content-length"
        ]
        headers.append((b"content-length", str(len(answer.body)).encode()))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})


class Switch:
    """One server for many apps: serves whichever app `current` is (lifespan events go to `base`)."""

    def __init__(self, base: Any) -> None:
        self.base = base
        self.current: Any = base

    async def __call__(self, scope: Json, receive: Any, send: Any) -> None:
        app = self.base if scope["type"] == "lifespan" else self.current
        await app(scope, receive, send)
