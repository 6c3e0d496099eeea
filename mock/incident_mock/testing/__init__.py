"""The testing kit's client side: the Python API over the control plane, and a webhook receiver.

It imports nothing of the server but the contract core; `IncidentMock()` without a URL starts a mock in
this process through `incident_mock.testing.local`, the one module here that reaches the server side.
"""

from incident_mock.testing.client import (
    AsyncClockControl,
    AsyncFault,
    AsyncIncidentMock,
    AsyncSandbox,
    ClockControl,
    ControlPlaneError,
    Fault,
    IncidentMock,
    JournalEntry,
    Keys,
    Sandbox,
    SandboxCreation,
)
from incident_mock.testing.receiver import Delivery, WebhookReceiver
from incident_mock.testing.webhook_api import (
    AsyncWebhookEndpoint,
    AsyncWebhooks,
    WebhookEndpoint,
    WebhookMessage,
    Webhooks,
)

__all__ = [
    "AsyncClockControl",
    "AsyncFault",
    "AsyncIncidentMock",
    "AsyncSandbox",
    "AsyncWebhookEndpoint",
    "AsyncWebhooks",
    "ClockControl",
    "ControlPlaneError",
    "Delivery",
    "Fault",
    "IncidentMock",
    "JournalEntry",
    "Keys",
    "Sandbox",
    "SandboxCreation",
    "WebhookEndpoint",
    "WebhookMessage",
    "WebhookReceiver",
    "Webhooks",
]
