"""Webhooks from the mock: endpoints registered per sandbox, the events incident changes emit, and their
signed, retried delivery (the contract's `x-webhooks` and `x-webhook-delivery`)."""

from __future__ import annotations

from incident_mock.domain.settings import WebhookSettings
from incident_mock.kit.webhooks.delivery import Hub
from incident_mock.kit.webhooks.endpoint import Endpoint
from incident_mock.kit.webhooks.messages import Message, shown_message
from incident_mock.kit.webhooks.registry import SandboxWebhooks, shown_endpoint

__all__ = [
    "Endpoint",
    "Hub",
    "Message",
    "SandboxWebhooks",
    "WebhookSettings",
    "shown_endpoint",
    "shown_message",
]
