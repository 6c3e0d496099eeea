"""Attacks on on-call: escalations, schedules and the shift changes a clock move announces.

Each asserts a 4xx in the contract's error shape (never a 500), that nothing a refused request sent is
stored, and, where a request could take long, that a neighbour sandbox is answered meanwhile. In-process
(ASGI) unless the socket matters; never a fixed sleep.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import httpx

from incident_mock.testing import IncidentMock
from tests.mock.conftest import FULL

ADA = "01JGZ0VSER000000000000ADA0"
YEAR = 365 * 24 * 3600
Json = dict[str, Any]


def level(seconds: int) -> Json:
    targets = [{"type": "user", "id": ADA, "urgency": "high"}]
    return {
        "id": f"l{seconds}",
        "type": "level",
        "level": {"targets": targets, "time_to_ack_seconds": seconds},
    }


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


# --- schedules whose entries take long to work out ---------------------------------------------------------------
SCHEDULE = "01JGZ0SCHED00000000000PR1M"  # the fixtures' schedule
SHIFT_CHANGE = "schedule.shift_change_v1"
QUICK = 10.0  # seconds: generous; the slow schedules below used to take about 30 s a window, or hours a move


def slow_schedule(name: str) -> Json:
    """The most handovers a window can hold (50 rotations handing over hourly), with the most working
    intervals (7 x 24) that between them cover one minute a week: few entries, but every shift used to be
    checked against every interval of every day near it."""
    minute = [{"weekday": "monday", "start_time": "09:00", "end_time": "09:01"}] * (7 * 24)
    rotation = {
        "handover_start_at": "2026-01-05T00:00:00Z",
        "handovers": [{"interval_type": "hourly", "interval": 1}],
        "layers": [{"name": "Primary"}],
        "users": [{"id": ADA}],
        "working_intervals": minute,
    }
    rotations = [{"name": f"Rotation {i}", **rotation} for i in range(50)]
    return {"name": name, "timezone": "Europe/London", "config": {"rotations": rotations}}


async def test_previewing_the_slowest_schedule_over_the_longest_window_is_quick(
    client: httpx.AsyncClient,
) -> None:
    body = {
        "schedule": slow_schedule("Slow"),
        "entry_window_start": "2026-03-02T00:00:00Z",
        "entry_window_end": "2026-06-01T00:00:00Z",  # 91 days, the longest window
    }
    started = time.monotonic()
    answer = await client.post(f"/v2/schedules/{SCHEDULE}/actions/preview_entries", json=body, headers=FULL)
    took = time.monotonic() - started
    assert answer.status_code == 200, answer.text[:500]
    found = answer.json()["schedule_entries"]["scheduled"]
    assert len(found) == 50 * 13 and all(e["end_at"][14:16] == "01" for e in found)  # 13 Mondays
    assert took < QUICK, f"a preview held the server for {took:.1f} s"


def test_a_clock_move_over_slow_schedules_does_not_hold_up_a_neighbour(mock: IncidentMock) -> None:
    """The longest advance (ten years) of a sandbox with slow schedules and an endpoint for shift changes: the move
    reads a bounded amount, so it answers soon, and a neighbour sandbox is answered meanwhile."""
    start = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    with mock.sandbox(frozen_at=start) as mine, mock.sandbox(frozen_at=start) as neighbour:
        headers = {"Authorization": f"Bearer {mine.keys.full}"}
        with httpx.Client(base_url=mine.base_url, headers=headers, timeout=600) as api:
            for i in range(2):
                made = api.post("/v2/schedules", json={"schedule": slow_schedule(f"Slow {i}")})
                assert made.status_code == 201, made.text[:500]
        mine.webhooks.register("http://127.0.0.1:9/", event_types=[SHIFT_CHANGE])
        took: list[float] = []

        def advance() -> None:
            began = time.monotonic()
            mine.clock.advance(dt.timedelta(days=10 * 365))
            took.append(time.monotonic() - began)

        mover = threading.Thread(target=advance)
        theirs = {"Authorization": f"Bearer {neighbour.keys.full}"}
        slowest = 0.0
        with httpx.Client(base_url=neighbour.base_url, headers=theirs, timeout=600) as other:
            mover.start()
            while mover.is_alive():
                began = time.monotonic()
                assert other.get("/v1/identity").status_code == 200
                slowest = max(slowest, time.monotonic() - began)
            mover.join()
        assert took and took[0] < QUICK, f"the move took {took[0] if took else 0:.1f} s"
        assert slowest < QUICK, f"the neighbour waited {slowest:.1f} s"
