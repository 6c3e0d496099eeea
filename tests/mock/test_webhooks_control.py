"""The webhook operations of the control plane, in-process: registration's bounds and refusals, the
listing and showing of endpoints, and the log's and the pending queue's bounds."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from incident_contract.document import load_control_spec, load_spec
from incident_contract.webhooks import events
from incident_mock.app import create_app
from incident_mock.domain.clock import ManualClock
from incident_mock.kit.webhooks import WebhookSettings
from incident_mock.testing.receiver import WebhookReceiver
from tests.mock.conftest import FULL, incident_body

BASE = "/_mock/sandboxes/default/webhooks"
LOOPBACK = "http://127.0.0.1:9/hooks"


@pytest.fixture(scope="module")
def shared_app() -> Any:
    clock = ManualClock(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC))
    return create_app(validate_responses=True, clock=clock)


@pytest.fixture
async def app_client(
    request: pytest.FixtureRequest, shared_app: Any
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    """The mock in-process: the module's, cleaned, or one with the webhook settings the test names (as
    `app_client` parameters); every delivery closed after the test."""
    if hasattr(request, "param"):
        clock = ManualClock(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC))
        app = create_app(validate_responses=True, webhooks=WebhookSettings(**request.param), clock=clock)
    else:
        app = shared_app
        for sandbox in app.sandboxes:
            sandbox.webhooks.close()
            if sandbox is not app.holder:
                app.sandboxes.delete(sandbox.id)
        app.sandboxes.reset("default")
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as c:
            yield app, c
    finally:
        await app.webhooks.aclose()


def error_message(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["message"])


def test_the_control_planes_event_types_are_the_contracts() -> None:
    enum = load_control_spec()["components"]["schemas"]["WebhookEventType"]["enum"]
    assert enum == list(events(load_spec()))


async def test_register_show_list_delete(app_client: tuple[Any, httpx.AsyncClient]) -> None:
    _, client = app_client
    made = await client.post(
        BASE, json={"url": LOOPBACK, "event_types": ["private_incident.incident_updated_v2"]}
    )
    assert made.status_code == 201, made.text
    webhook = made.json()["webhook"]
    assert webhook["id"].startswith("ep_") and webhook["secret"].startswith("whsec_")
    assert webhook["event_types"] == ["private_incident.incident_updated_v2"]
    assert (webhook["time_scale"], webhook["out_of_order"], webhook["messages"]) == (0.001, False, 0)
    everything = (await client.post(BASE, json={"url": "http://localhost:9/"})).json()["webhook"]
    assert everything["event_types"] == list(events(load_spec()))
    shown = await client.get(f"{BASE}/{webhook['id']}")
    assert shown.json()["webhook"] == webhook
    listed = (await client.get(BASE)).json()
    assert [w["id"] for w in listed["webhooks"]] == [webhook["id"], everything["id"]]
    assert listed["max_webhooks"] == 20
    assert (await client.delete(f"{BASE}/{webhook['id']}")).status_code == 204
    assert (await client.get(f"{BASE}/{webhook['id']}")).status_code == 404
    assert (await client.get(f"{BASE}/{webhook['id']}/messages")).status_code == 404
    assert (await client.delete(f"{BASE}/{webhook['id']}")).status_code == 404
    assert (await client.get("/_mock/sandboxes/sbx_nope/webhooks")).status_code == 404


async def test_a_given_secret_is_kept_and_a_bad_one_refused(
    app_client: tuple[Any, httpx.AsyncClient],
) -> None:
    _, client = app_client
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    made = await client.post(BASE, json={"url": LOOPBACK, "secret": secret})
    assert made.json()["webhook"]["secret"] == secret
    short = await client.post(BASE, json={"url": LOOPBACK, "secret": "whsec_" + "QUJD" * 8})  # 24 bytes: ok
    assert short.status_code == 201
    for bad in ("whsec_" + "QUJD" * 6 + "QQ==", "whsec_" + "A" * 33, "nope_" + "QUJD" * 10):
        answer = await client.post(BASE, json={"url": LOOPBACK, "secret": bad})
        assert answer.status_code == 422, bad
        assert answer.json()["errors"][0]["source"]["field"] == "secret"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hooks",
        "https://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://[2001:db8::1]:8080/",
        "http://localhost.example.com/",
        "http://127.0.0.1.nip.io/",
        "http://127.0.0.1\\@example.com/",  # userinfo tricks: the host a sender would reach is checked
        "http://[::ffff:127.0.0.1]/",
    ],
)
async def test_a_target_beyond_loopback_is_refused_naming_the_option(
    app_client: tuple[Any, httpx.AsyncClient], url: str
) -> None:
    _, client = app_client
    answer = await client.post(BASE, json={"url": url})
    assert answer.status_code == 422
    assert "--webhook-allow-remote" in error_message(answer)
    assert answer.json()["type"] == "validation_error"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:1/", "http://127.8.9.10/x", "http://[::1]:9/", "HTTPS://LOCALHOST/"]
)
async def test_loopback_targets_are_accepted(app_client: tuple[Any, httpx.AsyncClient], url: str) -> None:
    _, client = app_client
    assert (await client.post(BASE, json={"url": url})).status_code == 201


@pytest.mark.parametrize("app_client", [{"allow_remote": True}], indirect=True)
async def test_the_remote_option_lets_any_host_in(app_client: tuple[Any, httpx.AsyncClient]) -> None:
    _, client = app_client
    assert (await client.post(BASE, json={"url": "https://hooks.example.com/x"})).status_code == 201


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"url": "ftp://127.0.0.1/"},
        {"url": "http://127.0.0.1:99999/"},
        {"url": "http://127.0.0.1/" + "a" * 2100},
        {"url": LOOPBACK, "event_types": []},
        {"url": LOOPBACK, "event_types": ["public_incident.incident_deleted_v2"]},
        {"url": LOOPBACK, "event_types": ["public_incident.incident_created_v2"] * 2},
        {"url": LOOPBACK, "time_scale": 0},
        {"url": LOOPBACK, "time_scale": 2},
        {"url": LOOPBACK, "attempt_timeout_seconds": 0},
        {"url": LOOPBACK, "attempt_timeout_seconds": 3600},
        {"url": LOOPBACK, "out_of_order": "yes"},
        {"url": LOOPBACK, "colour": "red"},
    ],
)
async def test_bad_registrations_are_422(app_client: tuple[Any, httpx.AsyncClient], body: Any) -> None:
    _, client = app_client
    answer = await client.post(BASE, json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["type"] == "validation_error"


@pytest.mark.parametrize("app_client", [{"max_endpoints": 2}], indirect=True)
async def test_endpoints_per_sandbox_are_capped(app_client: tuple[Any, httpx.AsyncClient]) -> None:
    _, client = app_client
    for _ in range(2):
        assert (await client.post(BASE, json={"url": LOOPBACK})).status_code == 201
    over = await client.post(BASE, json={"url": LOOPBACK})
    assert over.status_code == 422
    assert over.json()["errors"][0]["code"] == "capacity_reached"
    assert "--webhook-max-endpoints" in error_message(over)
    other = (await client.post("/_mock/sandboxes")).json()["sandbox"]["id"]
    assert (
        await client.post(f"/_mock/sandboxes/{other}/webhooks", json={"url": LOOPBACK})
    ).status_code == 201


@pytest.mark.parametrize("app_client", [{"log_entries": 3}], indirect=True)
async def test_the_delivery_log_keeps_its_newest_entries_and_counts_the_dropped(
    app_client: tuple[Any, httpx.AsyncClient],
) -> None:
    _, client = app_client
    with WebhookReceiver() as receiver:
        webhook = (await client.post(BASE, json={"url": receiver.url})).json()["webhook"]
        receiver.secret = webhook["secret"]
        for n in range(5):
            assert (
                await client.post("/v2/incidents", headers=FULL, json=incident_body(f"log-{n}"))
            ).status_code == 200
        listed = (await client.get(f"{BASE}/{webhook['id']}/messages")).json()
        assert len(listed["messages"]) == 3 and listed["dropped"] == 2
        names = [m["payload"]["public_incident.incident_created_v2"]["reference"] for m in listed["messages"]]
        assert names == ["INC-4", "INC-5", "INC-6"]  # the fixtures hold INC-1
        assert (await client.get(f"{BASE}/{webhook['id']}/messages", params={"limit": 1})).json()["messages"][
            0
        ]["id"] == listed["messages"][0]["id"]
        assert (await client.get(f"{BASE}/{webhook['id']}")).json()["webhook"]["dropped"] == 2


@pytest.mark.parametrize("app_client", [{"max_pending": 2}], indirect=True)
async def test_past_the_pending_bound_the_oldest_message_is_given_up(
    app_client: tuple[Any, httpx.AsyncClient],
) -> None:
    app, client = app_client
    webhook = (await client.post(BASE, json={"url": "http://127.0.0.1:9/", "time_scale": 1})).json()[
        "webhook"
    ]
    for n in range(3):
        await client.post("/v2/incidents", headers=FULL, json=incident_body(f"pending-{n}"))
    messages = (await client.get(f"{BASE}/{webhook['id']}/messages")).json()["messages"]
    assert [m["state"] for m in messages] == ["failed", "pending", "pending"]
    assert "--webhook-max-pending" in messages[0]["error"]
    assert app.webhooks.pending == 2 and app.webhooks.given_up == 1


async def test_message_times_come_from_the_sandbox_clock_and_a_frozen_clock_stalls_nothing(
    app_client: tuple[Any, httpx.AsyncClient],
) -> None:
    _, client = app_client
    with WebhookReceiver() as receiver:
        webhook = (await client.post(BASE, json={"url": receiver.url, "time_scale": 0.0001})).json()[
            "webhook"
        ]
        receiver.secret = webhook["secret"]
        receiver.fail_next(2)
        made = (await client.post("/v2/incidents", headers=FULL, json=incident_body("frozen"))).json()[
            "incident"
        ]
        assert made["created_at"] == "2026-03-01T12:00:00.000000Z"  # the clock stands still
        # the retries run on real time all the same (the wait for the receiver is in its own thread)
        got = await asyncio.to_thread(receiver.wait_for, count=3, timeout=15)
        assert [d.status for d in got] == [500, 500, 204]
        payload = got[-1].payload["public_incident.incident_created_v2"]
        assert payload["created_at"] == payload["updated_at"] == "2026-03-01T12:00:00.000000Z"
        [message] = (await client.get(f"{BASE}/{webhook['id']}/messages")).json()["messages"]
        assert message["created_at"] == "2026-03-01T12:00:00.000000Z"
        sent = dt.datetime.fromisoformat(message["attempts"][0]["timestamp"])
        assert abs((sent - dt.datetime.now(dt.UTC)).total_seconds()) < 60  # attempts: real time


async def test_redeliver_of_an_unknown_message_is_404(app_client: tuple[Any, httpx.AsyncClient]) -> None:
    _, client = app_client
    webhook = (await client.post(BASE, json={"url": LOOPBACK})).json()["webhook"]
    answer = await client.post(f"{BASE}/{webhook['id']}/messages/msg_nope/actions/redeliver")
    assert answer.status_code == 404
    assert "msg_nope" in error_message(answer)


async def _seeded_webhook_run() -> tuple[dict[str, Any], list[str]]:
    """A mock seeded 11, its clock frozen: register an endpoint (nothing listens), create an incident;
    the endpoint as shown and the ids of its messages."""
    clock = ManualClock(dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC))
    app = create_app(seed=11, clock=clock)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as c:
            registered = await c.post(BASE, json={"url": LOOPBACK})
            assert registered.status_code == 201, registered.text
            endpoint = registered.json()["webhook"]
            created = await c.post("/v2/incidents", json=incident_body("seeded-1"), headers=FULL)
            assert created.status_code == 200, created.text
            log = await c.get(f"{BASE}/{endpoint['id']}/messages")
            return endpoint, [m["id"] for m in log.json()["messages"]]
    finally:
        await app.webhooks.aclose()


async def test_a_seeded_mock_gives_its_webhook_endpoints_and_messages_the_same_ids_not_secrets() -> None:
    first, second = await _seeded_webhook_run(), await _seeded_webhook_run()
    (endpoint, messages), (again, messages_again) = first, second
    assert messages and messages == messages_again
    assert endpoint["id"] == again["id"]
    assert endpoint["secret"] != again["secret"]  # a generated secret comes from the OS, never the seed
    assert endpoint["created_at"].startswith("2026-03-01T12:00:00")  # the sandbox's clock, not real time
