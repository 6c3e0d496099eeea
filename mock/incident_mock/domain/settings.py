"""Every option of the mock, with its default, in one place.

`MockSettings` is built whole by `incident-mock` (cli.py), by `create_app` and by the Python API
(`IncidentMock(**options)`), and passed whole: to `MockServer`, to `create_app`, to `Sandboxes`. Its
parts group what one layer reads: `Limits` (the store's and the journal's caps, limits.py),
`WebhookSettings` (deliveries), `TransportLimits` (the socket).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from incident_mock.domain.clock import Clock
from incident_mock.domain.limits import DEFAULTS, Limits

__all__ = ["DEFAULT_FIXTURES", "DEFAULT_PORT", "MockSettings", "TransportLimits", "WebhookSettings"]

MIB = 1024 * 1024
DEFAULT_FIXTURES = Path(__file__).parents[1] / "fixtures.yaml"
DEFAULT_PORT = 8080  # `incident-mock`'s; a mock started from Python takes a free port unless told


@dataclass(frozen=True)
class TransportLimits:
    max_head_bytes: int = 64 * 1024  # request line and headers; a long filtered list query still fits
    max_headers: int = 100
    request_timeout: float = 10.0  # to send one whole request, head and body
    keep_alive_timeout: float = 5.0  # idle between requests
    max_connections: int | None = None  # beyond it the oldest idle connections are closed; None: no cap


@dataclass(frozen=True)
class WebhookSettings:
    # Multiplies the contract's retry schedule (5 s, 5 min, 30 min, ...): 0.001 makes it 5 ms, 0.3 s, 1.8 s...
    time_scale: float = 0.001
    allow_remote: bool = False  # targets other than loopback (127.0.0.0/8, ::1, localhost)
    max_endpoints: int = 20  # per sandbox
    log_entries: int = 1_000  # messages each endpoint's delivery log keeps
    log_bytes: int = 4 * MIB  # message bytes each endpoint's delivery log keeps
    log_total_bytes: int = 128 * MIB  # ... and the delivery logs of every endpoint of every sandbox together
    # The budgets below are shared by every sandbox, each sure of a floor of the total / Limits.max_sandboxes
    # (kit/webhooks/delivery.py): a sandbox past its floor loses its own oldest first
    max_pending: int = 10_000  # messages not yet delivered nor given up, across every sandbox
    window_messages: int = 8  # out-of-order endpoints: the most messages held before sending them shuffled
    window_seconds: float = 0.05  # ... and the longest a message is held (real time)
    concurrency: int = 16  # attempts in flight to one endpoint at once; the others wait their turn
    # attempts in flight for one sandbox's endpoints together, and connections for all sandboxes (the
    # client's pool; each sandbox is sure of max_connections // max_sandboxes of them, at least one, and
    # borrows past that only what the floors leave): receivers that never answer hold their own sandbox's
    sandbox_concurrency: int = 32
    max_connections: int = 1024

    def __post_init__(self) -> None:
        if not 0 < self.time_scale <= 1:
            raise ValueError("time_scale must be in (0, 1]")
        for name in (
            "max_endpoints",
            "log_entries",
            "log_bytes",
            "log_total_bytes",
            "max_pending",
            "window_messages",
            "concurrency",
            "sandbox_concurrency",
            "max_connections",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.window_seconds < 0:
            raise ValueError("window_seconds must not be negative")


@dataclass(frozen=True)
class MockSettings:
    """The mock's options. `replace(**changes)` gives a copy with some changed (unknown names: TypeError)."""

    # what it serves
    fixtures: Path = DEFAULT_FIXTURES  # the default sandbox's, and what new sandboxes start from
    spec_file: Path | None = None  # the contract; None: the packaged openapi.yaml
    validate_responses: bool = False  # answer 500 when an answer breaks the contract
    rate_limit: int | None = None  # requests per minute per key; None: no limit
    seed: int | None = None  # reproducible ids; None: random
    clock: Clock | None = None  # the time every sandbox's clock runs on; None: real time
    limits: Limits = DEFAULTS
    webhooks: WebhookSettings = field(default_factory=lambda: WebhookSettings())
    # who may reach it, and how
    public_url: str | None = None  # where clients reach it; None: the bound address
    allowed_hosts: Sequence[str] | None = None  # the Host check; None: off (MockServer always sets it)
    admin_token: str | None = None  # guards /_mock/ and /dashboard
    # with an admin token: a token that may only create sandboxes (each created one has its own control token)
    sandbox_create_token: str | None = None
    # seconds a sandbox may go unused (real time) before it is reclaimed; None: never
    sandbox_idle_timeout: float | None = None
    cors_origins: Sequence[str] = ()
    # the socket (MockServer and incident-mock only)
    host: str = "127.0.0.1"
    port: int = 0
    transport: TransportLimits = field(default_factory=lambda: TransportLimits())
    log_level: str = "warning"
    access_log: bool = False

    def __post_init__(self) -> None:
        if self.sandbox_create_token is not None and not self.admin_token:
            raise ValueError("sandbox_create_token needs admin_token: without it the control plane is open")
        if self.sandbox_create_token is not None and self.sandbox_create_token == self.admin_token:
            raise ValueError("sandbox_create_token must differ from admin_token")
        if self.sandbox_idle_timeout is not None and not self.sandbox_idle_timeout > 0:
            raise ValueError("sandbox_idle_timeout must be positive")

    def replace(self, **changes: Any) -> MockSettings:
        """A copy with `changes`, checked: an unknown option is a TypeError naming it."""
        return dataclasses.replace(self, **changes)
