"""What the webhook tests share: a mock behind uvicorn with its app at hand, verifiers, and a poll."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from standardwebhooks.webhooks import Webhook
from svix.webhooks import Webhook as SvixWebhook

from incident_mock.testing.receiver import Delivery

T = TypeVar("T")


def verified_by_both(secret: str, delivery: Delivery) -> Any:
    """The payload, once the `standardwebhooks` and `svix` packages both accept the delivery as it came."""
    payload = Webhook(secret).verify(delivery.body, delivery.headers)
    SvixWebhook(secret).verify(delivery.body, delivery.headers)  # raises unless it verifies (returns None)
    return payload


def eventually(probe: Callable[[], T | None], timeout: float = 10.0, what: str = "the condition") -> T:
    """Poll `probe` (at growing intervals) until it returns something truthy; fail after `timeout` s."""
    deadline, pause = time.monotonic() + timeout, 0.005
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(pause)
        pause = min(0.1, pause * 2)


@contextmanager
def nothing() -> Iterator[None]:
    yield
