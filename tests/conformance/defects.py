"""A catalogue of defects: each a small named variant of the real mock that breaks one contract rule.

None of them edits the mock. Most wrap `create_app()` in an ASGI middleware (`Rewrite`) that changes a
request on its way in or an answer on its way out; the rest replace a method on the app's store.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from incident_mock.app import create_app

Json = dict[str, Any]
CREATE = ("POST", "/v2/incidents")
FIRST_SEVERITY = "01JGZ0SEV0000000000000M1N0"


@dataclass(frozen=True)
class Defect:
    name: str
    breaks: str  # the rule that must fail
    rules: str  # the --rules pattern the test runs (the family, cheap)
    build: Callable[[], Any]


class Rewrite:
    """ASGI wrapper: `on_request` may replace the query string, headers or body; `on_response` the answer."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.holder = app.holder

    def on_request(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Any:
        """None to pass the request on, (query, headers, body) to change it, (status, body) to answer."""
        return None

    def on_response(self, method: str, path: str, status: int, body: bytes) -> tuple[int, bytes]:
        return status, body

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        method, path = scope["method"], scope["path"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        changed = self.on_request(method, path, scope["query_string"].decode("latin-1"), headers, body)
        if changed is not None and len(changed) == 2:
            status, answer = changed
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"application/json")]})  # fmt: skip
            await send({"type": "http.response.body", "body": answer})
            return
        if changed is not None:
            query, headers, body = changed
            headers["content-length"] = str(len(body))
            scope = {**scope, "query_string": query.encode("latin-1"),
                     "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]}  # fmt: skip
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        start: Json = {}
        parts: list[bytes] = []

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
                if not message.get("more_body"):
                    status, out = self.on_response(method, path, start["status"], b"".join(parts))
                    hdrs = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                    hdrs.append((b"content-length", str(len(out)).encode()))
                    await send({"type": "http.response.start", "status": status, "headers": hdrs})
                    await send({"type": "http.response.body", "body": out})

        await self.app(scope, replay, capture)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def body_rewrite(match: tuple[str, str], change: Callable[[Json], None]) -> type[Rewrite]:
    """A Rewrite that edits the JSON body of one kind of request."""

    class BodyRewrite(Rewrite):
        def on_request(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Any:
            data = _json(body)
            if (method, path) == match and isinstance(data, dict):
                change(data)
                return query, headers, json.dumps(data).encode()
            return None

    return BodyRewrite


# --- the defects ---------------------------------------------------------------------------------------


def ignores_idempotency() -> Any:
    """Every create makes a new incident: the store never remembers a key."""
    app = create_app()

    class Forgetful(dict[str, Any]):
        def __setitem__(self, key: str, value: Any) -> None:
            pass

    app.holder.store.idempotency = Forgetful()
    return app


class _Racy(Rewrite):
    """Duplicates only under concurrency: a create whose key is already in flight gets another key."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.in_flight: set[str] = set()

    def on_request(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Any:
        data = _json(body)
        if (method, path) != CREATE or not isinstance(data, dict) or "idempotency_key" not in data:
            return None
        key = data["idempotency_key"]
        if key in self.in_flight:
            data["idempotency_key"] = f"{key}-raced-{len(self.in_flight)}-{id(data)}"
            return query, headers, json.dumps(data).encode()
        self.in_flight.add(key)
        asyncio.get_running_loop().call_later(0.3, self.in_flight.discard, key)
        return None


def duplicates_under_concurrency() -> Any:
    return _Racy(create_app())


def accepts_unknown_visibility() -> Any:
    def change(data: Json) -> None:
        if data.get("visibility") not in ("public", "private"):
            data["visibility"] = "public"

    return body_rewrite(CREATE, change)(create_app())


def fills_in_missing_severity() -> Any:
    return body_rewrite(CREATE, lambda d: d.setdefault("severity_id", FIRST_SEVERITY))(create_app())


def leaks_private_incidents() -> Any:
    """Every key sees private incidents, in lists and on show."""
    app = create_app()
    store = app.holder.store
    list_incidents, find_incident = store.list_incidents, store.find_incident
    store.list_incidents = lambda query, private_ok: list_incidents(query, True)
    store.find_incident = lambda ref, private_ok: find_incident(ref, True)
    return app


class _SkipsAuth(Rewrite):
    def on_request(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Any:
        if not headers.get("authorization", "").startswith("Bearer mock-key-"):
            return query, {**headers, "authorization": "Bearer mock-key-full"}, body
        return None


def skips_auth() -> Any:
    return _SkipsAuth(create_app())


class _ViewerCreates(Rewrite):
    def on_request(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Any:
        if (method, path) == CREATE and headers.get("authorization") == "Bearer mock-key-viewer":
            return query, {**headers, "authorization": "Bearer mock-key-full"}, body
        return None


def viewer_can_create() -> Any:
    return _ViewerCreates(create_app())


class _DropsReference(Rewrite):
    def on_response(self, method: str, path: str, status: int, body: bytes) -> tuple[int, bytes]:
        data = _json(body)
        if status == 200 and isinstance(data, dict) and isinstance(data.get("incident"), dict):
            data["incident"].pop("reference", None)
            return status, json.dumps(data).encode()
        return status, body


def drops_required_response_field() -> Any:
    return _DropsReference(create_app())


class _Created201(Rewrite):
    def on_response(self, method: str, path: str, status: int, body: bytes) -> tuple[int, bytes]:
        return (201 if (method, path) == CREATE and status == 200 else status), body


def answers_201_on_create() -> Any:
    return _Created201(create_app())


class _IgnoresAfter(Rewrite):
    def on_request(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Any:
        if path == "/v2/incidents" and "after=" in query:
            kept = "&".join(p for p in query.split("&") if not p.startswith("after="))
            return kept, headers, body
        return None


def ignores_after() -> Any:
    return _IgnoresAfter(create_app())


class _PlainErrors(Rewrite):
    def on_response(self, method: str, path: str, status: int, body: bytes) -> tuple[int, bytes]:
        if status == 404:
            return status, json.dumps({"error": "not found", "status": 404}).encode()
        return status, body


def non_contract_error_shape() -> Any:
    return _PlainErrors(create_app())


class _AsciiOnly(Rewrite):
    def on_request(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Any:
        if method == "POST" and path.startswith("/v2/incidents") and not body.isascii():
            return 500, b'{"type": "api_error", "status": 500, "request_id": "x", "errors": []}'
        return None


def fails_on_non_ascii_names() -> Any:
    """A create or edit with any non-ASCII text answers 500."""
    return _AsciiOnly(create_app())


class _Forbids404(Rewrite):
    def on_response(self, method: str, path: str, status: int, body: bytes) -> tuple[int, bytes]:
        if status == 404 and path.startswith("/v2/incidents/"):
            return 403, json.dumps({"type": "resource_forbidden", "status": 403, "request_id": "x",
                                    "errors": [{"code": "private", "message": "private"}]}).encode()  # fmt: skip
        return status, body


def private_incident_is_403() -> Any:
    """Leaks existence: a hidden private incident is 403 instead of 404."""
    return _Forbids404(create_app())


class _ClampsPageSize(Rewrite):
    def on_request(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Any:
        parts = query.split("&")
        fixed = ["page_size=25" if p.startswith("page_size=") and not _in_range(p) else p for p in parts]
        return ("&".join(fixed), headers, body) if fixed != parts else None


def _in_range(part: str) -> bool:
    value = part.partition("=")[2]
    return value.isdigit() and 1 <= int(value) <= 250


def accepts_any_page_size() -> Any:
    return _ClampsPageSize(create_app())


class _ListsTestMode(Rewrite):
    def on_request(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Any:
        if method == "GET" and path == "/v2/incidents" and "mode%5B" not in query and "mode[" not in query:
            modes = "&".join(f"mode%5Bone_of%5D={m}" for m in ("standard", "retrospective", "test"))
            return f"{query}&{modes}" if query else modes, headers, body
        return None


def lists_test_incidents_by_default() -> Any:
    return _ListsTestMode(create_app())


def rejected_create_consumes_key() -> Any:
    """A create that fails validation still burns its idempotency key."""
    app = create_app()
    store = app.holder.store
    create = store.create_incident

    def burning(payload: Json, key: Any, incident_id: str | None = None) -> Any:
        try:
            return create(payload, key, incident_id)
        except Exception:
            store.idempotency[payload["idempotency_key"]] = ("rejected", "none")
            raise

    store.create_incident = burning
    return app


def ignores_key_reuse() -> Any:
    """A different payload under a used key is answered as a replay instead of 422."""
    app = create_app()
    store = app.holder.store
    create = store.create_incident

    def lenient(payload: Json, key: Any, incident_id: str | None = None) -> Any:
        seen = store.idempotency.get(payload["idempotency_key"])
        if seen is not None:
            return create({**json.loads(seen[0])}, key, incident_id)
        return create(payload, key, incident_id)

    store.create_incident = lenient
    return app


class _RejectsEveryKey(Rewrite):
    """Every operation but identity answers 401, as when a run's credentials silently do not work."""

    def on_request(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Any:
        if path != "/v1/identity":
            error = {"type": "authentication_error", "status": 401, "request_id": "x",
                     "errors": [{"code": "invalid_authorization", "message": "The API key is not valid"}]}  # fmt: skip
            return 401, json.dumps(error).encode()
        return None


def auth_silently_fails() -> Any:
    return _RejectsEveryKey(create_app())


CATALOGUE = [
    Defect("ignores_idempotency", "IDEMP-1", "IDEMP-*", ignores_idempotency),
    Defect("duplicates_under_concurrency", "IDEMP-3", "IDEMP-*", duplicates_under_concurrency),
    Defect("ignores_key_reuse", "IDEMP-2", "IDEMP-*", ignores_key_reuse),
    Defect("rejected_create_consumes_key", "IDEMP-4", "IDEMP-*", rejected_create_consumes_key),
    Defect("accepts_unknown_visibility", "ENUM-1", "ENUM-*", accepts_unknown_visibility),
    Defect("fills_in_missing_severity", "REQUIRED-1", "REQUIRED-*", fills_in_missing_severity),
    Defect("leaks_private_incidents", "VIS-1", "VIS-*", leaks_private_incidents),
    Defect("private_incident_is_403", "VIS-2", "VIS-*", private_incident_is_403),
    Defect("skips_auth", "AUTH-1", "AUTH-*", skips_auth),
    Defect("viewer_can_create", "AUTH-3", "AUTH-*", viewer_can_create),
    Defect("ignores_after", "PAGE-1", "PAGE-*", ignores_after),
    Defect("accepts_any_page_size", "PAGE-2", "PAGE-*", accepts_any_page_size),
    Defect("lists_test_incidents_by_default", "PAGE-4", "PAGE-*", lists_test_incidents_by_default),
    Defect("non_contract_error_shape", "ERR-1", "ERR-*", non_contract_error_shape),
    Defect("fails_on_non_ascii_names", "ERR-4", "ERR-*", fails_on_non_ascii_names),
    Defect("drops_required_response_field", "SCHEMA-1", "SCHEMA-*", drops_required_response_field),
    Defect("answers_201_on_create", "SCHEMA-1", "SCHEMA-*", answers_201_on_create),
    Defect("auth_silently_fails", "SCHEMA-3", "SCHEMA-3", auth_silently_fails),
]
