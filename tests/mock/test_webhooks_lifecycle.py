"""Where deliveries run and how they end: lazily on the loop that serves the request (uvicorn or an
in-process ASGI client), cancelled by the app's lifespan at shutdown or by `app.webhooks.aclose()`."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from incident_mock.app import create_app
from incident_mock.testing.receiver import WebhookReceiver
from tests.mock.conftest import FULL, incident_body
from tests.mock.webhook_helpers import eventually, verified_by_both
from tests.servers import serve

BASE = "/_mock/sandboxes/default/webhooks"


def retry_waiting(app: Any) -> bool:
    return any(e.timers for s in app.webhooks.shares for e in s.endpoints.values())


async def test_in_process_deliveries_start_lazily_and_aclose_ends_them() -> None:
    app = create_app()
    with WebhookReceiver() as receiver, WebhookReceiver() as failing:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://mock"
        ) as client:
            webhook = (await client.post(BASE, json={"url": receiver.url})).json()["webhook"]
            receiver.secret = webhook["secret"]
            stuck = (await client.post(BASE, json={"url": failing.url, "time_scale": 1})).json()["webhook"]
            failing.secret = stuck["secret"]
            failing.fail_next(1)
            await client.post("/v2/incidents", headers=FULL, json=incident_body("lazy"))
            [got] = await asyncio.to_thread(receiver.wait_for)
            verified_by_both(webhook["secret"], got)
            await asyncio.to_thread(failing.wait_for)  # its retry is 5 s away: a timer waits
            await asyncio.to_thread(eventually, lambda: retry_waiting(app), what="a retry waiting")
        await app.webhooks.aclose()
        assert not app.webhooks.tasks and not app.webhooks.pending and app.webhooks._client is None
        assert not retry_waiting(app)


def test_shutting_uvicorn_down_cancels_pending_retries_cleanly() -> None:
    app = create_app()
    with WebhookReceiver() as receiver:
        with serve(app) as url:
            webhook = httpx.post(f"{url}{BASE}", json={"url": receiver.url, "time_scale": 1}).json()[
                "webhook"
            ]
            receiver.secret = webhook["secret"]
            receiver.fail_next(1)
            assert (
                httpx.post(f"{url}/v2/incidents", headers=FULL, json=incident_body("bye")).status_code == 200
            )
            receiver.wait_for()
            eventually(lambda: retry_waiting(app), what="a retry waiting")
        # the lifespan's shutdown ran: nothing left running, the client closed (and -W error saw no warning)
        assert not app.webhooks.tasks and not app.webhooks.pending and app.webhooks._client is None


async def test_the_lifespan_shutdown_closes_the_deliveries() -> None:
    app = create_app()
    hub = app.webhooks
    messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[str] = []
    await messages.put({"type": "lifespan.startup"})

    async def receive() -> dict[str, Any]:
        return await messages.get()

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"])
        if message["type"] == "lifespan.startup.complete":
            await messages.put({"type": "lifespan.shutdown"})

    closed = asyncio.Event()
    hub.tasks.add(asyncio.ensure_future(closed.wait()))  # stands for a delivery under way
    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert not hub.tasks
