"""Per-request CPU of the mock in-process: no sockets, no server, no HTTP client, just the ASGI app.

`python bench/inprocess.py [N]` calls the app directly with N requests of each scenario and prints the
CPU time per request (best of five rounds). It isolates the mock's own cost from the network and the
load generator, so a change to the request path can be compared before and after on a busy machine.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from incident_mock.app import create_app

AUTH = (b"authorization", b"Bearer mock-key-full")
SEVERITY = "01JGZ0SEV0000000000000MAJ0"
Scenario = tuple[str, str, str, bytes | None]


async def call(app: Any, method: str, path: str, body: bytes | None) -> int:
    """One request through the ASGI app; returns the status."""
    path, _, query = path.partition("?")
    headers = [(b"host", b"mock"), AUTH]
    if body is not None:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": headers,
        "server": ("mock", 80),
        "client": ("127.0.0.1", 5000),
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body or b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def timed(app: Any, n: int, scenario: Scenario) -> float:
    """Best of five rounds of n requests: microseconds of CPU per request."""
    _, method, path, body = scenario
    rounds = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(n):
            status = await call(app, method, path, body)
            assert status < 300, status
        rounds.append((time.process_time() - started) / n * 1e6)
    return min(rounds)


async def main(n: int) -> None:
    app = create_app()
    for i in range(200):  # a list worth paging
        seed = {"idempotency_key": f"seed-{i}", "severity_id": SEVERITY, "visibility": "public"}
        await call(app, "POST", "/v2/incidents", json.dumps(seed).encode())
    replay = {"idempotency_key": "seed-0", "severity_id": SEVERITY, "visibility": "public"}
    scenarios: list[Scenario] = [
        ("GET /_mock/health (intake only)", "GET", "/_mock/health", None),
        ("GET /v1/severities", "GET", "/v1/severities", None),
        ("GET /v2/incidents", "GET", "/v2/incidents", None),
        ("GET /v2/incidents filtered", "GET", "/v2/incidents?status_category[one_of]=triage", None),
        ("POST /v2/incidents replay", "POST", "/v2/incidents", json.dumps(replay).encode()),
    ]
    for scenario in scenarios:
        print(f"{scenario[0]:<34} {await timed(app, n, scenario):8.1f} us/request")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
