"""Attacks on on-call: escalations, schedules and the shift changes a clock move announces.

Each asserts a 4xx in the contract's error shape (never a 500), that nothing a refused request sent is
stored, and, where a request could take long, that a neighbour sandbox is answered meanwhile. In-process
(ASGI) unless the socket matters; never a fixed sleep.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.mock.conftest import FULL

ADA = "01JGZ0VSER000000000000ADA0"
YEAR = 365 * 24 * 3600
Json = dict[str, Any]


def level(seconds: int) -> Json:
    targets = [{"type": "user", "id": ADA, "urgency": "high"}]
    return {"id": f"l{seconds}", "type": "level", "level": {"targets": targets, "time_to_ack_seconds": seconds}}


async def test_an_escalation_ending_past_the_last_year_the_clock_shows_is_refused_and_not_kept(
    client: httpx.AsyncClient,
) -> None:
    """A path whose levels end after the sandbox clock's last year (but before the calendar's) used to be
    stored and answered 422 on `at`; from then on every escalation list of the sandbox was 422."""
    body = {"name": "Seven thousand years", "path": [level(7000 * YEAR), level(300)]}
    made = await client.post("/v2/escalation_paths", json=body, headers=FULL)
    assert made.status_code == 201, made.text
    path = made.json()["escalation_path"]["id"]
    before = (await client.get("/v2/escalations", headers=FULL)).json()["escalations"]

    asked = {"idempotency_key": "far", "title": "Far", "escalation_path_id": path}
    refused = await client.post("/v2/escalations", json=asked, headers=FULL)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["source"]["field"] == "escalation_path_id"

    listed = await client.get("/v2/escalations", headers=FULL)
    assert listed.status_code == 200, listed.text
    assert listed.json()["escalations"] == before
