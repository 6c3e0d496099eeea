"""What the fault stage (incident_mock.http.fault_injection) costs a request, in-process (issue 11).

`python bench/fault_cost.py [N]`. Five apps from `create_app()`, side by side in one run, each answering
the same requests (bench/inprocess.py's harness: no sockets, no HTTP client; CPU time per request,
best of five rounds of N, the apps alternated three times):

- `no stage`: the injection stage swapped for a pass-through (patched in this process only);
- `no fault`: as shipped, nothing armed (the common case: one test of an empty list);
- `other op`: as shipped, a fault armed for another operation (`Severities V1#Delete`), so the stage
  walks the armed list and matches nothing;
- `p=0`: a fault for every operation with probability 0: it matches, draws from its random generator and
  does not fire;
- `delay 0`: a fault for every operation that fires on every request (a delay of 0 s: the stage's whole
  firing path, note in the journal included, with an `asyncio.sleep(0)`).

Each figure is also given as a ratio to `no stage`.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from inprocess import SEVERITY, Scenario, call, timed
from starlette.types import ASGIApp, Receive, Scope, Send

import incident_mock.app as mock_app
from incident_mock.http.fault_injection import Injection

SHIPPED = Injection
ARMED: dict[str, dict[str, Any] | None] = {
    "no stage": None,
    "no fault": None,
    "other op": {"kind": "error", "status": 500, "operation_id": "Severities V1#Delete", "probability": 1},
    "p=0": {"kind": "error", "status": 500, "probability": 0},
    "delay 0": {"kind": "delay", "seconds": 0, "probability": 1},
}


class PassThrough:
    """The injection stage's place in the stack, doing nothing."""

    def __init__(self, app: ASGIApp, **_: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


async def built(name: str) -> Any:
    vars(mock_app)["Injection"] = PassThrough if name == "no stage" else SHIPPED
    try:
        app = mock_app.create_app()
    finally:
        vars(mock_app)["Injection"] = SHIPPED
    for i in range(200):  # a list worth paging, and keys to replay
        body = {"idempotency_key": f"seed-{i}", "severity_id": SEVERITY, "visibility": "public"}
        await call(app, "POST", "/v2/incidents", json.dumps(body).encode())
    fault = ARMED[name]
    if fault is not None:
        app.holder.faults.arm(fault)
    return app


async def measure(n: int) -> list[str]:
    apps = {name: await built(name) for name in ARMED}
    replay = {"idempotency_key": "seed-0", "severity_id": SEVERITY, "visibility": "public"}
    scenarios: list[Scenario] = [
        ("GET /v1/severities", "GET", "/v1/severities", None),
        ("GET /v2/incidents", "GET", "/v2/incidents", None),
        ("POST /v2/incidents replay", "POST", "/v2/incidents", json.dumps(replay).encode()),
    ]
    lines = [f"{'us of CPU per request':<28}" + "".join(f"{name:>18}" for name in ARMED)]
    for scenario in scenarios:
        samples: dict[str, list[float]] = {name: [] for name in ARMED}
        for _ in range(3):
            for name, app in apps.items():
                samples[name].append(await timed(app, n, scenario))
        best = {name: min(values) for name, values in samples.items()}
        base = best["no stage"]
        cells = "".join(f"{best[name]:8.1f} ({best[name] / base:5.3f})".rjust(18) for name in ARMED)
        lines.append(f"{scenario[0]:<28}{cells}")
    return lines


def main(n: int) -> None:
    for line in asyncio.run(measure(n)):
        print(line, flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
