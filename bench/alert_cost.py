"""CPU per alert event in-process as alerts or sandboxes pile up: `python bench/alert_cost.py MODE`.

Posts alert events to the fixtures' HTTP alert source through the ASGI app (no sockets) and prints the CPU
time per event:

- MODE `alerts [STEPS] [EVENTS]`: a new deduplication key each (each event a new alert), over each step of
  EVENTS events (default 6 steps of 4,000): the cost as the store's alerts grow;
- MODE `sandboxes [COUNTS...]`: one key for every event (the deduplication path), 500 events with each
  count of other sandboxes alive (default 0, 100, 1000): the cost of finding the sandbox a token names.

The mock runs with caps high enough never to refuse an event or a sandbox.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from alert_events import SOURCE, event
from inprocess import call

from incident_mock.app import create_app
from incident_mock.domain.limits import Limits

TOKEN = "ast_WnBKYFft0YOK_DAvY5WHtw95uOAxK-_J"  # the fixtures source's token in the default sandbox
PATH = f"/v2/alert_events/http/{SOURCE}?token={TOKEN}"


def app() -> Any:
    return create_app(limits=Limits(max_rows=10**7, max_incidents=10**7, max_total_incidents=10**7,
                                    max_sandboxes=10**5))  # fmt: skip


async def events(mock: Any, keys: list[str]) -> float:
    """CPU microseconds per event, over one event per key."""
    started = time.process_time()
    for key in keys:
        status = await call(mock, "POST", PATH, json.dumps(event(key)).encode())
        assert status == 202, status
    return (time.process_time() - started) / len(keys) * 1e6


async def alerts(steps: int = 6, size: int = 4000) -> None:
    mock = app()
    for step in range(steps):
        spent = await events(mock, [f"growth-{n}" for n in range(step * size, (step + 1) * size)])
        print(f"alerts {step * size:>7,} to {(step + 1) * size:>7,}: {spent:8.0f} us/event", flush=True)


async def sandboxes(*counts: int) -> None:
    mock = app()
    for count in counts or (0, 100, 1000):
        while len(list(mock.sandboxes)) < count + 1:
            mock.sandboxes.create()
        print(f"{count:>6,} other sandboxes: {await events(mock, ['one'] * 500):8.0f} us/event", flush=True)


if __name__ == "__main__":
    mode, numbers = sys.argv[1] if len(sys.argv) > 1 else "alerts", [int(a) for a in sys.argv[2:]]
    asyncio.run(alerts(*numbers) if mode == "alerts" else sandboxes(*numbers))
