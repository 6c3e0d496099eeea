"""Webhook plumbing for the receiver-mode tests: signing, a stand-in sender, and a tampering proxy.

`Sender` is a `Wire` in front of the real mock that sends, for every create and edit the mock answers,
the events the contract promises, signed the Standard Webhooks way and retried on a non-2xx answer (a
stand-in for a deployment's webhooks, built only from what travels on the wire). `Proxy` sits between a
sender and the receiver: it knows the endpoint's secret and re-signs what it forwards, so a defect can
alter, drop, duplicate or rename a message and still be signed (or sign it wrongly on purpose).
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

from incident_contract.document import load_spec
from incident_contract.operations import operations
from incident_contract.webhooks import delivery, events
from tests.conformance.defects import route
from tests.conformance.wire import Answer, Request, Wire

SPEC = load_spec()
OPS = operations(SPEC)
CREATE, EDIT = OPS["Incidents V2#Create"], OPS["Incidents V2#Edit"]
EVENTS = events(SPEC)
PREFIX = delivery(SPEC).message_id_prefix
Json = dict[str, Any]


def new_secret() -> str:
    return delivery(SPEC).secret_prefix + base64.b64encode(os.urandom(24)).decode()


def new_id() -> str:
    return PREFIX + os.urandom(12).hex()


def signed(secret: str, webhook_id: str, body: bytes) -> dict[str, str]:
    """The headers of a delivery of `body` under `webhook_id`, signed now with `secret`."""
    now = datetime.now(tz=UTC)
    signature = Webhook(secret).sign(webhook_id, now, body.decode())
    return {"content-type": "application/json", "webhook-id": webhook_id,
            "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}  # fmt: skip


def event_name(visibility: str, change: str) -> str:
    return f"{visibility}_incident.incident_{change}_v2"


def message(incident: Json, change: str, previous: Json | None = None) -> bytes:
    kind = event_name(str(incident.get("visibility")), change)
    if kind.startswith("private_"):
        payload: Json = {"id": incident["id"]}
    elif change == "status_updated":
        payload = {
            "incident": incident,
            "previous_status": previous,
            "new_status": incident["incident_status"],
        }
    else:
        payload = incident
    assert kind in EVENTS
    return json.dumps({"event_type": kind, kind: payload}).encode()


class Sender(Wire):
    """Sends, for each create and edit the mock answers, the promised events to `url` (with retries)."""

    def __init__(self, app: Any, url: str, secret: str, delays: tuple[float, ...] = (0.3, 0.6, 1.2)) -> None:
        super().__init__(app)
        self.url, self.secret, self.delays = url, secret, delays
        self.statuses: dict[str, Json] = {}
        self.attempts: list[tuple[str, int]] = []  # (webhook-id, answer status)

    def answer(self, request: Request, answer: Answer) -> Answer:
        data = answer.json()
        incident = data.get("incident") if isinstance(data, dict) else None
        if not isinstance(incident, dict) or not 200 <= answer.status < 300:
            return answer
        created = route(request, CREATE) is not None and answer.header("idempotent-replayed") != "true"
        edited = route(request, EDIT) is not None
        if not created and not edited:
            return answer
        previous = self.statuses.get(incident["id"])
        self.statuses[incident["id"]] = incident["incident_status"]
        bodies = [message(incident, "created" if created else "updated")]
        moved = edited and previous is not None and previous.get("id") != incident["incident_status"]["id"]
        if moved and incident.get("visibility") == "public":
            bodies.append(message(incident, "status_updated", previous))
        for body in bodies:
            threading.Thread(target=self.deliver, args=(new_id(), body), daemon=True).start()
        return answer

    def deliver(self, webhook_id: str, body: bytes) -> None:
        for wait in (0.0, *self.delays):
            time.sleep(wait)  # the sender's retry schedule (not a test's wait)
            try:
                status = httpx.post(
                    self.url, content=body, headers=signed(self.secret, webhook_id, body)
                ).status_code
            except httpx.HTTPError:
                status = 0
            self.attempts.append((webhook_id, status))
            if 200 <= status < 300:
                return


@dataclass
class Message:
    webhook_id: str
    body: bytes

    def json(self) -> Json:
        data = json.loads(self.body)
        assert isinstance(data, dict)
        return data

    @property
    def event(self) -> str:
        return str(self.json().get("event_type"))

    def with_json(self, data: Json) -> Message:
        return Message(self.webhook_id, json.dumps(data).encode())


class Proxy:
    """An ASGI app that forwards each delivery to `target`, re-signed; a defect overrides `alter`."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.target = ""
        self.refused: set[str] = set()  # webhook-ids the receiver answered non-2xx

    def alter(self, message: Message) -> list[Message]:
        """The messages to forward in place of one: none drops it, two duplicate it."""
        return [message]

    def signing_secret(self) -> str:
        return self.secret

    async def forward(self, message: Message) -> int:
        headers = signed(self.signing_secret(), message.webhook_id, message.body)
        async with httpx.AsyncClient() as client:
            answer = await client.post(self.target, content=message.body, headers=headers)
        if not 200 <= answer.status_code < 300:
            self.refused.add(message.webhook_id)
        return answer.status_code

    async def __call__(self, scope: Json, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            event = await receive()
            chunks.append(event.get("body", b""))
            if not event.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        original = Message(headers.get("webhook-id", ""), b"".join(chunks))
        statuses = [await self.forward(m) for m in self.alter(original)]
        status = statuses[0] if statuses else 204
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})
