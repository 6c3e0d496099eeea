"""The mock's webhook options: how fast retries run, which targets are allowed, and the bounds.

The numbers are the mock's own (options of `incident-mock` and of `create_app(webhooks=...)`); the retry
schedule and the attempt timeout are the contract's (`x-webhook-delivery`), read by
`incident_contract.webhooks.delivery`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["WebhookSettings"]

MIB = 1024 * 1024


@dataclass(frozen=True)
class WebhookSettings:
    # Multiplies the contract's retry schedule (5 s, 5 min, 30 min, ...): 0.001 makes it 5 ms, 0.3 s, 1.8 s...
    time_scale: float = 0.001
    allow_remote: bool = False  # targets other than loopback (127.0.0.0/8, ::1, localhost)
    max_endpoints: int = 20  # per sandbox
    log_entries: int = 1_000  # messages each endpoint's delivery log keeps
    log_bytes: int = 4 * MIB  # message bytes each endpoint's delivery log keeps
    log_total_bytes: int = 128 * MIB  # ... and the delivery logs of every endpoint of every sandbox together
    max_pending: int = 10_000  # messages not yet delivered nor given up, across every sandbox
    window_messages: int = 8  # out-of-order endpoints: the most messages held before sending them shuffled
    window_seconds: float = 0.05  # ... and the longest a message is held (real time)
    concurrency: int = 16  # attempts in flight to one endpoint at once; the others wait their turn
    # attempts in flight for one sandbox's endpoints together, and for all sandboxes (the client's pool): a
    # sandbox whose receivers never answer holds at most its share, never every connection
    sandbox_concurrency: int = 32
    max_connections: int = 256

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
