"""The webhook defect catalogue: for every WEBHOOK rule, one way of delivering that the rule must catch.

Each defect is a `Proxy` between the sender and the receiver of `incident-conformance webhooks`: it
changes only what travels to the receiver (re-signed with the endpoint's secret unless the defect is
the signature), never the sender. `breaks` is the rule that must fail, and no other may.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from tests.conformance.webhook_wire import Message, Proxy, new_id, new_secret

FULL = {"Authorization": "Bearer mock-key-full"}


class WrongSecret(Proxy):
    """Every delivery is signed with a key other than the endpoint's secret."""

    def signing_secret(self) -> str:
        return new_secret()


class IncidentLosesAField(Proxy):
    """Public events carry the incident without its `reference` (renamed `ref`)."""

    def alter(self, message: Message) -> list[Message]:
        data = message.json()
        payload = data.get(message.event)
        incident = payload.get("incident", payload) if isinstance(payload, dict) else None
        if message.event.startswith("public_") and isinstance(incident, dict) and "reference" in incident:
            incident["ref"] = incident.pop("reference")
            return [message.with_json(data)]
        return [message]


class PrivateInFull(Proxy):
    """Private events carry the whole incident instead of its id (read from the API with a full key)."""

    api = ""

    def alter(self, message: Message) -> list[Message]:
        data = message.json()
        payload = data.get(message.event)
        if message.event.startswith("private_") and isinstance(payload, dict):
            answer = httpx.get(f"{self.api}/v2/incidents/{payload['id']}", headers=FULL)
            data[message.event] = answer.json()["incident"]
            return [message.with_json(data)]
        return [message]


class DropsAnUpdate(Proxy):
    """The private incident's updated event is acknowledged to the sender but never delivered."""

    def alter(self, message: Message) -> list[Message]:
        return [] if message.event == "private_incident.incident_updated_v2" else [message]


class DuplicatesUnderANewId(Proxy):
    """The private incident's created event is delivered twice, the second time under a new webhook-id."""

    def alter(self, message: Message) -> list[Message]:
        if message.event == "private_incident.incident_created_v2":
            return [message, Message(new_id(), message.body)]
        return [message]


class RetryUnderANewId(Proxy):
    """A retry of a message the receiver refused is delivered under a new webhook-id."""

    def alter(self, message: Message) -> list[Message]:
        if message.webhook_id in self.refused:
            return [Message(new_id(), message.body)]
        return [message]


@dataclass(frozen=True)
class WebhookDefect:
    name: str
    proxy: type[Proxy]
    breaks: str


CATALOGUE = (
    WebhookDefect("wrong_secret", WrongSecret, "WEBHOOK-1"),
    WebhookDefect("incident_loses_a_field", IncidentLosesAField, "WEBHOOK-2"),
    WebhookDefect("private_in_full", PrivateInFull, "WEBHOOK-3"),
    WebhookDefect("drops_an_update", DropsAnUpdate, "WEBHOOK-4"),
    WebhookDefect("duplicates_under_a_new_id", DuplicatesUnderANewId, "WEBHOOK-4"),
    WebhookDefect("retry_under_a_new_id", RetryUnderANewId, "WEBHOOK-5"),
)
