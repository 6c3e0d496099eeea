"""transport.py and server.py on a real socket: the head caps (431), the request deadline (408), keep-alive.

Durations are configured short (tenths of a second) and every wait is for an event (an answer, the server
closing the connection) with a generous limit, never a fixed sleep. `Wire` and the helpers here are the
raw-socket client the attack catalogue (test_attacks_transport.py) uses too.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from incident_contract.facts import error_types
from incident_mock.domain.settings import TransportLimits
from incident_mock.server import MockServer, Refused, is_loopback, public_url_for, uvicorn_server
from tests.mock.conftest import FULL

PATIENCE = 15.0  # seconds: how long a wait for an event may take on a slow machine before the test fails
SHORT = TransportLimits(max_head_bytes=8192, max_headers=20, request_timeout=0.4, keep_alive_timeout=0.4)


@dataclass
class Answer:
    status: int | None  # None: the connection closed (or was reset) before any answer
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        return json.loads(self.body)


class Wire:
    """One raw TCP connection to a server: send any bytes, read one answer, wait for the close."""

    def __init__(self, url: str) -> None:
        host, port = url.removeprefix("http://").rsplit(":", 1)
        self.sock = socket.create_connection((host.strip("[]"), int(port)), timeout=PATIENCE)
        self.buffer = b""

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def send(self, data: bytes) -> bool:
        """False once the server has closed the connection."""
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True

    def _fill(self) -> bool:
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        self.buffer += chunk
        return bool(chunk)

    def answer(self) -> Answer:
        """The next answer; Answer(None) if the server closes first. Waits at most PATIENCE."""
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                return Answer(None)
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length and self._fill():
            pass
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return Answer(int(lines[0].split()[1]), headers, body)

    def closed(self) -> bool:
        """Whether the server closes the connection (within PATIENCE), anything it sent first discarded."""
        try:
            while self._fill():
                pass
        except TimeoutError:
            return False
        return True


def request(method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> bytes:
    """A complete HTTP/1.1 request; Host 127.0.0.1 unless `headers` names another."""
    named = {"Host": "127.0.0.1", **(headers or {})}
    if body:
        named.setdefault("Content-Length", str(len(body)))
    head = "".join(f"{k}: {v}\r\n" for k, v in named.items())
    return f"{method} {path} HTTP/1.1\r\n{head}\r\n".encode() + body


def assert_error(answer: Answer, status: int, code: str | None = None) -> dict[str, Any]:
    """The answer is the contract's ErrorResponse for `status`."""
    assert answer.status == status, answer
    assert answer.headers["content-type"] == "application/json"
    body: dict[str, Any] = answer.json()
    assert body["type"] == error_types_of()[status]
    assert body["status"] == status
    assert body["request_id"] == answer.headers["x-request-id"]
    if code is not None:
        assert body["errors"][0]["code"] == code, body
    return body


def error_types_of() -> dict[int, str]:
    from incident_contract.document import load_spec

    return error_types(load_spec())


def served(url: str) -> None:
    """Another client is answered, promptly, while an attack is under way."""
    started = time.monotonic()
    response = httpx.get(f"{url}/v1/severities", headers=FULL, timeout=PATIENCE)
    assert response.status_code == 200
    assert time.monotonic() - started < 2.0  # an answer takes milliseconds; a stalled loop takes seconds


@pytest.fixture(scope="module")
def mock() -> Iterator[MockServer]:
    with MockServer(transport=SHORT, validate_responses=True).running() as running:
        yield running


def test_a_head_over_the_cap_is_431_and_closes(mock: MockServer) -> None:
    with Wire(mock.url) as wire:
        wire.send(request("GET", "/v1/severities", {"X-Big": "a" * 9000}))
        body = assert_error(wire.answer(), 431, "headers_too_large")
        assert "8192" in body["errors"][0]["message"]
        assert wire.closed()
    served(mock.url)


def test_a_long_query_counts_towards_the_head(mock: MockServer) -> None:
    with Wire(mock.url) as wire:
        wire.send(request("GET", "/v2/incidents?" + "&".join(["status[one_of]=x"] * 600)))
        assert_error(wire.answer(), 431, "headers_too_large")


def test_too_many_headers_is_431_and_closes(mock: MockServer) -> None:
    with Wire(mock.url) as wire:
        wire.send(request("GET", "/v1/severities", {f"X-{n}": "1" for n in range(21)}))
        assert_error(wire.answer(), 431, "too_many_headers")
        assert wire.closed()


def test_a_head_at_the_caps_is_served(mock: MockServer) -> None:
    headers = {**FULL, **{f"X-{n}": "1" for n in range(18)}}  # Host + Authorization + 18 = 20
    with Wire(mock.url) as wire:
        wire.send(request("GET", "/v1/severities", headers))
        assert wire.answer().status == 200


@pytest.mark.parametrize(
    "sent",
    [
        b"",  # connects and sends nothing
        b"GET /v1/severities HTTP/1.1\r\nHost: 127.0.0.1\r\n",  # half a head
        request("POST", "/v2/incidents", {**FULL, "Content-Type": "application/json", "Content-Length": "90"})
        + b'{"idempotency_key": "half"',  # the head, half the body
    ],
    ids=["nothing", "half-head", "half-body"],
)
def test_an_incomplete_request_is_408_then_closed(mock: MockServer, sent: bytes) -> None:
    before = httpx.get(f"{mock.url}/v2/incidents", headers=FULL).json()["pagination_meta"]
    with Wire(mock.url) as wire:
        wire.send(sent)
        served(mock.url)  # meanwhile
        assert_error(wire.answer(), 408, "request_timeout")
        assert wire.closed()
    after = httpx.get(f"{mock.url}/v2/incidents", headers=FULL).json()["pagination_meta"]
    assert after == before


def test_a_trickled_request_is_408_even_though_bytes_keep_coming(mock: MockServer) -> None:
    """Slowloris: one byte at a time never completes a head; the deadline runs from the first byte."""
    with Wire(mock.url) as wire:
        stop = threading.Event()

        def trickle() -> None:
            for byte in request("GET", "/v1/severities", {"X-Slow": "s" * 1000}):
                if stop.is_set() or not wire.send(bytes([byte])):
                    return
                stop.wait(0.02)

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        try:
            assert_error(wire.answer(), 408, "request_timeout")
        finally:
            stop.set()
            sender.join(PATIENCE)


def test_an_idle_kept_alive_connection_is_closed_after_the_keep_alive_timeout(mock: MockServer) -> None:
    with Wire(mock.url) as wire:
        wire.send(request("GET", "/v1/severities", FULL))
        assert wire.answer().status == 200
        started = time.monotonic()
        assert wire.closed()
        assert time.monotonic() - started >= SHORT.keep_alive_timeout * 0.8


def test_a_kept_alive_connection_serves_several_requests_within_the_deadlines(mock: MockServer) -> None:
    with Wire(mock.url) as wire:
        for _ in range(3):
            wire.send(request("GET", "/v1/severities", FULL))
            assert wire.answer().status == 200


def test_pipelined_requests_are_answered_in_order(mock: MockServer) -> None:
    with Wire(mock.url) as wire:
        wire.send(request("GET", "/v1/severities", FULL) + request("GET", "/v1/identity", FULL))
        assert "severities" in wire.answer().json()
        assert "identity" in wire.answer().json()


def test_past_the_connection_cap_the_oldest_idle_connections_are_closed() -> None:
    limits = dataclasses.replace(SHORT, request_timeout=60, max_connections=20)
    with MockServer(transport=limits, log_level="error").running() as capped:
        busy = Wire(capped.url)
        busy.send(b"GET /v1/severities HTTP/1.1\r\n")  # a request under way is never shed
        served(capped.url)  # by now the server has read it
        idle = [Wire(capped.url) for _ in range(60)]
        try:
            served(capped.url)
            assert all(wire.closed() for wire in idle[:30])  # long before their 60 s deadline
            busy.send(b"Host: 127.0.0.1\r\n\r\n")
            assert_error(busy.answer(), 401)
        finally:
            for wire in (busy, *idle):
                wire.sock.close()


def test_what_is_not_http_is_a_400_in_the_contracts_shape(mock: MockServer) -> None:
    with Wire(mock.url) as wire:
        wire.send(b"\x16\x03\x01 this is not HTTP\r\n\r\n")
        assert_error(wire.answer(), 400)
        assert wire.closed()


def test_a_body_over_the_limit_is_413_and_closes_the_connection(mock: MockServer) -> None:
    big = b"{" + b" " * (1024 * 1024 + 10) + b"}"
    headers = {**FULL, "Content-Type": "application/json"}
    with Wire(mock.url) as wire:
        wire.send(request("POST", "/v2/incidents", headers, big))
        answer = wire.answer()
        assert_error(answer, 413)
        assert answer.headers["connection"] == "close"


def test_any_asgi_app_gets_the_limits() -> None:
    """uvicorn_server is the construction for any app (a test's variant of the mock included)."""

    async def hello(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": f"{message['type']}.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    server = uvicorn_server(hello, SHORT)
    sock = socket.create_server(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = public_url_for(sock)
    try:
        deadline = time.monotonic() + PATIENCE
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        with Wire(url) as wire:
            wire.send(request("GET", "/", {f"X-{n}": "1" for n in range(21)}))
            assert_error(wire.answer(), 431, "too_many_headers")
    finally:
        server.should_exit = True
        thread.join(PATIENCE)
        sock.close()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True), ("0.0.0.0", False),
     ("::", False), ("192.168.1.10", False), ("myhost", False)],
)  # fmt: skip
def test_which_addresses_are_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_the_public_url_has_the_real_port() -> None:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        assert public_url_for(sock) == f"http://127.0.0.1:{sock.getsockname()[1]}"
    with socket.create_server(("0.0.0.0", 0)) as sock:
        assert public_url_for(sock) == f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_the_descriptor_limit_is_lifted_towards_the_hard_one() -> None:
    import resource
    import subprocess
    import sys

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard <= 256:
        pytest.skip(f"the hard limit ({hard}) leaves nothing to lift")
    code = "from incident_mock.server import raise_descriptor_limit as r; print(r())"
    done = subprocess.run(
        ["sh", "-c", 'ulimit -Sn 256 && exec "$0" -c "$1"', sys.executable, code],
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(done.stdout) > 256


def test_a_url_of_the_contracts_x_max_url_bytes_is_never_refused_for_its_size(spec: dict[str, Any]) -> None:
    limit = int(spec["x-max-url-bytes"])
    assert TransportLimits().max_head_bytes >= limit + 8192  # room for the request line and headers
    with MockServer().running() as mock:
        path = "/v2/incidents?"
        query = "&".join(["mode[one_of]=standard"] * (limit // 22))
        url = f"{mock.url}{path}{query}"[:limit]
        url = url[: url.rfind("&")]
        response = httpx.get(url, headers={**FULL, "User-Agent": "u" * 200, "Accept": "application/json"})
        assert response.status_code in (200, 422), response.text  # the API's answer, not the transport's
        with Wire(mock.url) as wire:
            wire.send(request("GET", f"/v1/severities?x={'a' * TransportLimits().max_head_bytes}", FULL))
            answer = wire.answer()
            if answer.status is not None:  # else the close came while the client was still sending
                assert_error(answer, 431, "headers_too_large")


@pytest.mark.parametrize(
    "url", ["mock.internal:8080", "ftp://mock", "http://", "http://mock:port", "http://m/?a=b"]
)
def test_a_public_url_that_is_no_base_url_is_refused_before_binding(url: str) -> None:
    with pytest.raises(Refused, match="--public-url"):
        MockServer(public_url=url)
