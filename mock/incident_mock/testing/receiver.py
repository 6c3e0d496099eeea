"""A webhook receiver for tests: it listens on a loopback port, verifies every delivery and keeps it.

    with WebhookReceiver() as receiver:                # http://127.0.0.1:<free port>/
        endpoint = sandbox.webhooks.register(receiver.url)
        receiver.secret = endpoint.secret
        ...create an incident...
        [delivery] = receiver.wait_for("public_incident.incident_created_v2")

Each request is verified with the `standardwebhooks` package (what integrators use); a verified one is
kept in `deliveries`, whatever the receiver answered; one that fails verification is kept in `rejected`
and answered 401. `fail_next(n, status)` answers the next n verified deliveries with `status`;
`hold()` keeps the next deliveries waiting for an answer until it is released (a slow receiver). It serves
from a thread (`http.server`), so it works beside a sync or an async test alike.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

__all__ = ["Delivery", "Hold", "WebhookReceiver"]

MAX_BODY = 4 * 1024 * 1024


@dataclass(frozen=True)
class Hold:
    release: threading.Event  # set it to let the held deliveries be answered
    arrived: threading.Event  # set once a delivery is waiting


@dataclass(frozen=True)
class Delivery:
    """One request the receiver got: its headers, body and what it answered."""

    webhook_id: str
    timestamp: str
    signature: str
    body: bytes = field(repr=False)
    headers: dict[str, str] = field(repr=False)
    status: int  # what the receiver answered
    received_at: float  # time.time()
    error: str | None = None  # why verification failed (rejected deliveries only)

    @property
    def payload(self) -> Any:
        return json.loads(self.body)

    @property
    def event_type(self) -> str:
        try:
            return str(self.payload.get("event_type", ""))
        except (ValueError, AttributeError):
            return ""


class WebhookReceiver:
    def __init__(self, secret: str | None = None, host: str = "127.0.0.1", path: str = "/") -> None:
        self.secret = secret
        self.endpoint: Any = None  # the endpoint it is registered as, when a fixture registered it
        self.deliveries: list[Delivery] = []
        self.rejected: list[Delivery] = []
        self._changed = threading.Condition()
        self._failures: list[int] = []
        self._hold: Hold | None = None
        self._server = _ReceiverHTTPServer((host, 0), _handler(self))
        self._thread: threading.Thread | None = None
        port = self._server.server_address[1]
        self.url = f"http://{host}:{port}{path}"

    # --- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> Self:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def close(self) -> None:
        if self._hold is not None:
            self._hold.release.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- behaviour ---------------------------------------------------------------------------------
    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next `count` verified deliveries with `status` (a non-2xx makes the mock retry)."""
        with self._changed:
            self._failures += [status] * count

    @contextmanager
    def hold(self) -> Iterator[Hold]:
        """While inside, verified deliveries wait for their answer until `release` is set (or the block
        ends); `arrived` is set once one is waiting."""
        held = self._hold = Hold(threading.Event(), threading.Event())
        try:
            yield held
        finally:
            held.release.set()
            self._hold = None

    # --- what arrived ------------------------------------------------------------------------------
    def wait_for(
        self,
        event_type: str | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
        webhook_id: str | None = None,
    ) -> list[Delivery]:
        """Wait until `count` verified deliveries match and return them (oldest first); AssertionError
        listing what arrived when `timeout` seconds pass first."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [d for d in self.deliveries if _matches(d, event_type, webhook_id)]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [f"  {d.webhook_id} {d.event_type} -> {d.status}" for d in self.deliveries[-50:]]
                    bad = [f"  rejected: {d.error}" for d in self.rejected[-10:]]
                    raise AssertionError(
                        f"expected {count} deliveries of {event_type or 'any event'}, found {len(found)}; "
                        f"received {len(self.deliveries)} verified, {len(self.rejected)} rejected:\n"
                        + "\n".join(seen + bad)
                    )
                self._changed.wait(left)

    def events(self) -> list[str]:
        with self._changed:
            return [d.event_type for d in self.deliveries]

    # --- the server's side -------------------------------------------------------------------------
    def _verify(self, body: bytes, headers: dict[str, str]) -> str | None:
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError

        if self.secret is None:
            return "the receiver has no secret"
        try:
            Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError as exc:
            return str(exc) or type(exc).__name__
        return None

    def _receive(self, body: bytes, headers: dict[str, str]) -> int:
        error = self._verify(body, headers)
        with self._changed:
            status = 401 if error else (self._failures.pop(0) if self._failures else 204)
        held = self._hold
        if held is not None and error is None:
            held.arrived.set()
            held.release.wait(60)
        delivery = Delivery(
            headers.get("webhook-id", ""),
            headers.get("webhook-timestamp", ""),
            headers.get("webhook-signature", ""),
            body,
            headers,
            status,
            time.time(),
            error,
        )
        with self._changed:
            (self.rejected if error else self.deliveries).append(delivery)
            self._changed.notify_all()
        return status


def _matches(delivery: Delivery, event_type: str | None, webhook_id: str | None) -> bool:
    return (event_type is None or delivery.event_type == event_type) and (
        webhook_id is None or delivery.webhook_id == webhook_id
    )


class _ReceiverHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default backlog of 5 refuses connections under a burst of deliveries

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A sender that closes its kept-alive connection is no error worth printing."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            try:
                length = int(self.headers.get("content-length") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                self.send_response(413)
                self.send_header("content-length", "0")
                self.send_header("connection", "close")
                self.end_headers()
                return
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status = receiver._receive(body, headers)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
