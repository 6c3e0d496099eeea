"""Webhooks from the mock: endpoints registered per sandbox, the events incident changes emit, and their
signed, retried delivery (the contract's `x-webhooks` and `x-webhook-delivery`)."""

from __future__ import annotations

from incident_mock.webhooks.delivery import Hub
from incident_mock.webhooks.endpoint import Endpoint
from incident_mock.webhooks.messages import Message, shown_message
from incident_mock.webhooks.registry import SandboxWebhooks, shown_endpoint
from incident_mock.webhooks.settings import WebhookSettings

__all__ = [
    "Endpoint",
    "Hub",
    "Message",
    "SandboxWebhooks",
    "WebhookSettings",
    "shown_endpoint",
    "shown_message",
]
