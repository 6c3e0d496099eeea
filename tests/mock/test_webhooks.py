"""Webhooks end to end over real sockets: the official SDK drives a sandbox of the mock behind uvicorn, and
a `WebhookReceiver` on a loopback port receives what the mock sends. Every delivery is verified with the
`standardwebhooks` and the `svix` packages, and every payload with the contract's schema for its event."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from incident_io import AuthenticatedClient
from incident_io.api.incidents_v2 import incidents_v2_create, incidents_v2_edit
from incident_io.models import (
    IncidentEditPayloadV2,
    IncidentsCreatePayloadV2,
    IncidentsCreatePayloadV2Mode,
    IncidentsCreatePayloadV2Visibility,
    IncidentsEditPayloadV2,
    IncidentV2,
)

from incident_contract.document import load_spec
from incident_contract.webhooks import delivery, events, payload_validator
from incident_mock.app import create_app
from incident_mock.kit.webhooks import WebhookSettings
from incident_mock.testing import IncidentMock, Sandbox, WebhookReceiver
from tests.mock.seed import MAJOR
from tests.mock.webhook_helpers import eventually, verified_by_both
from tests.servers import serve

SPEC = load_spec()
DOCUMENTING = "01JGZ0STAT00000000DEBR1EF0"  # learning: a move triage allows
INVESTIGATING = "01JGZ0STAT00000000000NVEST"  # live: no move from learning
FAST = 0.0001  # the retry schedule compressed: 5 s -> 0.5 ms, 5 min -> 30 ms, 30 min -> 180 ms


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Any, str]]:
    """The mock behind uvicorn, with its app at hand (to look at the delivery engine)."""
    app = create_app(validate_responses=True, webhooks=WebhookSettings(window_seconds=0.5, window_messages=5))
    with serve(app) as url:
        yield app, url


@pytest.fixture
def sandbox(served: tuple[Any, str]) -> Iterator[Sandbox]:
    with IncidentMock.connect(served[1]) as mock, mock.sandbox() as made:
        yield made


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as made:
        yield made


@pytest.fixture
def sdk(sandbox: Sandbox) -> Iterator[AuthenticatedClient]:
    with AuthenticatedClient(
        base_url=sandbox.base_url, token=sandbox.keys.full, raise_on_unexpected_status=True
    ) as client:
        yield client


def create(sdk: AuthenticatedClient, key: str, private: bool = False, **extra: Any) -> IncidentV2:
    visibility = (
        IncidentsCreatePayloadV2Visibility.PRIVATE if private else IncidentsCreatePayloadV2Visibility.PUBLIC
    )
    body = IncidentsCreatePayloadV2(idempotency_key=key, visibility=visibility, severity_id=MAJOR, **extra)
    result = incidents_v2_create.sync(client=sdk, body=body)
    assert result is not None
    return result.incident


def edit(sdk: AuthenticatedClient, incident_id: str, **changes: Any) -> IncidentV2:
    body = IncidentsEditPayloadV2(incident=IncidentEditPayloadV2(**changes), notify_incident_channel=False)
    result = incidents_v2_edit.sync(incident_id, client=sdk, body=body)
    assert result is not None
    return result.incident


def test_sdk_creates_and_edits_send_exactly_the_expected_events(
    sandbox: Sandbox, sdk: AuthenticatedClient, receiver: WebhookReceiver
) -> None:
    endpoint = sandbox.webhooks.register(receiver.url)
    receiver.secret = endpoint.secret
    public = create(sdk, "wh-public", name="Checkout down")
    private = create(sdk, "wh-private", private=True, mode=IncidentsCreatePayloadV2Mode.TEST)
    replayed = create(sdk, "wh-public", name="Checkout down")  # an idempotent replay: sends nothing
    assert replayed.id == public.id
    assert public.incident_status.id != DOCUMENTING
    edit(sdk, public.id, incident_status_id=DOCUMENTING)
    edit(sdk, private.id, name="Still private", incident_status_id=DOCUMENTING)
    edit(sdk, public.id, summary="No status change this time")
    refused = incidents_v2_edit.sync_detailed(  # a refused edit (learning -> live is no allowed move)
        public.id,
        client=sdk,
        body=IncidentsEditPayloadV2(
            incident=IncidentEditPayloadV2(incident_status_id=INVESTIGATING), notify_incident_channel=False
        ),
    )
    assert refused.status_code == 422

    expected = [
        ("public_incident.incident_created_v2", public.id),
        ("private_incident.incident_created_v2", private.id),
        ("public_incident.incident_updated_v2", public.id),
        ("public_incident.incident_status_updated_v2", public.id),
        ("private_incident.incident_updated_v2", private.id),
        ("public_incident.incident_updated_v2", public.id),
    ]
    got = receiver.wait_for(count=len(expected), timeout=15)
    # every message the sandbox emitted is in the log: exactly these, each delivered once
    logged = eventually(
        lambda: (found := endpoint.messages()) and all(m.state == "delivered" for m in found) and found
    )
    assert len(logged) == len(expected)
    assert len(receiver.deliveries) == len(expected) and not receiver.rejected

    seen = []
    for delivery_ in got:
        message = verified_by_both(endpoint.secret, delivery_)
        event_type = message["event_type"]
        assert not list(payload_validator(SPEC, event_type).iter_errors(message)), event_type
        body = message[event_type]
        if events(SPEC)[event_type].private:
            assert body == {"id": private.id}
            seen.append((event_type, body["id"]))
        elif event_type.endswith("status_updated_v2"):
            assert body["previous_status"]["id"] == public.incident_status.id
            assert body["new_status"]["id"] == body["incident"]["incident_status"]["id"] == DOCUMENTING
            seen.append((event_type, body["incident"]["id"]))
        else:
            seen.append((event_type, body["id"]))
        assert delivery_.headers["content-type"] == "application/json"
        assert abs(int(delivery_.timestamp) - time.time()) < 60, "webhook-timestamp is the real time"
    assert sorted(seen) == sorted(expected)
    assert {d.webhook_id for d in got} == {m.id for m in logged}
    assert all(m.id.startswith(delivery(SPEC).message_id_prefix) for m in logged)
    created = next(d for d in got if d.event_type == "public_incident.incident_created_v2")
    assert created.payload["public_incident.incident_created_v2"]["name"] == "Checkout down"


def test_a_receiver_failing_twice_gets_the_message_three_times_under_one_webhook_id(
    sandbox: Sandbox, sdk: AuthenticatedClient, receiver: WebhookReceiver
) -> None:
    endpoint = sandbox.webhooks.register(
        receiver.url, event_types=["public_incident.incident_created_v2"], time_scale=FAST
    )
    receiver.secret = endpoint.secret
    receiver.fail_next(2, status=500)
    create(sdk, "wh-retry")
    got = receiver.wait_for(count=3, timeout=15)
    assert [d.status for d in got] == [500, 500, 204]
    assert len({d.webhook_id for d in got}) == 1
    assert len({d.body for d in got}) == 1, "every retry sends the same bytes"
    for d in got:
        verified_by_both(endpoint.secret, d)
    [message] = eventually(lambda: [m for m in endpoint.messages() if m.state == "delivered"] or None)
    assert message.id == got[0].webhook_id
    assert [(a["attempt"], a["status"], a["trigger"]) for a in message.attempts] == [
        (1, 500, "schedule"),
        (2, 500, "schedule"),
        (3, 204, "schedule"),
    ]
    assert message.next_attempt_at is None and message.error is None


def test_a_timeout_and_a_refused_connection_are_retried_and_logged(
    sandbox: Sandbox, sdk: AuthenticatedClient, receiver: WebhookReceiver
) -> None:
    closed = WebhookReceiver()
    closed.close()  # a port nothing listens on
    refused = sandbox.webhooks.register(closed.url, time_scale=FAST)
    slow = sandbox.webhooks.register(receiver.url, time_scale=FAST, attempt_timeout=0.2)
    receiver.secret = slow.secret
    with receiver.hold() as held:
        create(sdk, "wh-timeout", private=True)
        assert held.arrived.wait(10)
        [message] = eventually(lambda: [m for m in slow.messages() if m.attempts] or None)
    first = message.attempts[0]
    assert first["status"] is None and "0.2 s" in first["error"]
    receiver.wait_for(count=2, timeout=15)
    eventually(lambda: [m for m in slow.messages() if m.state == "delivered"] or None)
    [failing] = eventually(lambda: [m for m in refused.messages() if len(m.attempts) >= 2] or None)
    assert failing.state == "pending" and all(a["status"] is None and a["error"] for a in failing.attempts)


def test_redeliver_sends_the_same_message_again_with_a_fresh_signature(
    sandbox: Sandbox, sdk: AuthenticatedClient, receiver: WebhookReceiver
) -> None:
    endpoint = sandbox.webhooks.register(receiver.url, event_types=["private_incident.incident_created_v2"])
    receiver.secret = endpoint.secret
    create(sdk, "wh-redeliver", private=True)
    [first] = receiver.wait_for()
    [message] = eventually(lambda: [m for m in endpoint.messages() if m.state == "delivered"] or None)
    again = endpoint.redeliver(message.id)
    assert again.id == message.id
    second = receiver.wait_for(count=2)[1]
    assert (second.webhook_id, second.body) == (first.webhook_id, first.body)
    verified_by_both(endpoint.secret, second)
    logged = eventually(lambda: [m for m in endpoint.messages() if len(m.attempts) == 2] or None)
    assert [a["trigger"] for a in logged[0].attempts] == ["schedule", "redeliver"]


def test_deleting_the_endpoint_or_the_sandbox_stops_its_deliveries(
    served: tuple[Any, str], sandbox: Sandbox, sdk: AuthenticatedClient, receiver: WebhookReceiver
) -> None:
    app = served[0]
    endpoint = sandbox.webhooks.register(receiver.url, time_scale=0.01)  # retries at 50 ms, 3 s, 18 s...
    receiver.secret = endpoint.secret
    receiver.fail_next(1000)
    create(sdk, "wh-stop")
    receiver.wait_for(count=2, timeout=15)  # the first attempt and the first retry; the next is seconds away
    mine = app.sandboxes.get(sandbox.id).webhooks.get(endpoint.id)
    assert mine.timers or mine.tasks, "a retry is scheduled or under way"
    endpoint.delete()
    assert not mine.timers and not mine.due and mine.closed
    assert all(ep is not mine for ep in mine.share.pending.values())
    with pytest.raises(Exception, match="404"):
        sandbox.webhooks.get(endpoint.id)

    other = sandbox.webhooks.register(receiver.url, time_scale=0.01)
    create(sdk, "wh-stop-2")
    eventually(lambda: [m for m in other.messages() if m.attempts] or None)
    kept = app.sandboxes.get(sandbox.id).webhooks.get(other.id)
    sandbox.delete()
    assert not kept.tasks and not kept.timers and kept.closed


def test_an_api_request_does_not_wait_for_a_slow_receiver(
    sandbox: Sandbox, sdk: AuthenticatedClient, receiver: WebhookReceiver
) -> None:
    endpoint = sandbox.webhooks.register(receiver.url)
    receiver.secret = endpoint.secret
    with receiver.hold() as held:
        create(sdk, "wh-slow-1")
        assert held.arrived.wait(10), "the delivery reached the receiver"
        # the receiver still holds that delivery: the API answers all the same
        started = time.perf_counter()
        create(sdk, "wh-slow-2")
        answered = httpx.get(
            f"{sandbox.base_url}/v2/incidents", headers={"Authorization": f"Bearer {sandbox.keys.full}"}
        )
        assert answered.status_code == 200
        assert time.perf_counter() - started < 5
        assert receiver.deliveries == [], "nothing has been answered yet"
    receiver.wait_for(count=2, timeout=15)


def test_an_out_of_order_endpoint_never_sends_a_window_in_emitted_order(
    sandbox: Sandbox, sdk: AuthenticatedClient, receiver: WebhookReceiver
) -> None:
    ordered = WebhookReceiver().start()
    try:
        shuffled = sandbox.webhooks.register(
            receiver.url, event_types=["public_incident.incident_created_v2"], out_of_order=True
        )
        plain = sandbox.webhooks.register(ordered.url, event_types=["public_incident.incident_created_v2"])
        receiver.secret, ordered.secret = shuffled.secret, plain.secret
        made = [
            create(sdk, f"wh-order-{n}").id for n in range(5)
        ]  # the window: 5 messages (this module's app)
        got = [d.payload["public_incident.incident_created_v2"]["id"] for d in receiver.wait_for(count=5)]
        assert sorted(got) == sorted(made) and got != made
        plain_got = [
            d.payload["public_incident.incident_created_v2"]["id"] for d in ordered.wait_for(count=5)
        ]
        assert sorted(plain_got) == sorted(made)
    finally:
        ordered.close()


async def test_the_async_api_registers_lists_redelivers_and_deletes(served: tuple[Any, str]) -> None:
    import asyncio

    from incident_mock.testing import AsyncIncidentMock

    with WebhookReceiver() as receiver:
        async with AsyncIncidentMock.connect(served[1]) as mock, mock.sandbox() as sandbox:
            endpoint = await sandbox.webhooks.register(
                receiver.url, event_types=["public_incident.incident_created_v2"]
            )
            receiver.secret = endpoint.secret
            assert [e.id for e in await sandbox.webhooks.list()] == [endpoint.id]
            assert (await sandbox.webhooks.get(endpoint.id)).secret == endpoint.secret
            answer = await mock.client.post(
                "/v2/incidents",
                headers={"Authorization": f"Bearer {sandbox.keys.creator}"},
                json={"idempotency_key": "async", "visibility": "public", "severity_id": MAJOR},
            )
            assert answer.status_code == 200
            [first] = await asyncio.to_thread(receiver.wait_for)
            [message] = await endpoint.messages()
            assert message.id == first.webhook_id
            await endpoint.redeliver(message.id)
            await asyncio.to_thread(receiver.wait_for, count=2)
            await endpoint.delete()
            assert await sandbox.webhooks.list() == []
