"""The testing kit's client side: the Python API over the control plane, and a webhook receiver.

It imports nothing of the server but the contract core; `IncidentMock()` without a URL starts a mock in
this process through `incident_mock.testing.local`, the one module here that reaches the server side.

The API is written once, over `httpx.AsyncClient`, in `aio.py`; `sync.py` (`IncidentMock`, `Sandbox`, ...)
is generated from it by `make sync` (unasync), and `common.py` holds what the two share, free of I/O.
"""

from incident_mock.testing.aio import (
    AsyncClockControl,
    AsyncFault,
    AsyncIncidentMock,
    AsyncSandbox,
    AsyncWebhookEndpoint,
    AsyncWebhooks,
    SandboxCreation,
)
from incident_mock.testing.common import ControlPlaneError, JournalEntry, Keys, WebhookMessage
from incident_mock.testing.receiver import Delivery, WebhookReceiver
from incident_mock.testing.sync import ClockControl, Fault, IncidentMock, Sandbox, WebhookEndpoint, Webhooks

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
