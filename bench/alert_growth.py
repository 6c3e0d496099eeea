"""CPU per new alert as the store fills: `python bench/alert_growth.py [STEPS] [EVENTS]`.

Posts alert events with a new deduplication key each (each one a new alert) to the fixtures' HTTP alert
source through the ASGI app in-process, and prints the CPU time per event over each step of EVENTS events
(default 6 steps of 4,000). The mock runs with caps high enough never to refuse one.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from alert_events import SOURCE, event
from inprocess import call

from incident_mock.app import create_app
from incident_mock.domain.limits import Limits

TOKEN = "ast_WnBKYFft0YOK_DAvY5WHtw95uOAxK-_J"  # the fixtures source's token in the default sandbox


async def main(steps: int, events: int) -> None:
    app = create_app(limits=Limits(max_rows=10**7, max_incidents=10**7, max_total_incidents=10**7))
    path = f"/v2/alert_events/http/{SOURCE}?token={TOKEN}"
    for step in range(steps):
        started = time.process_time()
        for n in range(step * events, (step + 1) * events):
            status = await call(app, "POST", path, json.dumps(event(f"growth-{n}")).encode())
            assert status == 202, status
        spent = (time.process_time() - started) / events * 1e6
        print(f"alerts {step * events:>7,} to {(step + 1) * events:>7,}: {spent:8.0f} us/event", flush=True)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    asyncio.run(main(*(args + [6, 4000][len(args) :])))
