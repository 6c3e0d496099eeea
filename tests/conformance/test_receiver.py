"""The receiver of `incident-conformance webhooks`: what it records, what it verifies, and its bounds."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from standardwebhooks import Webhook

from incident_conformance.receiver import Receiver, ReceiverLimits, parse_listen
from tests.conformance.webhook_wire import new_id, new_secret, signed

BODY = b'{"event_type": "private_incident.incident_created_v2", "private_incident.incident_created_v2": {"id": "x"}}'


@pytest.fixture
def secret() -> str:
    return new_secret()


@pytest.fixture
def receiver(secret: str) -> Iterator[Receiver]:
    with Receiver(
        "127.0.0.1", 0, secret, ReceiverLimits(max_body_bytes=4096, read_timeout=0.5, max_deliveries=3)
    ) as r:
        yield r


def test_listen_addresses_parse_and_bad_ones_are_refused() -> None:
    assert parse_listen("127.0.0.1:0") == ("127.0.0.1", 0)
    assert parse_listen("[::1]:8099") == ("::1", 8099)
    for bad in ("localhost", ":80", "h:99999", "h:x"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            parse_listen(bad)


def test_it_binds_only_the_address_given(receiver: Receiver) -> None:
    assert receiver.server.socket.getsockname()[0] == "127.0.0.1"
    assert receiver.url.startswith("http://127.0.0.1:")


def test_a_signed_delivery_is_recorded_verified_and_acknowledged(receiver: Receiver, secret: str) -> None:
    webhook_id = new_id()
    answer = httpx.post(receiver.url + "in", content=BODY, headers=signed(secret, webhook_id, BODY))
    assert answer.status_code == 204
    [got] = receiver.snapshot()
    assert (got.webhook_id, got.body, got.path, got.signature_error) == (webhook_id, BODY, "/in", None)


def test_a_tampered_body_a_wrong_secret_and_a_stale_timestamp_are_recorded_as_unverified(
    receiver: Receiver, secret: str
) -> None:
    headers = signed(secret, new_id(), BODY)
    httpx.post(receiver.url, content=BODY.replace(b'"x"', b'"y"'), headers=headers)
    httpx.post(receiver.url, content=BODY, headers=signed(new_secret(), new_id(), BODY))
    stale = datetime.now(tz=UTC) - timedelta(minutes=10)
    old = {**headers, "webhook-timestamp": str(int(stale.timestamp())),
           "webhook-signature": Webhook(secret).sign(headers["webhook-id"], stale, BODY.decode())}  # fmt: skip
    httpx.post(receiver.url, content=BODY, headers=old)
    errors = [d.signature_error or "" for d in receiver.snapshot()]
    assert "No matching signature" in errors[0] and "No matching signature" in errors[1]
    assert "too old" in errors[2]


def test_the_refuse_hook_answers_503(receiver: Receiver, secret: str) -> None:
    receiver.refuse = lambda headers, body, seen: not seen
    first = httpx.post(receiver.url, content=BODY, headers=signed(secret, new_id(), BODY))
    second = httpx.post(receiver.url, content=BODY, headers=signed(secret, new_id(), BODY))
    assert (first.status_code, second.status_code) == (503, 204)
    assert [d.answered for d in receiver.snapshot()] == [503, 204]


def test_bodies_past_the_cap_and_other_methods_are_refused_unrecorded(receiver: Receiver) -> None:
    assert httpx.post(receiver.url, content=b"x" * 4097).status_code == 413
    assert httpx.get(receiver.url).status_code == 405
    assert receiver.snapshot() == []


def test_deliveries_past_the_cap_are_refused_and_counted(receiver: Receiver, secret: str) -> None:
    statuses = [httpx.post(receiver.url, content=BODY, headers=signed(secret, new_id(), BODY)).status_code
                for _ in range(5)]  # fmt: skip
    assert statuses == [204, 204, 204, 503, 503]
    assert len(receiver.snapshot()) == 3 and receiver.overflow == 2


def test_an_idle_connection_is_closed_after_the_read_timeout(receiver: Receiver) -> None:
    host, port = receiver.server.server_address[:2]
    with socket.create_connection((str(host), int(port)), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        assert sock.recv(1024) == b""  # closed by the receiver, well before the client's 10 s
    assert receiver.snapshot() == []


def test_connections_past_the_cap_are_closed(secret: str) -> None:
    with Receiver("127.0.0.1", 0, secret, ReceiverLimits(max_connections=1, read_timeout=5)) as r:
        host, port = r.server.server_address[:2]
        with socket.create_connection((str(host), int(port)), timeout=10) as idle:
            idle.sendall(b"POST / HTTP/1.1\r\n")  # holds the only slot
            with pytest.raises(httpx.HTTPError):
                httpx.post(r.url, content=BODY, timeout=10)
        deadline = time.monotonic() + 10  # the slot frees once the server has seen the idle one close
        while True:
            try:
                answer = httpx.post(r.url, content=BODY, timeout=10)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
        assert answer.status_code == 204


def test_wait_returns_as_soon_as_the_condition_holds(receiver: Receiver, secret: str) -> None:
    assert receiver.wait(lambda d: len(d) == 1, 0.05) is False
    httpx.post(receiver.url, content=BODY, headers=signed(secret, new_id(), BODY))
    assert receiver.wait(lambda d: len(d) == 1, 10) is True
