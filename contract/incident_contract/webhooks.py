"""The contract's webhooks: the events of `x-webhooks` and the delivery promises of `x-webhook-delivery`.

OpenAPI 3.0 has no place for webhooks, and Connexion 3.3 cannot load 3.1's `webhooks`, so the contract
describes each event under the top-level `x-webhooks` map, one pseudo-path per event
(`/x-webhooks/public_incident.incident_created_v2`) whose `post` request body is the message; and how
messages are signed, retried and ordered under `x-webhook-delivery`. The mock sends what this module
reads, the conformance suite checks deliveries against it, and the docs render it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jsonschema import Draft4Validator

from incident_contract.document import Spec
from incident_contract.refs import ref_name, resolve, validator

__all__ = ["PREFIX", "DeliveryRules", "WebhookEvent", "delivery", "events", "payload_validator"]

PREFIX = "/x-webhooks/"


@dataclass(frozen=True)
class WebhookEvent:
    """One event type: `public_incident.incident_created_v2`, its message schema and its description."""

    name: str  # the event type, as sent in `event_type`
    schema: str  # the component schema of the whole message
    payload_schema: str  # the component schema of the payload, under the event's own key
    summary: str
    description: str
    raw: dict[str, Any]  # the pseudo-operation, as written

    @property
    def private(self) -> bool:
        """A private event names its incident by id only."""
        return self.name.startswith("private_")


def events(spec: Spec) -> dict[str, WebhookEvent]:
    """Event type -> event, in the document's order."""
    found: dict[str, WebhookEvent] = {}
    for path, item in spec.get("x-webhooks", {}).items():
        name = path.removeprefix(PREFIX)
        operation = item["post"]
        schema = ref_name(operation["requestBody"]["content"]["application/json"]["schema"]["$ref"])
        message = resolve(spec, {"$ref": f"#/components/schemas/{schema}"})
        found[name] = WebhookEvent(
            name=name,
            schema=schema,
            payload_schema=ref_name(message["properties"][name]["$ref"]),
            summary=str(operation.get("summary", "")),
            description=str(operation.get("description", "")),
            raw=operation,
        )
    return found


def payload_validator(spec: Spec, event: str) -> Draft4Validator:
    """A validator for a whole message of `event` (`{"event_type": event, event: ...}`)."""
    return validator(spec, events(spec)[event].schema)


@dataclass(frozen=True)
class DeliveryRules:
    """`x-webhook-delivery`: how messages are signed and retried."""

    description: str
    signature_scheme: str  # the version tag before the comma: `v1`
    message_id_prefix: str
    secret_prefix: str
    attempt_timeout_seconds: float
    retry_schedule_seconds: tuple[float, ...]  # the wait before each retry, in turn

    @property
    def attempts(self) -> int:
        """The first attempt and every retry."""
        return 1 + len(self.retry_schedule_seconds)


def delivery(spec: Spec) -> DeliveryRules:
    raw = spec["x-webhook-delivery"]
    return DeliveryRules(
        description=str(raw["description"]),
        signature_scheme=str(raw["signature_scheme"]),
        message_id_prefix=str(raw["message_id_prefix"]),
        secret_prefix=str(raw["secret_prefix"]),
        attempt_timeout_seconds=float(raw["attempt_timeout_seconds"]),
        retry_schedule_seconds=tuple(float(s) for s in raw["retry_schedule_seconds"]),
    )
