"""Attacks on the webhooks, faults and clocks of a sandbox, each a defect found on main and fixed here.

- a receiver that trickles its answer (one byte at a time, each within the attempt timeout) held its
  attempt, and a slot of its endpoint, for as long as it liked: the timeout was per read, not per attempt;
- redelivery requests were checked against the attempt cap only for attempts already made, so a burst of
  them queued without bound behind a receiver that does not answer;
- one sandbox whose receivers never answered could take every connection of the delivery client's pool,
  and another sandbox's deliveries waited for them (then failed as unanswered);
- the control plane took NaN (Python's json reads it) as a fault's probability or delay, or an endpoint's
  time scale or timeout, which no schema bound catches, and answered it back as JSON that is not JSON.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from incident_mock.app import create_app
from incident_mock.domain.limits import Limits
from incident_mock.kit.webhooks import WebhookSettings
from incident_mock.kit.webhooks.registry import MAX_ATTEMPTS
from incident_mock.testing.receiver import WebhookReceiver
from tests.mock.conftest import incident_body
from tests.mock.webhook_helpers import eventually
from tests.servers import serve


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with serve(create_app()) as url:
        yield url


@pytest.fixture
def sandbox(mock_url: str) -> Iterator[tuple[httpx.Client, str, str]]:
    """A control-plane client, the sandbox's path, and its full key's token."""
    with httpx.Client(base_url=mock_url, timeout=30) as client:
        made = client.post("/_mock/sandboxes", json={}).json()["sandbox"]
        path = f"/_mock/sandboxes/{made['id']}"
        token = next(k["token"] for k in made["keys"] if k["replaces"] == "mock-key-full")
        yield client, path, token
        client.delete(path)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    with sock:
        yield sock


def url_of(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}/hook"


def create_incident(client: httpx.Client, token: str, key: str) -> None:
    answer = client.post(
        "/v2/incidents", json=incident_body(key), headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.is_success, answer.text


def trickling(listener: socket.socket, head: bytes, stop: threading.Event) -> threading.Thread:
    """A receiver (started) that takes one request, sends `head`, then one byte every 50 ms until `stop`."""

    def serve_one() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(head)
            while not stop.wait(0.05):
                try:
                    conn.sendall(b"a")
                except OSError:
                    return

    thread = threading.Thread(target=serve_one, daemon=True)
    thread.start()
    return thread


def test_a_trickling_receiver_is_cut_at_the_attempt_timeout(
    sandbox: tuple[httpx.Client, str, str], listener: socket.socket
) -> None:
    client, path, token = sandbox
    stop = threading.Event()
    # answers one header byte every 50 ms, each well within the 0.5 s timeout
    thread = trickling(listener, b"HTTP/1.1 200 OK\r\nX-Slow: ", stop)
    try:
        endpoint = client.post(
            f"{path}/webhooks",
            json={"url": url_of(listener), "attempt_timeout_seconds": 0.5, "time_scale": 1},
        ).json()["webhook"]
        started = time.monotonic()
        create_incident(client, token, "trickle")

        def first_attempt() -> dict[str, object] | None:
            messages = client.get(f"{path}/webhooks/{endpoint['id']}/messages").json()["messages"]
            return messages[0]["attempts"][0] if messages and messages[0]["attempts"] else None

        attempt = eventually(first_attempt, timeout=6, what="the trickled attempt's end")
        assert time.monotonic() - started < 6
        assert attempt["status"] is None and "0.5 s" in str(attempt["error"])
    finally:
        stop.set()
        thread.join(timeout=10)


def test_redeliveries_queue_no_further_than_the_attempt_cap(
    sandbox: tuple[httpx.Client, str, str], listener: socket.socket
) -> None:
    client, path, token = sandbox  # the listener never accepts: no attempt ever ends within the test
    endpoint = client.post(
        f"{path}/webhooks", json={"url": url_of(listener), "attempt_timeout_seconds": 60, "time_scale": 1}
    ).json()["webhook"]
    create_incident(client, token, "flood")
    messages = f"{path}/webhooks/{endpoint['id']}/messages"
    message = eventually(lambda: client.get(messages).json()["messages"], what="the message")[0]
    statuses = [client.post(f"{messages}/{message['id']}/actions/redeliver").status_code for _ in range(100)]
    accepted = statuses.count(202)
    assert accepted <= MAX_ATTEMPTS
    assert set(statuses[accepted:]) == {422}
    client.delete(f"{path}/webhooks/{endpoint['id']}")  # cancels what is queued


@pytest.mark.parametrize(
    ("where", "body"),
    [
        ("faults", '{"kind": "error", "probability": NaN}'),
        ("faults", '{"kind": "delay", "seconds": NaN}'),
        ("faults", '{"kind": "delay", "seconds": 1, "max_seconds": NaN}'),
        ("webhooks", '{"url": "http://127.0.0.1:9/", "time_scale": NaN}'),
        ("webhooks", '{"url": "http://127.0.0.1:9/", "attempt_timeout_seconds": NaN}'),
        ("clock/actions/advance", '{"seconds": -Infinity}'),
    ],
)
def test_nan_and_infinity_are_refused_as_json_that_is_not_json(
    sandbox: tuple[httpx.Client, str, str], where: str, body: str
) -> None:
    client, path, _ = sandbox
    answer = client.post(f"{path}/{where}", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert "not valid JSON" in answer.json()["errors"][0]["message"]
    assert client.get(f"{path}/faults").json()["faults"] == []
    assert client.get(f"{path}/webhooks").json()["webhooks"] == []


def test_one_sandboxs_silent_receivers_do_not_hold_back_another_sandboxs_deliveries(
    mock_url: str, sandbox: tuple[httpx.Client, str, str], listener: socket.socket
) -> None:
    """Sandbox A's endpoints point at a receiver that never answers, with as many messages in flight as
    their gates allow; sandbox B's message to a receiver that answers still arrives at once."""
    client, path, token = sandbox
    endpoints = [
        client.post(
            f"{path}/webhooks",
            json={"url": url_of(listener), "attempt_timeout_seconds": 60, "time_scale": 1},
        ).json()["webhook"]["id"]
        for _ in range(8)
    ]
    for number in range(17):
        create_incident(client, token, f"silent-{number}")
    other = client.post("/_mock/sandboxes", json={}).json()["sandbox"]
    other_path = f"/_mock/sandboxes/{other['id']}"
    other_token = next(k["token"] for k in other["keys"] if k["replaces"] == "mock-key-full")
    try:
        with WebhookReceiver() as receiver:
            answer = client.post(
                f"{other_path}/webhooks", json={"url": receiver.url, "attempt_timeout_seconds": 5}
            )
            receiver.secret = answer.json()["webhook"]["secret"]
            create_incident(client, other_token, "heard")
            assert receiver.wait_for(timeout=8)
    finally:
        for endpoint in endpoints:
            client.delete(f"{path}/webhooks/{endpoint}")
        client.delete(other_path)


async def test_the_delivery_logs_of_all_sandboxes_share_one_byte_budget() -> None:
    """Each endpoint's log was bounded (4 MiB), but not all of them together: 1000 sandboxes of 20
    endpoints each could keep 80 GiB of messages."""
    settings = WebhookSettings(log_total_bytes=64 * 1024)
    app = create_app(webhooks=settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            paths = []
            for _ in range(3):
                made = (await client.post("/_mock/sandboxes", json={})).json()["sandbox"]
                path = f"/_mock/sandboxes/{made['id']}"
                token = next(k["token"] for k in made["keys"] if k["replaces"] == "mock-key-full")
                for _ in range(2):
                    await client.post(
                        f"{path}/webhooks", json={"url": "http://127.0.0.1:9/", "time_scale": 1}
                    )
                for number in range(15):
                    body = incident_body(f"k{number}", summary="s" * 2000)
                    answer = await client.post(
                        "/v2/incidents", json=body, headers={"Authorization": f"Bearer {token}"}
                    )
                    assert answer.is_success
                paths.append(path)
            logs = [e.log for s in app.sandboxes for e in s.webhooks.endpoints.values()]
            largest = max(m.size for log in logs for m in log.messages.values())
            assert sum(log.bytes for log in logs) <= settings.log_total_bytes + len(logs) * largest
            assert all(len(log) >= 1 for log in logs)  # every log keeps its newest message
            for path in paths:
                await client.delete(path)
            assert app.webhooks.log_budget.used == 0  # deleted endpoints give their bytes back
    finally:
        await app.webhooks.aclose()


async def test_a_sandbox_flooding_the_pending_cap_gives_up_its_own_messages_not_anothers(
    listener: socket.socket,
) -> None:
    """Past `max_pending` the oldest pending message of every sandbox was given up: a sandbox whose
    receivers never answer pushed out another sandbox's one message awaiting its retry."""
    app = create_app(webhooks=WebhookSettings(max_pending=10))
    transport = httpx.ASGITransport(app=app)
    silent = {"url": url_of(listener), "attempt_timeout_seconds": 60, "time_scale": 1}
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:

            async def sandbox_with_endpoint() -> tuple[str, str, str]:
                made = (await client.post("/_mock/sandboxes", json={})).json()["sandbox"]
                path = f"/_mock/sandboxes/{made['id']}"
                token = next(k["token"] for k in made["keys"] if k["replaces"] == "mock-key-full")
                endpoint = (await client.post(f"{path}/webhooks", json=silent)).json()["webhook"]["id"]
                return path, token, f"{path}/webhooks/{endpoint}/messages"

            async def create(token: str, key: str) -> None:
                headers = {"Authorization": f"Bearer {token}"}
                answer = await client.post("/v2/incidents", json=incident_body(key), headers=headers)
                assert answer.is_success

            quiet_path, quiet_token, quiet_messages = await sandbox_with_endpoint()
            await create(quiet_token, "only")
            loud_path, loud_token, loud_messages = await sandbox_with_endpoint()
            for number in range(30):
                await create(loud_token, f"loud-{number}")
            [quiet] = (await client.get(quiet_messages)).json()["messages"]
            assert quiet["state"] == "pending", quiet["error"]
            loud = (await client.get(loud_messages)).json()["messages"]
            assert sum(m["state"] == "failed" for m in loud) == 21
            assert app.webhooks.pending == 10
            for path in (quiet_path, loud_path):
                await client.delete(path)
            assert not app.webhooks.pending
    finally:
        await app.webhooks.aclose()


# --- one mock shared by several suites: no sandbox starves or impersonates another -----------------------


class SilentServer:
    """Accepts every connection and never answers; counts the connections it holds."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return url_of(self.sock)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def new_sandbox(client: httpx.Client, **body: object) -> tuple[str, str]:
    made = client.post("/_mock/sandboxes", json=body).json()["sandbox"]
    return f"/_mock/sandboxes/{made['id']}", next(
        k["token"] for k in made["keys"] if k["replaces"] == "mock-key-full"
    )


def test_many_sandboxes_silent_receivers_do_not_delay_a_neighbours_delivery(mock_url: str) -> None:
    """12 sandboxes of 2 endpoints each that accept and never answer took every connection of the sender:
    a healthy receiver of another sandbox got none of its 3 messages, each logged "no answer within 15 s"
    though it was never contacted. Its deliveries must start within 1 s."""
    silent = SilentServer()
    paths: list[str] = []
    try:
        with httpx.Client(base_url=mock_url, timeout=30) as client:
            for number in range(12):
                path, token = new_sandbox(client)
                paths.append(path)
                for _ in range(2):
                    client.post(f"{path}/webhooks", json={"url": silent.url, "attempt_timeout_seconds": 60})
                for incident in range(16):
                    create_incident(client, token, f"silent-{number}-{incident}")
            eventually(lambda: len(silent.held) >= 24, what="the silent receivers' connections")
            path, token = new_sandbox(client)
            paths.append(path)
            with WebhookReceiver() as receiver:
                made = client.post(f"{path}/webhooks", json={"url": receiver.url}).json()["webhook"]
                receiver.secret = made["secret"]
                latencies = []
                for number in range(3):
                    started = time.time()
                    create_incident(client, token, f"heard-{number}")
                    [*_, delivery] = receiver.wait_for(count=number + 1, timeout=20)
                    latencies.append(delivery.received_at - started)

                def logged() -> list[dict[str, Any]] | None:
                    answer = client.get(f"{path}/webhooks/{made['id']}/messages").json()["messages"]
                    return answer if [m["state"] for m in answer] == ["delivered"] * 3 else None

                messages = eventually(logged, what="the 3 messages logged as delivered")
            assert all(a["error"] is None for m in messages for a in m["attempts"])
            assert max(latencies) < 1.0, latencies
    finally:
        with httpx.Client(base_url=mock_url, timeout=30) as client:
            for path in paths:
                client.delete(path)
        silent.close()


def test_an_attempt_that_never_connects_is_not_logged_as_unanswered(
    sandbox: tuple[httpx.Client, str, str],
) -> None:
    """The log said "no answer within ..." for an attempt that never reached its receiver (it waited for a
    connection all along): only an attempt that reached its receiver may say so."""
    client, path, token = sandbox
    with socket.socket() as full:  # a backlog of one, taken: the kernel answers no further SYN
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        fillers = [socket.socket() for _ in range(4)]
        try:
            for filler in fillers:
                filler.setblocking(False)
                filler.connect_ex(full.getsockname())
            endpoint = client.post(
                f"{path}/webhooks",
                json={"url": url_of(full), "attempt_timeout_seconds": 0.5, "time_scale": 1},
            ).json()["webhook"]
            create_incident(client, token, "never-connects")

            def first_attempt() -> dict[str, object] | None:
                messages = client.get(f"{path}/webhooks/{endpoint['id']}/messages").json()["messages"]
                return messages[0]["attempts"][0] if messages and messages[0]["attempts"] else None

            attempt = eventually(first_attempt, timeout=10, what="the attempt's end")
            assert attempt["status"] is None
            assert "no answer" not in str(attempt["error"]), attempt["error"]
            assert "0.5 s" in str(attempt["error"])
        finally:
            for filler in fillers:
                filler.close()


def test_an_attempt_cut_at_its_deadline_is_not_delivered(
    sandbox: tuple[httpx.Client, str, str], listener: socket.socket
) -> None:
    """A receiver that answered 200 but sent its body slower than the attempt timeout had its message
    marked `delivered` though the attempt was cut."""
    client, path, token = sandbox
    stop = threading.Event()
    thread = trickling(listener, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", stop)
    try:
        endpoint = client.post(
            f"{path}/webhooks",
            json={"url": url_of(listener), "attempt_timeout_seconds": 0.5, "time_scale": 1},
        ).json()["webhook"]
        create_incident(client, token, "slow-body")

        def first_attempt() -> dict[str, Any] | None:
            messages = client.get(f"{path}/webhooks/{endpoint['id']}/messages").json()["messages"]
            return messages[0] if messages and messages[0]["attempts"] else None

        message = eventually(first_attempt, timeout=10, what="the attempt's end")
        assert message["state"] == "pending", message
        assert message["attempts"][0]["error"] and "0.5 s" in message["attempts"][0]["error"]
    finally:
        stop.set()
        thread.join(timeout=10)


@pytest.fixture
def small_mock() -> Iterator[str]:
    """A mock for at most 5 sandboxes whose shared webhook budgets are small: each floor is a fifth."""
    settings = WebhookSettings(log_total_bytes=512 * 1024, max_pending=40)
    with serve(create_app(limits=Limits(max_sandboxes=5), webhooks=settings)) as url:
        yield url


def test_filling_the_shared_log_budget_drops_nothing_of_a_sandbox_within_its_share(
    small_mock: str, listener: socket.socket
) -> None:
    """Three sandboxes filling the delivery logs' shared byte budget made another sandbox's failing
    endpoint lose 2 of its 3 pending messages (`dropped`, no more retries)."""
    with httpx.Client(base_url=small_mock, timeout=30) as client:
        path, token = new_sandbox(client)
        failing = client.post(f"{path}/webhooks", json={"url": "http://127.0.0.1:9/", "time_scale": 1})
        endpoint = failing.json()["webhook"]["id"]
        create_incident(client, token, "mine-0")
        for sandbox_number in range(3):
            flood_path, flood_token = new_sandbox(client)
            for _ in range(2):
                client.post(f"{flood_path}/webhooks", json={"url": url_of(listener), "time_scale": 1})
            for number in range(30):
                body = incident_body(f"flood-{number}", summary="s" * 4000)
                answer = client.post(
                    "/v2/incidents", json=body, headers={"Authorization": f"Bearer {flood_token}"}
                )
                assert answer.is_success
            if sandbox_number == 1:
                create_incident(client, token, "mine-1")
                create_incident(client, token, "mine-2")
        answer = client.get(f"{path}/webhooks/{endpoint}/messages").json()
        assert answer["dropped"] == 0
        assert [m["state"] for m in answer["messages"]] == ["pending"] * 3
        flooded = client.get(f"{flood_path}/webhooks").json()["webhooks"]
        assert sum(w["dropped"] for w in flooded) > 0  # the flood lost its own


def test_equal_seeds_give_different_webhook_secrets(small_mock: str) -> None:
    """Two sandboxes created with the same seed and frozen clock got the same generated signing secret: one
    could sign deliveries for the other's receiver."""
    body = {"seed": 99, "frozen_at": "2026-03-01T09:00:00Z"}
    with httpx.Client(base_url=small_mock, timeout=30) as client:
        first, second = new_sandbox(client, **body)[0], new_sandbox(client, **body)[0]
        made = [
            client.post(f"{path}/webhooks", json={"url": "http://127.0.0.1:9/"}).json()["webhook"]
            for path in (first, second)
        ]
        assert made[0]["id"] == made[1]["id"]  # ids stay reproducible
        assert made[0]["secret"] != made[1]["secret"]
        assert made[0]["secret"].startswith("whsec_") and made[1]["secret"].startswith("whsec_")


def test_a_sandbox_flooding_the_pending_cap_fails_no_message_of_a_sandbox_with_equal_seed(
    small_mock: str, listener: socket.socket
) -> None:
    """Two sandboxes created with the same seed and frozen clock make the same message ids: when one flooded
    past the pending cap, the other's one pending message was given up (`failed`)."""
    body = {"seed": 99, "frozen_at": "2026-03-01T09:00:00Z"}
    silent = {"url": url_of(listener), "attempt_timeout_seconds": 60, "time_scale": 1}
    with httpx.Client(base_url=small_mock, timeout=30) as client:
        (quiet, quiet_token), (loud, loud_token) = new_sandbox(client, **body), new_sandbox(client, **body)
        quiet_endpoint = client.post(f"{quiet}/webhooks", json=silent).json()["webhook"]
        loud_endpoint = client.post(f"{loud}/webhooks", json=silent).json()["webhook"]
        create_incident(client, loud_token, "loud-0")  # the same message id as the quiet one's next
        create_incident(client, quiet_token, "only")
        for number in range(1, 60):
            create_incident(client, loud_token, f"loud-{number}")
        [message] = client.get(f"{quiet}/webhooks/{quiet_endpoint['id']}/messages").json()["messages"]
        assert message["state"] == "pending", message["error"]
        loud_messages = client.get(f"{loud}/webhooks/{loud_endpoint['id']}/messages").json()["messages"]
        assert sum(m["state"] == "failed" for m in loud_messages) >= 60 - 40  # it gave up its own


FAST_RECEIVER = """
import asyncio

async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\\r\\n\\r\\n")
            sizes = [line.split(b":")[1] for line in head.lower().split(b"\\r\\n") if line.startswith(b"content-length:")]
            await reader.readexactly(int(sizes[0]) if sizes else 0)
            writer.write(b"HTTP/1.1 204 No Content\\r\\n\\r\\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()

asyncio.run(main())
"""


def test_a_sandboxs_fan_out_keeps_a_neighbours_api_latency() -> None:
    """One sandbox fanning out to 20 endpoints, delivering as fast as the mock can, must not take the loop
    from the API: another sandbox's requests keep their latency (within 50 ms of it)."""
    app = create_app()
    receiver = subprocess.Popen([sys.executable, "-c", FAST_RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        assert receiver.stdout is not None
        port = int(receiver.stdout.readline())
        with serve(app) as url, httpx.Client(base_url=url, timeout=30) as client:
            loud, loud_token = new_sandbox(client)
            quiet_token = new_sandbox(client)[1]
            for _ in range(20):
                client.post(f"{loud}/webhooks", json={"url": f"http://127.0.0.1:{port}/hook"})
            create_incident(client, quiet_token, "quiet")
            listing = {"Authorization": f"Bearer {quiet_token}"}

            def latency() -> float:
                started = time.perf_counter()
                assert client.get("/v2/incidents", params={"page_size": 5}, headers=listing).is_success
                return time.perf_counter() - started

            quiet_before = sorted(latency() for _ in range(30))
            flood_done = threading.Event()

            def flood() -> None:
                with httpx.Client(base_url=url, timeout=30) as own:
                    for number in range(150):
                        create_incident(own, loud_token, f"fan-{number}")
                flood_done.set()

            thread = threading.Thread(target=flood, daemon=True)
            thread.start()
            eventually(lambda: app.webhooks.pending > 100, what="a flood of deliveries")
            during = []
            while app.webhooks.pending > 100 and len(during) < 200:
                during.append(latency())
            thread.join(timeout=60)
            assert flood_done.is_set() and len(during) >= 10
            during.sort()
            typical, median = quiet_before[len(quiet_before) // 2], during[len(during) // 2]
            assert median < typical + 0.05, (typical, median, during[int(len(during) * 0.9)])
    finally:
        receiver.kill()
        receiver.wait(timeout=10)
        if receiver.stdout is not None:
            receiver.stdout.close()
