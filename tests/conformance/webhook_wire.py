"""Webhook plumbing for the receiver-mode tests: signing, and a tampering proxy.

`Proxy` sits between the mock (which delivers to the proxy's URL) and the receiver: it knows the
endpoint's secret and re-signs what it forwards, so a defect can alter, drop, duplicate or rename a
message and still be signed (or sign it wrongly on purpose). It never looks inside the mock.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks import Webhook

from incident_contract.document import load_spec
from incident_contract.webhooks import delivery

SPEC = load_spec()
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
