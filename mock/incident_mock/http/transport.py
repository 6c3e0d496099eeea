"""The one module that relies on uvicorn's internals (uvicorn 0.54.0 and httptools 0.9.0, pinned exactly).

Transport limits: uvicorn's httptools protocol with a cap on the request head and a request deadline.

uvicorn 0.54 with httptools caps neither the size of a request head nor the number of its headers, and
nothing closes a connection that never completes a request (its keep-alive timer runs only between
requests). Its h11 parser caps the head, but costs far more per request: with wrk here (one connection
pool of 16, 5 s, three rounds), a bare ASGI app served 6,500-9,900 requests/s under h11 against
27,000-33,000 under httptools, and the mock's authenticated severity list 3,400-4,100 against
5,300-6,900; and h11 has no deadline or header count either. This protocol measured within the noise of
plain httptools (22,000-30,000 and 4,400-6,400). So this subclass of uvicorn's `HttpToolsProtocol`
(which is why uvicorn and httptools are pinned exactly) adds:

- a cap on the bytes of a request head (request line and headers), counted as they arrive, so a huge
  header is refused after one read instead of being parsed for seconds: 431;
- a cap on the number of headers, checked when the head is complete (the byte cap bounds the work
  before that): 431;
- a deadline to send one complete request (head and body), from the connection's first byte, or from
  the first byte of the next request on a kept-alive connection: 408, then the connection is closed. A
  client that connects and sends nothing gets the same;
- the keep-alive timeout between requests, in seconds (uvicorn's, allowing fractions);
- a cap on connections: past it the oldest idle ones (no request under way) are closed, so a flood of
  silent connections cannot take the file descriptors that real clients need;
- uvicorn's plain-text 400 for a request that is not HTTP/1.1 becomes the contract's ErrorResponse;
- a fault that cuts the connection (the app raises `ConnectionCut`, see fault_injection.py) closes it without
  an answer, and without uvicorn's traceback and plain-text 500; so does a forced stop (a second Ctrl-C),
  which cancels the requests in flight.

Every answer written here is the contract's ErrorResponse with its own `X-Request-Id` (from the mock's
request ids when the server was given them: seeded, they repeat), and closes the connection (the rest of
the request is never read).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

import uvicorn
from starlette.types import Receive, Scope, Send
from ulid import ULID
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from incident_mock.domain.errors import ApiError, BadRequest, ConnectionCut, error_body
from incident_mock.domain.ids import Ids
from incident_mock.domain.settings import TransportLimits
from incident_mock.wire.responses import CLOSE, NO_STORE, SAFETY

__all__ = [
    "CleanStopServer",
    "HeadTooLarge",
    "LimitedHttpProtocol",
    "RequestTimeout",
    "TransportLimits",
    "error_response",
    "protocol_class",
]

HEAD_TOO_LARGE = "Request heads (request line and headers) are limited to {limit} bytes"
TOO_MANY_HEADERS = "Requests are limited to {limit} headers"
TIMED_OUT = "The request was not received in full within {limit:g} s"
NOT_HTTP = "The request is not valid HTTP/1.1"


class HeadTooLarge(ApiError):
    status, default_code = 431, "headers_too_large"


class RequestTimeout(ApiError):
    status, default_code = 408, "request_timeout"


def error_response(
    err: ApiError, types: Mapping[int, str], extra: list[tuple[bytes, bytes]], ids: Ids | None = None
) -> bytes:
    """A whole HTTP/1.1 answer in the contract's shape that closes the connection."""
    request_id = ids.ulid() if ids is not None else str(ULID())
    body = json.dumps(error_body(err, request_id, types)).encode()
    headers = [
        *extra,
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
        NO_STORE,
        *SAFETY,
        CLOSE,
    ]
    head = b"".join(name + b": " + value + b"\r\n" for name, value in headers)
    return STATUS_LINE[err.status] + head + b"\r\n" + body


_ORDER = itertools.count()


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing; httptools re-raises it as an HttpParserError."""


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits above; `protocol_class` fixes its settings."""

    limits: ClassVar[TransportLimits] = TransportLimits()
    types: ClassVar[Mapping[int, str]] = {}
    ids: ClassVar[Ids | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout_keep_alive = self.limits.keep_alive_timeout  # type: ignore[assignment]  # a float works
        # One timer per connection, moved lazily: a request only writes its deadline (no timer per request).
        self.deadline: asyncio.TimerHandle | None = None
        self.due = 0.0  # when the pending request must be complete (loop time)
        self.pending = False  # a request has begun (or the connection opened) and is not complete
        self.in_head = True  # reading a request head (or waiting for one)
        self.head_bytes = 0  # bytes read while in a head: catches a head that never ends
        self.refusal: ApiError | None = None
        self.opened = 0
        self.inner, self.app = self.app, self._cutting

    async def _cutting(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app, with a cut connection (a fault) closing this connection without an answer."""
        try:
            await self.inner(scope, receive, send)
        except (ConnectionCut, asyncio.CancelledError):
            # A fault's cut, or a forced stop (a second Ctrl-C cancels the requests in flight): close the
            # connection without an answer, rather than uvicorn's traceback and plain-text 500.
            cycle = self.cycle
            if cycle is not None and cycle.scope is scope:
                cycle.disconnected = True  # no "returned without starting response", no 500
            self.transport.close()

    # --- the deadline ------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.opened = next(_ORDER)  # the loop's clock ties on connections accepted together
        self._arm()
        cap = self.limits.max_connections
        if cap is not None and len(self.connections) > cap:
            self._shed(cap)

    def _idle(self) -> bool:
        """Connected, and no request being read or answered: nothing is lost by closing it."""
        cycle = self.cycle
        return self.in_head and self.head_bytes == 0 and (cycle is None or cycle.response_complete)

    def _shed(self, cap: int) -> None:
        """Close the oldest idle connections, down to 90% of the cap, so that descriptors go to clients
        that send requests. Connections already closing still count until the loop lets them go."""
        live = [c for c in self.connections if not c.transport.is_closing()]
        idle = sorted((c for c in live if isinstance(c, LimitedHttpProtocol) and c._idle()), key=_opened)
        closing = idle[: max(0, len(live) - cap + cap // 10)]
        for connection in closing:
            connection.transport.close()
        if closing:
            self.logger.warning("Too many connections: closed the %d oldest idle ones.", len(closing))

    def connection_lost(self, exc: Exception | None) -> None:
        self.pending = False
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None
        super().connection_lost(exc)

    def _arm(self) -> None:
        """A request begins: it must be complete within the request timeout."""
        if not self.pending:
            self.pending = True
            self.due = self.loop.time() + self.limits.request_timeout
            if self.deadline is None:
                self.deadline = self.loop.call_at(self.due, self._check)

    def _check(self) -> None:
        self.deadline = None
        if not self.pending or self.transport.is_closing():
            return
        if self.loop.time() < self.due:  # a later request is pending: wait for its own deadline
            self.deadline = self.loop.call_at(self.due, self._check)
            return
        cycle = self.cycle
        # Before its head is complete the late request has no cycle, and the last one must be finished;
        # after it, the cycle is the late request's own, which may have answered already (a 413).
        free = (cycle is None or cycle.response_complete) if self.in_head else not cycle.response_started
        if free and not self.pipeline:
            self.logger.info("Closing a connection whose request did not arrive in time.")
            self._refuse(RequestTimeout(TIMED_OUT.format(limit=self.limits.request_timeout)))
        else:
            self.transport.close()

    # --- the head ----------------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        self._arm()  # any byte belongs to a request that must now complete in time
        if self.in_head:
            self.head_bytes += len(data)
        super().data_received(data)
        if self.in_head and self.head_bytes > self.limits.max_head_bytes and not self.transport.is_closing():
            self._refuse(HeadTooLarge(HEAD_TOO_LARGE.format(limit=self.limits.max_head_bytes)))

    def on_message_begin(self) -> None:
        self._arm()  # a pipelined request may begin in the read that completed the one before
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        limits = self.limits
        if len(self.headers) > limits.max_headers:
            self.refusal = HeadTooLarge(
                TOO_MANY_HEADERS.format(limit=limits.max_headers), code="too_many_headers"
            )
            raise _Refused
        # The reads of this head hold at most head_bytes, so only a head that arrived with more (or began
        # inside the read that ended the request before it) needs measuring.
        if self.head_bytes > limits.max_head_bytes or self.head_bytes == 0:
            size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
            if size > limits.max_head_bytes:
                self.refusal = HeadTooLarge(HEAD_TOO_LARGE.format(limit=limits.max_head_bytes))
                raise _Refused
        self.in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.pending, self.in_head, self.head_bytes = False, True, 0
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a parser error: ours is the refusal that stopped the parser, or a 400."""
        self._refuse(self.refusal or BadRequest(NOT_HTTP))

    def _refuse(self, err: ApiError) -> None:
        self.pending = False
        self.transport.write(error_response(err, self.types, self.server_state.default_headers, self.ids))
        self.transport.close()


def _opened(connection: LimitedHttpProtocol) -> int:
    return connection.opened


def protocol_class(
    limits: TransportLimits, types: Mapping[int, str], ids: Ids | None = None
) -> type[LimitedHttpProtocol]:
    """The protocol uvicorn builds per connection, with these limits, the contract's error types and the
    request ids of its answers (None: random)."""

    class Configured(LimitedHttpProtocol):
        pass

    Configured.limits, Configured.types, Configured.ids = limits, dict(types), ids
    return Configured


class CleanStopServer(uvicorn.Server):
    """uvicorn's server, stopping cleanly on a second Ctrl-C.

    uvicorn catches each interrupt, and once stopped raises every one it caught again; a second Ctrl-C
    (which already forced the stop, cancelling the requests in flight) raised again interrupts asyncio's
    own clean-up and logs a traceback. Each signal is raised again once. And the application's lifespan
    ends even then (uvicorn skips it on a forced stop, leaving it to be cancelled, with a traceback): it
    only closes the webhook client, at once."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        if self.force_exit and getattr(self, "lifespan", None) is not None:
            await self.lifespan.shutdown()

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                self._captured_signals = list(dict.fromkeys(self._captured_signals))
