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
from tests.mock.seed import MAJOR

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


# --- escalations whose targets take long to work out -------------------------------------------------------------
async def heavy_schedule(client: httpx.AsyncClient) -> str:
    """A schedule on which every lookup of who is on call walks thousands of handovers (50 rotations of 100
    hourly handovers each) and gives a thousand entries (20 layers each)."""
    rotation = {
        "handover_start_at": "2026-01-01T00:00:00Z",
        "handovers": [{"interval_type": "hourly", "interval": 1}] * 100,
        "layers": [{"name": f"Layer {j}"} for j in range(20)],
        "users": [{"id": ADA}],
    }
    rotations = [{"name": f"Rotation {i}", **rotation} for i in range(50)]
    body = {"schedule": {"name": "Heavy", "timezone": "Europe/London", "config": {"rotations": rotations}}}
    made = await client.post("/v2/schedules", json=body, headers=FULL)
    assert made.status_code == 201, made.text[:500]
    return str(made.json()["schedule"]["id"])


async def long_path(client: httpx.AsyncClient, schedule: str, levels: int) -> str:
    target = {"type": "schedule", "id": schedule, "urgency": "high", "schedule_mode": "currently_on_call"}
    node = {"type": "level", "level": {"targets": [target] * 3, "time_to_ack_seconds": 60}}
    body = {"name": f"Long {levels}", "path": [{"id": f"n{i}", **node} for i in range(levels)]}
    made = await client.post("/v2/escalation_paths", json=body, headers=FULL)
    assert made.status_code == 201, made.text[:500]
    return str(made.json()["escalation_path"]["id"])


async def test_an_escalation_whose_schedule_lookups_take_too_long_is_refused_soon(
    client: httpx.AsyncClient,
) -> None:
    """Every level of a path looks up who is on call on its schedules: 3,000 lookups of a heavy schedule
    used to hold the server for over a minute (and then be refused for the people they named)."""
    path = await long_path(client, await heavy_schedule(client), 1000)
    before = (await client.get("/v2/escalations", headers=FULL)).json()["escalations"]
    asked = {"idempotency_key": "long", "title": "Long", "escalation_path_id": path}
    started = time.monotonic()
    refused = await client.post("/v2/escalations", json=asked, headers=FULL)
    took = time.monotonic() - started
    assert refused.status_code == 422, refused.text[:500]
    assert refused.json()["errors"][0]["source"]["field"] == "escalation_path_id"
    assert took < QUICK, f"the create held the server for {took:.1f} s"
    assert (await client.get("/v2/escalations", headers=FULL)).json()["escalations"] == before

    short = await long_path(client, SCHEDULE, 3)  # an ordinary path is planned as before
    asked = {"idempotency_key": "short", "title": "Short", "escalation_path_id": short}
    assert (await client.post("/v2/escalations", json=asked, headers=FULL)).status_code == 201


async def test_one_alert_escalating_through_many_routes_is_bounded_together(
    client: httpx.AsyncClient,
) -> None:
    """A new alert starts an escalation for every path of every route accepting it: their planning shares
    one bound, so an alert event is answered soon however many routes and paths it meets."""
    path = await long_path(client, await heavy_schedule(client), 8)  # within the bound alone
    template = {
        "title": {"reference": "alert.title"},
        "description": {"reference": "alert.description"},
        "attributes": [],
        "expressions": [],
    }
    checks = {"name": "Checks", "source_type": "http", "template": template}
    made = await client.post("/v2/alert_sources", json=checks, headers=FULL)
    assert made.status_code == 200, made.text
    source = made.json()["alert_source"]
    route = {
        "is_private": False,
        "enabled": True,
        "alert_sources": [{"alert_source_id": source["id"], "condition_groups": []}],
        "condition_groups": [],
        "expressions": [],
        "grouping_config": {"default": {"enabled": False}},
        "escalation_config": {
            "auto_cancel_escalations": False,
            "escalation_targets": [{"escalation_paths": {"value": {"literal": path}}}],
        },
        "incident_config": {"enabled": False, "auto_decline_enabled": False, "condition_groups": []},
        "message_config": {"destinations": []},
    }
    for i in range(30):
        made = await client.post("/v3/alert_routes", json={**route, "name": f"Route {i}"}, headers=FULL)
        assert made.status_code == 201, made.text[:500]
    started = time.monotonic()
    sent = await client.post(
        f"/v2/alert_events/http/{source['id']}",
        params={"token": source["secret_token"]},
        json={"title": "Disk full", "status": "firing", "deduplication_key": "disk"},
    )
    took = time.monotonic() - started
    assert sent.status_code == 202, sent.text[:500]
    assert took < QUICK, f"the event held the server for {took:.1f} s"
    listed = await client.get("/v2/escalations", params={"page_size": 250}, headers=FULL)
    started_by_it = [e for e in listed.json()["escalations"] if e["creator"].get("alert")]
    assert 1 <= len(started_by_it) < 30  # the first routes escalate, the rest find the bound spent


# --- escalation paths nested too deeply to answer ---------------------------------------------------------------
def nested(depth: int) -> str:
    return '{"n":' * depth + "1" + "}" * depth


async def test_an_escalation_path_nested_too_deeply_to_answer_is_refused_and_not_kept(
    client: httpx.AsyncClient,
) -> None:
    """A path's nodes are kept as written: one nested nearly as deep as a body may be used to be stored and
    answered 500, and from then on every list of escalation paths was 500."""
    before = await client.get("/v2/escalation_paths", headers=FULL)
    level = '"level":{"targets":[],"time_to_ack_seconds":60,"note":'
    for depth in (200, 960):
        node = '{"id":"a","type":"level",' + level + nested(depth) + "}}"
        body = '{"name":"Deep ' + str(depth) + '","path":[' + node + "]}"
        sent = await client.post(
            "/v2/escalation_paths", content=body, headers={**FULL, "Content-Type": "application/json"}
        )
        assert sent.status_code in (400, 422), sent.text[:300]
        assert sent.json()["type"] in ("invalid_request_error", "validation_error")
    after = await client.get("/v2/escalation_paths", headers=FULL)
    assert after.status_code == 200, after.text[:300]
    assert after.json() == before.json()


# --- idempotency keys across keys ----------------------------------------------------------------------------------
async def test_replaying_a_private_escalations_key_does_not_answer_it_to_a_key_that_may_not_see_it(
    client: httpx.AsyncClient,
) -> None:
    """An escalation's idempotency key is the sandbox's: a key without `incidents.view_private` that sent the
    same body as a private escalation's create used to get that escalation back, private incident and all."""
    incident = {"idempotency_key": "breach", "name": "Breach", "visibility": "private", "severity_id": MAJOR}
    made = await client.post("/v2/incidents", json=incident, headers=FULL)
    assert made.status_code == 200, made.text[:300]
    body = {
        "idempotency_key": "page-1",
        "title": "Breach",
        "user_ids": [ADA],
        "incident_id": made.json()["incident"]["id"],
    }
    first = await client.post("/v2/escalations", json=body, headers=FULL)
    assert first.status_code == 201, first.text[:300]
    keys = {"name": "Pager", "role_names": ["escalation_creator"], "team_ids": [], "team_role_names": []}
    token = (await client.post("/v1/api_keys", json=keys, headers=FULL)).json()["token"]
    replayed = await client.post("/v2/escalations", json=body, headers={"Authorization": f"Bearer {token}"})
    assert replayed.status_code == 422, replayed.text[:300]
    assert replayed.json()["errors"][0]["source"]["field"] == "idempotency_key"
    assert "Breach" not in replayed.text
    again = await client.post("/v2/escalations", json=body, headers=FULL)  # its own creator still replays it
    assert again.status_code == 201 and again.json() == first.json()


async def test_a_schedule_naming_more_users_than_the_bound_across_its_rotations_is_refused(
    client: httpx.AsyncClient,
) -> None:
    """Each user a rotation names is answered as a full user, in every show and list: a schedule naming one
    user 200 times in each of 50 rotations would answer megabytes. A thousand across the rotations is the
    bound; one more is 422, and nothing is stored."""

    def schedule(rotations: int) -> Json:
        rotation = {"handovers": [{"interval_type": "weekly", "interval": 1}], "users": [{"id": ADA}] * 200}
        made = [{"name": f"Rotation {i}", **rotation} for i in range(rotations)]
        return {"schedule": {"name": f"Wide {rotations}", "timezone": "UTC", "config": {"rotations": made}}}

    before = (await client.get("/v2/schedules", headers=FULL)).json()["schedules"]
    refused = await client.post("/v2/schedules", json=schedule(6), headers=FULL)
    accepted = await client.post("/v2/schedules", json=schedule(5), headers=FULL)
    after = (await client.get("/v2/schedules", headers=FULL)).json()["schedules"]
    assert refused.status_code == 422, refused.text[:300]
    assert refused.json()["errors"][0]["source"]["field"] == "schedule.config.rotations"
    assert "1,200 given" in refused.json()["errors"][0]["message"]
    assert accepted.status_code == 201, accepted.text[:300]
    assert [s["name"] for s in after if s["id"] not in {b["id"] for b in before}] == ["Wide 5"]
