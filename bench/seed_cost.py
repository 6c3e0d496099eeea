"""What the sandbox clock and seeded ids cost a request, in-process (issue 11, parts 4 and 5).

`python bench/seed_cost.py [N]`. bench/inprocess.py's harness (no sockets, no HTTP client): N fresh creates
(each draws an incident id and a request id) and N severity lists on an unseeded mock and on a mock started
with a seed whose default sandbox's clock is frozen, CPU time per request, best of five rounds, the two
apps alternating three times. Then, with timeit, the pieces alone: a sandbox clock's `now()` (running,
frozen) against real time, and a ULID unseeded against seeded.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import sys
import time
import timeit
from typing import Any

from inprocess import SEVERITY, Scenario, call, timed

from incident_mock.app import create_app
from incident_mock.domain.clock import SandboxClock, SystemClock
from incident_mock.domain.ids import Ids

AT = dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)


def build(seeded: bool) -> Any:
    app = create_app(seed=7) if seeded else create_app()
    if seeded:
        app.holder.clock.freeze(AT)
    return app


async def creates(app: Any, n: int) -> float:
    """Microseconds of CPU per fresh create, best of five rounds of n."""
    keys = itertools.count()
    best = float("inf")
    for _ in range(5):
        bodies = [
            json.dumps({"idempotency_key": f"k{next(keys)}", "severity_id": SEVERITY, "visibility": "public"})
            for _ in range(n)
        ]
        started = time.process_time()
        for body in bodies:
            assert await call(app, "POST", "/v2/incidents", body.encode()) == 200
        best = min(best, (time.process_time() - started) / n * 1e6)
        app.holder.reset()  # keep the store small: every round starts from the fixtures
    return best


async def main(n: int) -> None:
    apps = {"unseeded": build(False), "seeded, frozen": build(True)}
    severities: Scenario = ("GET /v1/severities", "GET", "/v1/severities", None)
    results: dict[str, dict[str, list[float]]] = {k: {"create": [], "severities": []} for k in apps}
    for _ in range(3):
        for name, app in apps.items():
            results[name]["create"].append(await creates(app, n))
            results[name]["severities"].append(await timed(app, n, severities))
    for name, found in results.items():
        for scenario, values in found.items():
            print(f"{name:<16} {scenario:<11} {min(values):8.1f} us/request (best of {len(values)} runs)")
    running, frozen, real = SandboxClock(), SandboxClock(frozen_at=AT), SystemClock()
    for label, clock in (("real time", real), ("sandbox, running", running), ("sandbox, frozen", frozen)):
        print(f"now() {label:<22} {min(timeit.repeat(clock.now, number=100_000, repeat=5)) * 10:8.3f} us")
    for label, ids in (("ulid, unseeded", Ids(None, real)), ("ulid, seeded", Ids(7, frozen))):
        print(f"{label:<28} {min(timeit.repeat(ids.ulid, number=100_000, repeat=5)) * 10:8.3f} us")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
