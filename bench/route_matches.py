"""How many routes the mock's router tries per request: `python bench/route_matches.py`.

Counts Starlette's `Route.matches` calls (each one route tried) for a few requests sent through the ASGI
app in-process, so two versions of the mock can be compared (run it in each tree with its PYTHONPATH).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from inprocess import SEVERITY, call
from starlette.routing import Route

from incident_mock.app import create_app

REPLAY = json.dumps({"idempotency_key": "seed-0", "severity_id": SEVERITY, "visibility": "public"}).encode()
REQUESTS = [
    ("GET", "/v1/severities", None),
    ("GET", "/v2/incidents", None),
    ("POST", "/v2/incidents", REPLAY),
    ("GET", "/v2/alerts", None),
    ("POST", "/v2/alert_events/http/01JGZ0SRC000000000000HTTP0?token=x", None),
    ("GET", "/v2/nothing", None),
    ("DELETE", "/v2/incidents", None),
]


async def main() -> None:
    app = create_app()
    tried = 0
    original = Route.matches

    def counting(route: Route, scope: Any) -> Any:
        nonlocal tried
        tried += 1
        return original(route, scope)

    await call(app, "POST", "/v2/incidents", REPLAY)  # the key the replay replays
    Route.matches = counting  # type: ignore[method-assign,assignment]
    try:
        for method, path, body in REQUESTS:
            tried = 0
            status = await call(app, method, path, body)
            print(f"{method:6} {path.split('?')[0]:48} {status}  {tried:4} routes tried")
    finally:
        Route.matches = original  # type: ignore[method-assign]


if __name__ == "__main__":
    asyncio.run(main())
