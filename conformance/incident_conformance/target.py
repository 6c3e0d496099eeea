"""The server under test: an httpx client that records every exchange and guards the create budget.

Every request goes through `Target.request`, so any failure can show the exact request as a curl
command. The API key in the Authorization header is always redacted, and so is the value of any extra
header (`--header`) whose name looks secret; a credential the suite made up itself to be refused (an
unknown token, another scheme) is shown, since a reproduction that hides it reproduces nothing. Body
values (idempotency keys included) are shown as sent, for the same reason.

Every request is paced (see pacing.py): a 429 with Retry-After is waited out and sent again.
"""

from __future__ import annotations

import copy
import json
import shlex
import ssl
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from incident_conformance.pacing import Pacer

__all__ = [
    "REDACTED",
    "Budget",
    "BudgetExhausted",
    "Exchange",
    "Target",
    "curl_command",
    "looks_secret",
    "names_missing_scope",
    "redact_headers",
    "tls_verify",
]

REDACTED = "[REDACTED]"
MISSING_SCOPE = "missing_scope"  # the error code of a 403 for a key whose roles lack the operation's scope
# A header whose name holds one of these carries a credential: its value is never printed.
SECRET_MARKERS = (
    "auth",
    "token",
    "secret",
    "key",
    "cookie",
    "session",
    "password",
    "signature",
    "credential",
)
_UNSET: Any = object()


def looks_secret(name: str) -> bool:
    return any(marker in name.lower() for marker in SECRET_MARKERS)


def redact_headers(headers: Mapping[str, str], shown: Collection[str] = ()) -> dict[str, str]:
    """The headers with every secret-looking value redacted, but for the values in `shown`.

    Authorization keeps its scheme (`Bearer [REDACTED]`). `shown` holds credentials the suite made up to
    be refused: showing them is what makes a reproduction of an auth failure reproduce anything.
    """
    out = {}
    for name, value in headers.items():
        if looks_secret(name) and value not in shown:
            scheme, _, rest = value.partition(" ")
            keep = name.lower() in ("authorization", "proxy-authorization") and rest
            value = f"{scheme} {REDACTED}" if keep else REDACTED
        out[name] = value
    return out


def tls_verify(ca_bundle: str | None) -> ssl.SSLContext | bool:
    """What httpx verifies the target's certificate with: the CA bundle's certificates, or the system's."""
    return ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True


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


def names_missing_scope(body: bytes) -> bool:
    """Whether an error body names the code missing_scope (the key lacks the operation's scope)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return False
    entries = data.get("errors") if isinstance(data, dict) else None
    return any(isinstance(e, dict) and e.get("code") == MISSING_SCOPE for e in entries or [])


def curl_command(
    method: str, url: str, headers: Mapping[str, str], body: bytes | None, shown: Collection[str] = ()
) -> str:
    """A curl line for a request, with secret header values redacted (see `redact_headers`)."""
    parts = ["curl", "-sS", "-X", method, url]
    for name, value in redact_headers(headers, shown).items():
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
    shown: frozenset[str] = frozenset()  # header values the suite made up, safe to print

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than Python parses
            return None

    @property
    def curl(self) -> str:
        return curl_command(self.method, self.url, self.request_headers, self.request_body, self.shown)

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
    """A base URL and a key. The targets of a run (`with_key`) share one client, budget and pacer.

    `headers` are sent on every request (--header); `verify` is the TLS verification (see `tls_verify`).
    """

    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        budget: Budget,
        timeout: float = 30.0,
        headers: Mapping[str, str] | None = None,
        verify: ssl.SSLContext | bool = True,
        pacer: Pacer | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.budget = budget
        self.headers = dict(headers or {})
        self.pacer = pacer or Pacer()
        self.client = httpx.Client(
            base_url=self.base_url, timeout=timeout, follow_redirects=False, verify=verify
        )
        self.count = 0
        self.refused_for_scope = 0  # answers 403 with code missing_scope to this key's own Authorization
        # Called with (method, path) before every request; raises to refuse it (see conformance.settings).
        self.guard: Callable[[str, str], None] | None = None

    def with_key(self, key: str) -> Target:
        """The same target with another key: one client, budget, pacer, headers and guard; its own count."""
        other = copy.copy(self)
        other.key, other.count, other.refused_for_scope = key, 0, 0
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
        """Send one request. `authorization=None` sends no Authorization header at all.

        An `authorization` given here is one the suite made up to be refused: reproductions show it.
        """
        if self.guard is not None:
            self.guard(method, path)
        sent: dict[str, str] = dict(self.headers)
        shown: frozenset[str] = frozenset()
        if authorization is _UNSET:
            sent["Authorization"] = f"Bearer {self.key}"
        elif authorization is not None:
            sent["Authorization"] = authorization
            shown = frozenset({authorization}) if self.key not in authorization else frozenset()
        body = content
        if json_body is not _UNSET:
            body = json.dumps(json_body, ensure_ascii=False).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        request = self.client.build_request(method, path, params=params, content=body, headers=sent)

        def send() -> httpx.Response:
            self.count += 1
            return self.client.send(request)

        response = self.pacer.send(send, lambda r: r.status_code, lambda r: r.headers.get("retry-after"))
        if response.status_code == 403 and authorization is _UNSET and names_missing_scope(response.content):
            self.refused_for_scope += 1
        return Exchange(
            method,
            str(request.url),
            sent,
            body,
            response.status_code,
            response.headers,
            response.content,
            shown,
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
