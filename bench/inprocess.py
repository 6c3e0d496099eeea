"""Per-request CPU of the mock in-process: no sockets, no server, just the ASGI app.

`python bench/inprocess.py [N]` sends N requests of each scenario through httpx.ASGITransport and
prints the CPU time per request. It isolates the mock's own cost from the network and the load
generator, so a change to the request path can be compared before and after on a busy machine.
"""

from __future__ import annotations

import asyncio
import sys
import time

import httpx

from incident_mock.app import create_app

AUTH = {"Authorization": "Bearer mock-key-full"}
SEVERITY = "01JGZ0SEV0000000000000MAJ0"


async def _timed(client: httpx.AsyncClient, n: int, method: str, url: str, body: object = None) -> float:
    """Best of five rounds of n requests: microseconds of CPU per request."""
    rounds = []
    for _ in range(5):
        started = time.process_time()
        for i in range(n):
            payload = body(i) if callable(body) else body
            response = await client.request(method, url, headers=AUTH, json=payload)
            assert response.status_code < 300, response.text
        rounds.append((time.process_time() - started) / n * 1e6)
    return min(rounds)


async def main(n: int) -> None:
    app = create_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock") as client:
        for i in range(200):  # a list worth paging
            seed = {"idempotency_key": f"seed-{i}", "severity_id": SEVERITY, "visibility": "public"}
            await client.post("/v2/incidents", headers=AUTH, json=seed)
        scenarios: list[tuple[str, str, str, object]] = [
            ("GET /v1/severities", "GET", "/v1/severities", None),
            ("GET /v2/incidents", "GET", "/v2/incidents", None),
            (
                "POST /v2/incidents replay",
                "POST",
                "/v2/incidents",
                {"idempotency_key": "seed-0", "severity_id": SEVERITY, "visibility": "public"},
            ),
        ]
        # The client's own cost, measured on a route that answers before the API stack.
        base = await _timed(client, n, "GET", "/_mock/health")
        print(f"{'client + /_mock/health':<28} {base:8.1f} us/request")
        for label, method, url, body in scenarios:
            spent = await _timed(client, n, method, url, body)
            print(f"{label:<28} {spent:8.1f} us/request  ({spent - base:7.1f} above the health route)")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
