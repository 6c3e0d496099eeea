"""The receiver of `incident-conformance webhooks`: a small, bounded HTTP server keeping every delivery.

It listens only on the address it is given (127.0.0.1 unless told otherwise), answers every POST with 204
but for the attempts its `refuse` hook picks (answered 503, to make the sender retry), and records each
delivery as it arrived: headers, body, the answer it got, and whether its Standard Webhooks signature
verified at that moment (the timestamp is judged against the time of arrival, as a receiver would).

Bounded: a body larger than `max_body_bytes` is refused with 413 unread, a connection whose request has
not arrived whole within `read_timeout` seconds (however it trickles) is closed, at most `max_connections`
are served at once (others are closed), and at most `max_deliveries` are kept, of `max_kept_bytes` bodies
in all (later ones are answered 503 and counted in `overflow`).
"""

from __future__ import annotations

import http.server
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from standardwebhooks import Webhook

__all__ = ["ReceivedDelivery", "Receiver", "ReceiverLimits", "parse_listen"]

ACCEPTED = 204
REFUSED = 503  # asks the sender to retry: the attempt the receiver picked to see a retry of
TOO_LARGE = 413
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


@dataclass(frozen=True)
class ReceiverLimits:
    max_body_bytes: int = 1024 * 1024
    read_timeout: float = 10.0
    max_connections: int = 16
    max_deliveries: int = 2000
    max_kept_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True)
class ReceivedDelivery:
    """One POST as it arrived, and what the receiver answered."""

    index: int  # arrival order, from 0
    received_at: float  # Unix time of arrival
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    answered: int
    signature_error: str | None  # None when the signature verified with the secret at arrival

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def acknowledged(self) -> bool:
        return 200 <= self.answered < 300

    def describe(self) -> str:
        text = self.body[:300].decode("utf-8", errors="replace")
        return f"webhook-id {self.webhook_id or '(none)'}, {len(self.body)} bytes: {text}"


def parse_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:PORT` for IPv6) -> (host, port). Raises ValueError."""
    host, colon, port = value.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{value!r} is not HOST:PORT")
    return host, int(port)


# Decides, for each delivery about to be recorded, whether to refuse it (answer 503).
Refuse = Callable[[dict[str, str], bytes, list[ReceivedDelivery]], bool]


class _ConformanceHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    owner: Receiver

    def server_bind(self) -> None:
        socketserver.TCPServer.server_bind(self)  # not HTTPServer's: it asks DNS for the host's name
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.owner.slots.acquire(blocking=False):
            self.shutdown_request(request)  # too many connections at once
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.owner.slots.release()


class _Server6(_ConformanceHTTPServer):
    address_family = socket.AF_INET6


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _ConformanceHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "incident-conformance-receiver"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.owner.limits.read_timeout)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def handle_one_request(self) -> None:
        """One request, which must arrive whole within `read_timeout`: the socket's timeout is per read,
        so a client trickling a byte at a time would hold its slot for ever; past the deadline the
        connection is shut down under the read."""
        deadline = threading.Timer(self.server.owner.limits.read_timeout, self._cut)
        deadline.daemon = True
        deadline.start()
        try:
            super().handle_one_request()
        finally:
            deadline.cancel()

    def _cut(self) -> None:
        self.close_connection = True
        with suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _reply(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        owner = self.server.owner
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            length = -1
        if length < 0 or length > owner.limits.max_body_bytes:
            self.close_connection = True
            self._reply(411 if length < 0 else TOO_LARGE)
            return
        try:
            body = self.rfile.read(length)
        except (TimeoutError, OSError):
            self.close_connection = True
            return
        if len(body) < length:  # cut at the deadline, or the client went away: nothing whole to record
            self.close_connection = True
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        self._reply(owner.record(self.path, headers, body))

    def _not_allowed(self) -> None:
        self.close_connection = True
        self._reply(405)

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = _not_allowed


class Receiver:
    """Listens on (host, port) in a background thread; `url` is the address it is bound to."""

    def __init__(self, host: str, port: int, secret: str, limits: ReceiverLimits | None = None) -> None:
        self.limits = limits or ReceiverLimits()
        self.webhook = Webhook(secret)
        self.deliveries: list[ReceivedDelivery] = []
        self.overflow = 0
        self.kept_bytes = 0
        self.refuse: Refuse = lambda headers, body, seen: False
        self.slots = threading.BoundedSemaphore(self.limits.max_connections)
        self.changed = threading.Condition()
        server = _Server6 if ":" in host else _ConformanceHTTPServer
        self.server = server((host, port), _Handler)
        self.server.owner = self
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1})
        self.thread.daemon = True

    @property
    def url(self) -> str:
        address = self.server.server_address
        host = address[0].decode() if isinstance(address[0], bytes) else str(address[0])
        port = address[1]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}/"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join(timeout=10)
        self.server.server_close()

    def _verify(self, headers: dict[str, str], body: bytes) -> str | None:
        try:
            self.webhook.verify(body, {k: headers.get(k, "") for k in SIGNATURE_HEADERS}, json_parse=False)
        except Exception as exc:  # any failure of the verifier (bad base64, bad header shape) is a failure
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return None

    def record(self, path: str, headers: dict[str, str], body: bytes) -> int:
        error = self._verify(headers, body)
        with self.changed:
            full = self.kept_bytes + len(body) > self.limits.max_kept_bytes
            if full or len(self.deliveries) >= self.limits.max_deliveries:
                self.overflow += 1
                return REFUSED
            refused = self.refuse(headers, body, self.deliveries)
            answer = REFUSED if refused else ACCEPTED
            index = len(self.deliveries)
            self.deliveries.append(ReceivedDelivery(index, time.time(), path, headers, body, answer, error))
            self.kept_bytes += len(body)
            self.changed.notify_all()
        return answer

    def wait(self, done: Callable[[list[ReceivedDelivery]], bool], timeout: float) -> bool:
        """Wait until `done(deliveries)` holds, at most `timeout` seconds; returns whether it holds."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not done(self.deliveries):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 0.5))
            return True

    def snapshot(self) -> list[ReceivedDelivery]:
        with self.changed:
            return list(self.deliveries)
