"""The request journal's cost per request, in-process (issue 10, "Speed and memory").

`python bench/journal_cost.py [N]`. The mock has no switch for its journal (it always records), so this
measures it two ways, both in-process (no sockets, no HTTP client; bench/inprocess.py's harness):

1. The request path with and without the journal stage: two apps from `create_app()`, one as shipped,
   one built with the recording stage (incident_mock.http.journaling.Recording) swapped for a pass-through
   (patched in this process only, for this measurement). N requests per scenario, CPU time
   (time.process_time) per request, best of five rounds; the two apps alternate, three times each.
   The difference is the stage's whole cost: wrapping `send`, keeping the response body, `Journal.record`.
2. `Journal.record` alone, timed with timeit on a realistic entry (a create: a 150-byte request body and
   the ~1.4 KiB answer the mock gives it), on a journal at its default bounds that keeps dropping its
   oldest entry (the steady state of a busy sandbox).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
import time
import timeit
from typing import Any

from inprocess import SEVERITY, Scenario, call, timed
from starlette.types import ASGIApp, Receive, Scope, Send

import incident_mock.app as mock_app
from incident_mock.domain.limits import DEFAULTS
from incident_mock.http.journaling import Recording
from incident_mock.kit.journal import Journal, JournalBudget

SHIPPED = Recording


class PassThrough:
    """The recording stage's place in the stack, doing nothing."""

    def __init__(self, app: ASGIApp, **_: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def build(recording: bool) -> Any:
    vars(mock_app)["Recording"] = SHIPPED if recording else PassThrough
    try:
        return mock_app.create_app()
    finally:
        vars(mock_app)["Recording"] = SHIPPED


async def seeded(recording: bool) -> Any:
    app = build(recording)
    for i in range(200):
        body = {"idempotency_key": f"seed-{i}", "severity_id": SEVERITY, "visibility": "public"}
        await call(app, "POST", "/v2/incidents", json.dumps(body).encode())
    return app


async def request_path(n: int) -> list[str]:
    apps = {True: await seeded(True), False: await seeded(False)}
    replay = {"idempotency_key": "seed-0", "severity_id": SEVERITY, "visibility": "public"}
    scenarios: list[Scenario] = [
        ("GET /v1/severities", "GET", "/v1/severities", None),
        ("GET /v2/incidents", "GET", "/v2/incidents", None),
        ("POST /v2/incidents replay", "POST", "/v2/incidents", json.dumps(replay).encode()),
    ]
    lines = []
    for scenario in scenarios:
        samples: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(3):
            for recording in (False, True):
                samples[recording].append(await timed(apps[recording], n, scenario))
        on, off = min(samples[True]), min(samples[False])
        lines.append(
            f"{scenario[0]:<28} journal on {on:7.1f} us/request, off {off:7.1f}: "
            f"journal {on - off:+6.1f} us ({(on - off) / off:+.1%})"
        )
    # fresh creates: a new key per request, the same count on both apps, alternated three times each
    per: dict[bool, float] = {}
    for recording in (False, True, False, True, False, True):
        app, started = apps[recording], time.process_time()
        for i in range(n):
            key = f"fresh-{recording}-{started}-{i}"
            body = {"idempotency_key": key, "severity_id": SEVERITY, "visibility": "public"}
            status = await call(app, "POST", "/v2/incidents", json.dumps(body).encode())
            assert status < 300, status
        took = (time.process_time() - started) / n * 1e6
        per[recording] = min(per.get(recording, took), took)
    on, off = per[True], per[False]
    lines.append(
        f"{'POST /v2/incidents fresh':<28} journal on {on:7.1f} us/request, off {off:7.1f}: "
        f"journal {on - off:+6.1f} us ({(on - off) / off:+.1%})"
    )
    return lines


def record_alone(number: int = 100_000) -> str:
    limits = DEFAULTS
    journal = Journal(
        limits.journal_entries,
        limits.journal_bytes,
        limits.journal_body_bytes,
        JournalBudget(limits.journal_total_bytes),
    )
    request = json.dumps(
        {
            "idempotency_key": "bench-1-1-123456",
            "severity_id": SEVERITY,
            "visibility": "public",
            "name": "x" * 40,
        }
    ).encode()
    response = b'{"incident": {' + b'"k": "' + b"v" * 1400 + b'"}}'
    now = dt.datetime.now(dt.UTC)

    def one() -> None:
        journal.record(
            time=now,
            operation_id="Incidents V2#Create",
            method="POST",
            path="/v2/incidents",
            query="",
            status=201,
            key_id="01JGZ0KEY000000000000FULL0",
            request_id="01JH0000000000000000000000",
            replayed=False,
            retry_after=None,
            duration_ms=1.234,
            request_body=request,
            response_body=response,
        )

    for _ in range(limits.journal_entries):  # full: every further record drops the oldest
        one()
    best = min(timeit.repeat(one, number=number, repeat=5)) / number * 1e6
    return (
        f"Journal.record alone (timeit, best of 5 x {number:,}; a create's entry, {len(request)} + "
        f"{len(response)} body bytes, journal full at {limits.journal_entries:,} entries): {best:.2f} us"
    )


def main(n: int) -> None:
    for line in asyncio.run(request_path(n)):
        print(line, flush=True)
    print(record_alone(), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
