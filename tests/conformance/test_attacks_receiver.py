"""Attacks on the receiver of `incident-conformance webhooks`, each a defect found on main and fixed here.

- a client trickling its request (a byte at a time, each within the read timeout, which was per read)
  held its connection for as long as it liked: a few of them took every slot, and the deployment's
  deliveries were closed unanswered;
- nothing bounded the bytes kept: `max_deliveries` bodies of `max_body_bytes` each (2000 x 1 MiB by
  default) could be held at once.
"""

from __future__ import annotations

import socket
import threading
import time

import httpx

from incident_conformance.receiver import Receiver, ReceiverLimits
from tests.conformance.webhook_wire import new_id, new_secret, signed

BODY = b'{"event_type": "private_incident.incident_created_v2", "private_incident.incident_created_v2": {"id": "x"}}'


def test_a_trickled_request_is_closed_at_the_read_timeout_and_frees_its_slot() -> None:
    secret = new_secret()
    with Receiver("127.0.0.1", 0, secret, ReceiverLimits(max_connections=1, read_timeout=0.5)) as receiver:
        host, port = receiver.server.server_address[:2]
        stop, closed = threading.Event(), threading.Event()

        def trickle() -> None:  # one header byte every 50 ms, well within the 0.5 s per read
            with socket.create_connection((str(host), int(port)), timeout=10) as sock:
                sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                while not stop.wait(0.05):
                    try:
                        sock.sendall(b"a")
                    except OSError:
                        break
                closed.set()

        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        started = time.monotonic()
        try:
            assert closed.wait(timeout=5), "the trickling connection was still open after 5 s"
            assert time.monotonic() - started < 5
            answer = httpx.post(
                receiver.url, content=BODY, headers=signed(secret, new_id(), BODY), timeout=10
            )
            assert answer.status_code == 204
        finally:
            stop.set()
            thread.join(timeout=10)


def test_the_bytes_kept_are_bounded_whatever_the_count_cap() -> None:
    limits = ReceiverLimits()
    body = b"x" * limits.max_body_bytes
    with Receiver("127.0.0.1", 0, new_secret(), limits) as receiver, httpx.Client(timeout=30) as client:
        statuses = [client.post(receiver.url, content=body).status_code for _ in range(80)]
        kept = sum(len(d.body) for d in receiver.snapshot())
    assert kept <= limits.max_kept_bytes <= 64 * 1024 * 1024
    assert statuses.count(503) == receiver.overflow > 0
