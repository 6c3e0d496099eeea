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
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from incident_mock.app import create_app
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


def test_a_trickling_receiver_is_cut_at_the_attempt_timeout(
    sandbox: tuple[httpx.Client, str, str], listener: socket.socket
) -> None:
    client, path, token = sandbox
    stop = threading.Event()

    def trickle() -> None:  # answers one header byte every 50 ms, each well within the 0.5 s timeout
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            while not stop.wait(0.05):
                try:
                    conn.sendall(b"a")
                except OSError:
                    return

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
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
            assert len(app.webhooks.pending) == 10
            for path in (quiet_path, loud_path):
                await client.delete(path)
            assert not app.webhooks.pending
    finally:
        await app.webhooks.aclose()
