"""The server under test: an httpx client that records every exchange and guards the create budget.

Every request goes through `Target.request`, so any failure can show the exact request as a curl
command. The Authorization value is always redacted; body values (idempotency keys included) are
shown as sent, because a reproduction that hides them reproduces nothing.
"""

from __future__ import annotations

import json
import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["REDACTED", "Budget", "BudgetExhausted", "Exchange", "Target", "curl_command"]

REDACTED = "[REDACTED]"
_UNSET: Any = object()


class BudgetExhausted(Exception):
    """Raised before a create that would exceed --max-creates."""


@dataclass
class Budget:
    """How many incidents the run may create, and which ones it did create."""

    limit: int
    created: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reserve(self, count: int = 1) -> None:
        with self.lock:
            if len(self.created) + count > self.limit:
                raise BudgetExhausted(
                    f"--max-creates {self.limit} reached ({len(self.created)} created); "
                    f"this check needs {count} more"
                )

    def record(self, incident_id: str) -> None:
        with self.lock:
            if incident_id not in self.created:
                self.created.append(incident_id)

    @property
    def remaining(self) -> int:
        return self.limit - len(self.created)


def curl_command(method: str, url: str, headers: dict[str, str], body: bytes | None) -> str:
    """A curl line for a request, with the Authorization value redacted."""
    parts = ["curl", "-sS", "-X", method, url]
    for name, value in headers.items():
        if name.lower() == "authorization":
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} {REDACTED}".strip() if value else value
        parts += ["-H", f"{name}: {value}"]
    if body is not None:
        text = body.decode("utf-8", errors="replace")
        parts += ["--data-binary", text if len(text) <= 2000 else f"<{len(body)} bytes>"]
    return " ".join(shlex.quote(p) for p in parts)


@dataclass
class Exchange:
    """One request and its answer, as the target saw and sent them."""

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int
    headers: httpx.Headers
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def curl(self) -> str:
        return curl_command(self.method, self.url, self.request_headers, self.request_body)

    def describe(self) -> str:
        """A short account of the answer: status, error type and codes, or the start of the body."""
        data = self.json()
        if isinstance(data, dict) and "errors" in data and isinstance(data["errors"], list):
            entries = []
            for e in data["errors"][:4]:
                if isinstance(e, dict):
                    src = e.get("source")
                    named = src.get("field", "") if isinstance(src, dict) else ""
                    entries.append(f"{e.get('code')}({named})" if named else str(e.get("code")))
            return f"{self.status} {data.get('type')} {', '.join(entries)}"
        text = self.body[:200].decode("utf-8", errors="replace")
        return f"{self.status} {self.headers.get('content-type', '')} {text}".strip()


class Target:
    """A base URL and a key. Share one `log` and `budget` between the targets of a run."""

    def __init__(self, base_url: str, key: str, *, budget: Budget, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.budget = budget
        self.client = httpx.Client(base_url=self.base_url, timeout=timeout, follow_redirects=False)
        self.count = 0
        # Called with (method, path) before every request; raises to refuse it (see conformance.settings).
        self.guard: Callable[[str, str], None] | None = None

    def with_key(self, key: str) -> Target:
        other = Target(self.base_url, key, budget=self.budget)
        other.client = self.client
        other.guard = self.guard
        return other

    def close(self) -> None:
        self.client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json_body: Any = _UNSET,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        authorization: str | None = _UNSET,
    ) -> Exchange:
        """Send one request. `authorization=None` sends no Authorization header at all."""
        if self.guard is not None:
            self.guard(method, path)
        sent: dict[str, str] = {}
        if authorization is _UNSET:
            sent["Authorization"] = f"Bearer {self.key}"
        elif authorization is not None:
            sent["Authorization"] = authorization
        body = content
        if json_body is not _UNSET:
            body = json.dumps(json_body, ensure_ascii=False).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        request = self.client.build_request(method, path, params=params, content=body, headers=sent)
        response = self.client.send(request)
        self.count += 1
        return Exchange(
            method, str(request.url), sent, body, response.status_code, response.headers, response.content
        )

    def create_incident(self, payload: dict[str, Any], path: str) -> Exchange:
        """POST a create to `path` (the contract's), within the budget; remembers the incident it made."""
        self.budget.reserve(1)
        exchange = self.request("POST", path, json_body=payload)
        self.note_created(exchange)
        return exchange

    def note_created(self, exchange: Exchange) -> None:
        data = exchange.json()
        if 200 <= exchange.status < 300 and exchange.headers.get("idempotent-replayed") != "true":
            incident = data.get("incident") if isinstance(data, dict) else None
            if isinstance(incident, dict) and isinstance(incident.get("id"), str):
                self.budget.record(incident["id"])
