"""Escalations and schedules over real sockets: escalations move through their states on the sandbox clock,
schedule entries are computed from rotations with overrides on top, nested objects stay with their
schedule, and the changes are announced as webhooks. The mock validates its own answers (the `mock`
fixture), so every answer here also matches the contract."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml
from incident_io import AuthenticatedClient
from incident_io.api.escalations_v2 import escalations_v2_create, escalations_v2_show
from incident_io.api.schedules_v2 import schedules_v2_list_schedule_entries
from incident_io.models import EscalationsCreatePayloadV2, EscalationV2Status

from incident_mock.app import DEFAULT_FIXTURES
from incident_mock.resources.oncall.shift_changes import ReadBudget, changes
from incident_mock.testing import ControlPlaneError, IncidentMock, Sandbox, WebhookReceiver
from tests.mock.seed import MAJOR

ADA = "01JGZ0VSER000000000000ADA0"
GRACE = "01JGZ0VSER0000000000GRACE0"
SCHEDULE = "01JGZ0SCHED00000000000PR1M"  # Ada then Grace, weekly from Monday 2026-01-05 09:00 UTC
ROTATION = "01JGZ0R0TA00000000000PR1MA"
LAYER = "01JGZ0YR0000000000000PR1MA"
REPLICA = "01JGZ0REP1CA00000000000001"
SYNC_RULE = "01JGZ0SYNCR000000000000001"
EXPIRED = "01JGZ0ESCA1ATE000000000001"  # created 2026-01-12, long expired
Json = dict[str, Any]
START = dt.datetime(2026, 1, 14, 10, 0, tzinfo=dt.UTC)  # Grace's week on the fixture schedule


@pytest.fixture
def frozen(mock: IncidentMock) -> Iterator[Sandbox]:
    with mock.sandbox(frozen_at=START) as made:
        yield made


@pytest.fixture
def api(frozen: Sandbox) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {frozen.keys.full}"}
    with httpx.Client(base_url=frozen.base_url, headers=headers, timeout=30) as client:
        yield client


def moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text[:800]
    return response.json() if response.content else None


def error_field(response: httpx.Response) -> str:
    assert response.status_code == 422, response.text[:800]
    return str(response.json()["errors"][0]["source"]["field"])


def two_level_path(api: httpx.Client) -> str:
    body = {
        "name": "Checkout",
        "path": [
            {
                "id": "ada",
                "type": "level",
                "level": {
                    "targets": [{"type": "user", "id": ADA, "urgency": "high"}],
                    "time_to_ack_seconds": 300,
                },
            },
            {"id": "wait", "type": "delay", "delay": {"delay_seconds": 120}},
            {
                "id": "on-call",
                "type": "level",
                "level": {
                    "targets": [{"type": "schedule", "id": SCHEDULE, "urgency": "low"}],
                    "time_to_ack_seconds": 600,
                },
            },
        ],
    }
    return str(ok(api.post("/v2/escalation_paths", json=body), 201)["escalation_path"]["id"])


def escalate(api: httpx.Client, key: str, **body: Any) -> httpx.Response:
    return api.post("/v2/escalations", json={"idempotency_key": key, "title": "Checkout down", **body})


# --- escalations -----------------------------------------------------------------------------------------
def test_an_escalation_is_triggered_then_notifies_each_level_then_expires_on_the_sandbox_clock(
    frozen: Sandbox, api: httpx.Client
) -> None:
    path = two_level_path(api)
    created = ok(escalate(api, "e-1", escalation_path_id=path), 201)["escalation"]
    assert created["status"] == "triggered"
    assert [e["event"] for e in created["events"]] == ["triggered", "notified_users"]
    assert [u["id"] for u in created["events"][1]["users"]] == [ADA]

    frozen.clock.advance(dt.timedelta(seconds=419))  # the second level starts at 300 + 120 s
    shown = ok(api.get(f"/v2/escalations/{created['id']}"))["escalation"]
    assert shown["status"] == "triggered" and len(shown["events"]) == 2

    frozen.clock.advance(dt.timedelta(seconds=1))
    shown = ok(api.get(f"/v2/escalations/{created['id']}"))["escalation"]
    assert shown["status"] == "triggered"
    second = shown["events"][2]
    assert second["event"] == "notified_users" and second["urgency"] == "low"
    assert [u["id"] for u in second["users"]] == [GRACE]  # on call on the schedule at that moment
    assert moment(second["occurred_at"]) == START + dt.timedelta(seconds=420)

    frozen.clock.advance(dt.timedelta(seconds=599))
    assert ok(api.get(f"/v2/escalations/{created['id']}"))["escalation"]["status"] == "triggered"
    frozen.clock.advance(dt.timedelta(seconds=1))  # 300 + 120 + 600 s: the levels have run out
    shown = ok(api.get(f"/v2/escalations/{created['id']}"))["escalation"]
    assert shown["status"] == "expired"
    assert shown["events"][-1]["event"] == "expired"
    assert moment(shown["events"][-1]["occurred_at"]) == START + dt.timedelta(seconds=1020)
    listed = ok(api.get("/v2/escalations", params={"status[one_of]": "expired"}))["escalations"]
    assert created["id"] in [e["id"] for e in listed]
    assert ok(api.get("/v2/escalations", params={"status[one_of]": "triggered"}))["escalations"] == []


def test_cancel_stops_a_triggered_escalation_and_is_a_no_op_on_a_cancelled_one(
    frozen: Sandbox, api: httpx.Client
) -> None:
    path = two_level_path(api)
    created = ok(escalate(api, "e-2", escalation_path_id=path), 201)["escalation"]
    frozen.clock.advance(dt.timedelta(seconds=60))
    assert ok(api.post(f"/v2/escalations/{created['id']}/actions/cancel")) is None
    cancelled = ok(api.get(f"/v2/escalations/{created['id']}"))["escalation"]
    assert cancelled["status"] == "cancelled"
    assert [e["event"] for e in cancelled["events"]] == ["triggered", "notified_users", "cancelled"]

    frozen.clock.advance(dt.timedelta(hours=2))  # no further level, and no expiry, after a cancel
    assert ok(api.post(f"/v2/escalations/{created['id']}/actions/cancel")) is None
    again = ok(api.get(f"/v2/escalations/{created['id']}"))["escalation"]
    assert again == cancelled


def test_cancelling_an_expired_escalation_is_422(api: httpx.Client) -> None:
    assert error_field(api.post(f"/v2/escalations/{EXPIRED}/actions/cancel")) == "id"
    assert ok(api.get(f"/v2/escalations/{EXPIRED}"))["escalation"]["status"] == "expired"


def test_a_direct_escalation_to_users_is_one_level_of_five_minutes(
    frozen: Sandbox, api: httpx.Client
) -> None:
    created = ok(escalate(api, "e-3", user_ids=[GRACE, ADA]), 201)["escalation"]
    assert [u["id"] for u in created["events"][1]["users"]] == [GRACE, ADA]
    frozen.clock.advance(dt.timedelta(seconds=300))
    assert ok(api.get(f"/v2/escalations/{created['id']}"))["escalation"]["status"] == "expired"


def test_the_idempotency_key_replays_the_same_escalation_and_refuses_another_request(
    frozen: Sandbox, api: httpx.Client
) -> None:
    sdk = AuthenticatedClient(base_url=frozen.base_url, token=frozen.keys.full)
    body = EscalationsCreatePayloadV2(idempotency_key="page-1", title="Checkout down", user_ids=[ADA])
    with sdk:
        first = escalations_v2_create.sync_detailed(client=sdk, body=body)
        again = escalations_v2_create.sync_detailed(client=sdk, body=body)
        assert first.parsed is not None and again.parsed is not None
        assert again.parsed.escalation.id == first.parsed.escalation.id
        assert again.headers.get("Idempotent-Replayed") == "true"
        shown = escalations_v2_show.sync(first.parsed.escalation.id, client=sdk)
        assert shown is not None and shown.escalation.status == EscalationV2Status.TRIGGERED
    assert error_field(escalate(api, "page-1", user_ids=[GRACE])) == "idempotency_key"
    found = ok(api.get("/v2/escalations", params={"idempotency_key[one_of]": "page-1"}))["escalations"]
    assert [e["id"] for e in found] == [first.parsed.escalation.id]


def test_an_escalation_needs_exactly_one_of_a_path_and_users_that_exist(api: httpx.Client) -> None:
    path = two_level_path(api)
    assert error_field(escalate(api, "both", escalation_path_id=path, user_ids=[ADA])) == "escalation_path_id"
    assert error_field(escalate(api, "neither")) == "escalation_path_id"
    assert error_field(escalate(api, "no-path", escalation_path_id="01JGZ0NNKNWN000000000000P1")) == (
        "escalation_path_id"
    )
    assert error_field(escalate(api, "no-user", user_ids=[ADA, "nobody"])) == "user_ids[1]"


# --- schedule entries -------------------------------------------------------------------------------------
def daily_schedule(users: list[str], timezone: str = "Europe/London", **rotation: Any) -> Json:
    return {
        "name": "Rota",
        "timezone": timezone,
        "config": {
            "rotations": [
                {
                    "name": "Primary",
                    "handover_start_at": "2026-03-02T09:00:00Z",
                    "handovers": [{"interval_type": "daily", "interval": 1}],
                    "layers": [{"name": "Primary"}],
                    "users": [{"id": u} for u in users],
                    "working_intervals": [],
                    **rotation,
                }
            ]
        },
    }


def create_schedule(api: httpx.Client, schedule: Json) -> Json:
    return dict(ok(api.post("/v2/schedules", json={"schedule": schedule}), 201)["schedule"])


def entries(api: httpx.Client, schedule_id: str, start: str, end: str) -> Json:
    params = {"schedule_id": schedule_id, "entry_window_start": start, "entry_window_end": end}
    return dict(ok(api.get("/v2/schedule_entries", params=params))["schedule_entries"])


def assert_covers(found: list[Json], start: str, end: str) -> None:
    """The entries cover [start, end) with no gap and no overlap."""
    assert found, "no entries"
    assert moment(found[0]["start_at"]) <= moment(start)
    assert moment(found[-1]["end_at"]) >= moment(end)
    for before, after in itertools.pairwise(found):
        assert before["end_at"] == after["start_at"], (before, after)


def test_a_single_layer_rotation_covers_the_window_without_gaps_or_overlaps(api: httpx.Client) -> None:
    schedule = create_schedule(api, daily_schedule([ADA, GRACE]))
    start, end = "2026-03-20T13:17:00Z", "2026-04-03T02:00:00Z"  # across the clocks going forward
    found = entries(api, schedule["id"], start, end)
    assert found["scheduled"] == found["final"] and found["overrides"] == []
    assert_covers(found["final"], start, end)
    london = ZoneInfo("Europe/London")
    for entry in found["final"]:  # daily handovers stay at 09:00 London time, summer time or not
        assert moment(entry["start_at"]).astimezone(london).hour == 9
    days = [
        (moment(e["start_at"]).astimezone(london).date() - dt.date(2026, 3, 2)).days for e in found["final"]
    ]
    assert [e["user"]["id"] for e in found["final"]] == [[ADA, GRACE][d % 2] for d in days]
    assert {e["rotation_id"] for e in found["final"]} == {schedule["config"]["rotations"][0]["id"]}


def test_the_sdk_parses_computed_entries(frozen: Sandbox) -> None:
    with AuthenticatedClient(base_url=frozen.base_url, token=frozen.keys.full) as sdk:
        result = schedules_v2_list_schedule_entries.sync(client=sdk, schedule_id=SCHEDULE)
    assert result is not None
    final = result.schedule_entries.final
    assert final and final[0].start_at <= START < final[0].end_at  # the window starts at the clock's moment
    assert final[0].user is not None and final[0].user.id == GRACE


def test_working_intervals_keep_only_the_working_hours(api: httpx.Client) -> None:
    weekdays = [
        {"weekday": d, "start_time": "09:00", "end_time": "17:00"}
        for d in ("monday", "tuesday", "wednesday", "thursday", "friday")
    ]
    schedule = create_schedule(api, daily_schedule([ADA], timezone="UTC", working_intervals=weekdays))
    found = entries(api, schedule["id"], "2026-03-06T00:00:00Z", "2026-03-10T00:00:00Z")["final"]
    assert [(e["start_at"][:16], e["end_at"][:16]) for e in found] == [
        ("2026-03-06T09:00", "2026-03-06T17:00"),
        ("2026-03-09T09:00", "2026-03-09T17:00"),
    ]


def test_an_override_is_cut_into_its_layer_and_the_rest_still_covers_the_window(api: httpx.Client) -> None:
    schedule = create_schedule(api, daily_schedule([ADA]))
    rotation = schedule["config"]["rotations"][0]
    override = {
        "schedule_id": schedule["id"],
        "rotation_id": rotation["id"],
        "layer_id": rotation["layers"][0]["id"],
        "user": {"email": "grace@example.com"},
        "start_at": "2026-03-10T12:00:00Z",
        "end_at": "2026-03-11T06:00:00Z",
    }
    made = ok(api.post("/v2/schedule_overrides", json=override), 201)["override"]
    start, end = "2026-03-10T00:00:00Z", "2026-03-12T00:00:00Z"
    found = entries(api, schedule["id"], start, end)
    assert [(e["entry_id"], e["user"]["id"]) for e in found["overrides"]] == [(made["id"], GRACE)]
    assert_covers(found["final"], start, end)
    assert [(e["start_at"][:13], e["user"]["id"]) for e in found["final"]] == [
        ("2026-03-09T09", ADA),
        ("2026-03-10T09", ADA),
        ("2026-03-10T12", GRACE),
        ("2026-03-11T06", ADA),
        ("2026-03-11T09", ADA),
    ]
    assert all(e["user"]["id"] == ADA for e in found["scheduled"])
    ok(api.delete(f"/v2/schedule_overrides/{made['id']}"), 204)
    assert entries(api, schedule["id"], start, end)["final"] == found["scheduled"]


def test_an_override_must_name_a_rotation_and_layer_of_its_schedule(api: httpx.Client) -> None:
    body = {
        "schedule_id": SCHEDULE,
        "rotation_id": ROTATION,
        "layer_id": LAYER,
        "user": {"id": ADA},
        "start_at": "2026-01-20T09:00:00Z",
        "end_at": "2026-01-21T09:00:00Z",
    }
    assert (
        error_field(api.post("/v2/schedule_overrides", json={**body, "rotation_id": "nope"})) == "rotation_id"
    )
    assert error_field(api.post("/v2/schedule_overrides", json={**body, "layer_id": "nope"})) == "layer_id"
    assert error_field(api.post("/v2/schedule_overrides", json={**body, "user": {"id": "nobody"}})) == "user"
    assert (
        error_field(api.post("/v2/schedule_overrides", json={**body, "end_at": body["start_at"]})) == "end_at"
    )


def test_the_preview_of_a_schedule_is_what_listing_answers_once_it_is_saved(api: httpx.Client) -> None:
    proposed = {
        "config": {
            "rotations": [
                {
                    "id": ROTATION,
                    "name": "Primary",
                    "handover_start_at": "2026-01-05T09:00:00Z",
                    "handovers": [
                        {"interval_type": "daily", "interval": 1},
                        {"interval_type": "daily", "interval": 3},
                    ],
                    "layers": [{"id": LAYER, "name": "Primary"}],
                    "users": [{"id": GRACE}, {"slack_user_id": "U0ADA"}],
                    "working_intervals": [],
                }
            ]
        }
    }
    window = {"entry_window_start": "2026-01-06T00:00:00Z", "entry_window_end": "2026-01-20T00:00:00Z"}
    before = entries(api, SCHEDULE, *window.values())
    preview = ok(
        api.post(f"/v2/schedules/{SCHEDULE}/actions/preview_entries", json={"schedule": proposed, **window})
    )
    assert entries(api, SCHEDULE, *window.values()) == before  # nothing was saved
    ok(api.put(f"/v2/schedules/{SCHEDULE}", json={"schedule": proposed}))
    saved = entries(api, SCHEDULE, *window.values())
    assert preview["schedule_entries"] == saved != before
    assert saved["overrides"]  # the fixture's override applies to the proposal too


def test_entries_are_bounded(api: httpx.Client) -> None:
    far = entries(api, SCHEDULE, "2026-01-05T09:00:00Z", "2036-01-05T09:00:00Z")["scheduled"]
    assert moment(far[-1]["start_at"]) < moment("2026-01-05T09:00:00Z") + dt.timedelta(days=91)
    many = daily_schedule([ADA, GRACE], handovers=[{"interval_type": "hourly", "interval": 1}])
    many["config"]["rotations"][0]["layers"] = [{"name": f"Layer {i}"} for i in range(6)]
    schedule = create_schedule(api, many)
    params = {"schedule_id": schedule["id"], "entry_window_start": "2026-03-02T09:00:00Z"}
    assert error_field(
        api.get("/v2/schedule_entries", params={**params, "entry_window_end": "2026-06-01T00:00:00Z"})
    ) == ("entry_window_end")
    assert error_field(
        api.get("/v2/schedule_entries", params={**params, "entry_window_end": "2026-03-01T00:00:00Z"})
    ) == ("entry_window_end")
    tiny = daily_schedule([ADA], handovers=[{"interval_type": "hourly", "interval": 0}])
    assert error_field(api.post("/v2/schedules", json={"schedule": tiny})).endswith("interval")


# --- nested objects --------------------------------------------------------------------------------------------
def test_replicas_and_sync_rules_of_another_schedule_are_404(api: httpx.Client) -> None:
    other = create_schedule(api, daily_schedule([ADA]))["id"]
    assert ok(api.get(f"/v2/schedules/{SCHEDULE}/replicas/{REPLICA}"))["schedule_replica"]["id"] == REPLICA
    assert api.get(f"/v2/schedules/{other}/replicas/{REPLICA}").status_code == 404
    assert api.delete(f"/v2/schedules/{other}/replicas/{REPLICA}").status_code == 404
    assert ok(api.get(f"/v2/schedules/{other}/replicas"))["schedule_replicas"] == []
    assert api.get("/v2/schedules/nothing-here/sync_rules").status_code == 404  # no such schedule
    assert api.get(f"/v2/schedules/{other}/sync_rules/{SYNC_RULE}").status_code == 404
    assert (
        api.put(f"/v2/schedules/{other}/sync_rules/{SYNC_RULE}", json={"sync_type": "on_call"}).status_code
        == 404
    )
    assert api.delete(f"/v2/schedules/{other}/sync_rules/{SYNC_RULE}").status_code == 404
    assert (
        ok(api.get(f"/v2/schedules/{SCHEDULE}/sync_rules/{SYNC_RULE}"))["schedule_sync_rule"]["id"]
        == SYNC_RULE
    )


def test_deleting_a_schedule_takes_its_nested_objects_and_unlinks_its_sync_target(api: httpx.Client) -> None:
    target = ok(api.get("/v2/schedule_sync_targets"))["schedule_sync_targets"][0]
    assert [s["id"] for s in target["linked_schedules"]] == [SCHEDULE]
    ok(api.delete(f"/v2/schedules/{SCHEDULE}"), 202)
    assert api.get(f"/v2/schedules/{SCHEDULE}/replicas/{REPLICA}").status_code == 404
    assert error_field(api.get("/v2/schedule_overrides", params={"schedule_id": SCHEDULE})) == "schedule_id"
    assert (
        ok(api.get(f"/v2/schedule_sync_targets/{target['id']}"))["schedule_sync_target"]["linked_schedules"]
        == []
    )


# --- webhooks ---------------------------------------------------------------------------------------------------
def test_escalation_and_schedule_changes_are_announced(frozen: Sandbox, api: httpx.Client) -> None:
    with WebhookReceiver() as receiver:
        endpoint = frozen.webhooks.register(receiver.url)
        receiver.secret = endpoint.secret
        created = ok(escalate(api, "wh-1", user_ids=[ADA]), 201)["escalation"]
        ok(api.post(f"/v2/escalations/{created['id']}/actions/cancel"))
        schedule = create_schedule(api, daily_schedule([ADA]))
        ok(api.put(f"/v2/schedules/{schedule['id']}", json={"schedule": {"name": "Renamed"}}))
        ok(api.delete(f"/v2/schedules/{schedule['id']}"), 202)

        [made] = receiver.wait_for("public_escalation.escalation_created_v1", timeout=30)
        assert made.payload["public_escalation.escalation_created_v1"]["id"] == created["id"]
        [changed] = receiver.wait_for("public_escalation.escalation_status_updated_v1", timeout=30)
        change = changed.payload["public_escalation.escalation_status_updated_v1"]
        assert (change["previous_status"], change["new_status"]) == ("triggered", "cancelled")
        assert change["actor"]["api_key"]["id"]
        for event, name in (("created", "Rota"), ("updated", "Renamed"), ("deleted", "Renamed")):
            [message] = receiver.wait_for(f"schedule.{event}_v1", timeout=30)
            slim = message.payload[f"schedule.{event}_v1"]
            assert (slim["id"], slim["name"], slim["timezone"]) == (schedule["id"], name, "Europe/London")
            assert "config" not in slim  # the summary only


def test_an_escalation_of_a_private_incident_is_private(mock: IncidentMock) -> None:
    with open(DEFAULT_FIXTURES, encoding="utf-8") as fh:
        fixtures = yaml.safe_load(fh)
    board = {"id": "01JGZ0KEY00000000000BRD000", "token": "on-call-board", "name": "On-call board"}
    fixtures["api_keys"].append({**board, "roles": ["on_call_viewer"]})
    known = ("organisation", "api_keys", "severities", "incident_types", "incident_statuses", "users")
    fixtures = {k: v for k, v in fixtures.items() if k in known}  # the tables a sandbox's own fixtures take
    with (
        mock.sandbox(fixtures, frozen_at=START) as frozen,
        httpx.Client(
            base_url=frozen.base_url, headers={"Authorization": f"Bearer {frozen.keys.full}"}, timeout=30
        ) as api,
    ):
        private_escalation_stays_private(frozen, api)


def private_escalation_stays_private(frozen: Sandbox, api: httpx.Client) -> None:
    incident = {"idempotency_key": "secret", "name": "Breach", "visibility": "private", "severity_id": MAJOR}
    private = ok(api.post("/v2/incidents", json=incident))["incident"]
    with WebhookReceiver() as receiver:
        endpoint = frozen.webhooks.register(receiver.url)
        receiver.secret = endpoint.secret
        created = ok(escalate(api, "p-1", user_ids=[ADA], incident_id=private["id"]), 201)["escalation"]
        assert [i["id"] for i in created["related_incidents"]] == [private["id"]]
        assert created["related_incidents"][0]["visibility"] == "private"
        [message] = receiver.wait_for("private_escalation.escalation_created_v1", timeout=30)
        assert message.payload["private_escalation.escalation_created_v1"] == {"id": created["id"]}
        frozen.clock.advance(dt.timedelta(seconds=300))
        ok(api.get("/v2/escalations"))  # the list notices the expiry
        [changed] = receiver.wait_for("private_escalation.escalation_status_updated_v1", timeout=30)
        assert changed.payload["private_escalation.escalation_status_updated_v1"] == {"id": created["id"]}
    viewer = {"Authorization": f"Bearer {frozen.keys['on-call-board']}"}  # escalations, not private incidents
    assert api.get(f"/v2/escalations/{created['id']}", headers=viewer).status_code == 404
    listed = ok(api.get("/v2/escalations", headers=viewer))["escalations"]
    assert created["id"] not in [e["id"] for e in listed]
    assert ok(api.get(f"/v2/escalations/{created['id']}"))["escalation"]["status"] == "expired"


def test_an_expiry_is_announced_once_without_an_actor(frozen: Sandbox, api: httpx.Client) -> None:
    with WebhookReceiver() as receiver:
        endpoint = frozen.webhooks.register(receiver.url)
        receiver.secret = endpoint.secret
        created = ok(escalate(api, "x-1", user_ids=[GRACE]), 201)["escalation"]
        frozen.clock.advance(dt.timedelta(seconds=300))
        ok(api.get(f"/v2/escalations/{created['id']}"))
        ok(api.get("/v2/escalations"))
        [changed] = receiver.wait_for("public_escalation.escalation_status_updated_v1", timeout=30)
        change = changed.payload["public_escalation.escalation_status_updated_v1"]
        assert (change["previous_status"], change["new_status"], "actor" in change) == (
            "triggered",
            "expired",
            False,
        )
        assert change["escalation"]["events"][-1]["event"] == "expired"
        ok(escalate(api, "x-2", user_ids=[ADA]), 201)  # a later message: the expiry was not sent twice
        receiver.wait_for("public_escalation.escalation_created_v1", count=2, timeout=30)
        assert receiver.events().count("public_escalation.escalation_status_updated_v1") == 1


def test_a_branch_is_answered_with_labelled_conditions_and_an_escalation_takes_its_else_path(
    api: httpx.Client,
) -> None:
    def level(node_id: str, user: str) -> Json:
        targets = [{"type": "user", "id": user, "urgency": "high"}]
        return {"id": node_id, "type": "level", "level": {"targets": targets, "time_to_ack_seconds": 60}}

    condition = {
        "subject": "alert.priority",
        "operation": "one_of",
        "param_bindings": [{"array_value": [{"literal": "P1"}]}],
    }
    branch = {
        "conditions": [condition],
        "then_path": [level("then", ADA)],
        "else_path": [level("else", GRACE)],
    }
    body = {"name": "Branching", "path": [{"id": "split", "type": "if_else", "if_else": branch}]}
    made = ok(api.post("/v2/escalation_paths", json=body), 201)["escalation_path"]
    [answered] = made["path"][0]["if_else"]["conditions"]
    assert answered["subject"] == {"label": "alert.priority", "reference": "alert.priority"}
    assert answered["operation"] == {"label": "one_of", "value": "one_of"}
    assert answered["param_bindings"] == [{"array_value": [{"label": "P1", "literal": "P1"}]}]
    assert (made["kind"], made["team_ids"]) == ("standalone", [])
    assert ok(api.get(f"/v2/escalation_paths/{made['id']}"))["escalation_path"] == made
    escalation = ok(escalate(api, "b-1", escalation_path_id=made["id"]), 201)["escalation"]
    assert [u["id"] for u in escalation["events"][1]["users"]] == [GRACE]
    renamed = ok(api.put(f"/v2/escalation_paths/{made['id']}", json={**body, "name": "Renamed"}))[
        "escalation_path"
    ]
    assert renamed == {**made, "name": "Renamed"}
    ok(api.delete(f"/v2/escalation_paths/{made['id']}"), 204)
    assert api.get(f"/v2/escalation_paths/{made['id']}").status_code == 404
    assert (
        ok(api.get(f"/v2/escalations/{escalation['id']}"))["escalation"]["escalation_path_id"] == made["id"]
    )


def test_the_escalation_list_checks_its_filters(api: httpx.Client) -> None:
    assert error_field(api.get("/v2/escalations", params={"alert[not_in]": ""})) == "alert"
    assert error_field(api.get("/v2/escalations", params={"status[one_of]": "asleep"})) == "status"
    assert error_field(api.get("/v2/escalations", params={"status[among]": "triggered"})) == "status"
    assert (
        error_field(api.get("/v2/escalations", params={"created_at[gte]": "yesterday"})) == "created_at[gte]"
    )
    ok(escalate(api, "f-1", user_ids=[ADA]), 201)
    since = ok(api.get("/v2/escalations", params={"created_at[gte]": START.isoformat()}))["escalations"]
    before = ok(api.get("/v2/escalations", params={"created_at[lte]": "2026-01-13T00:00:00Z"}))["escalations"]
    assert [e["title"] for e in since] == ["Checkout down"]
    assert [e["status"] for e in before] == ["expired"]  # the fixture's, created on 2026-01-12
    assert len(ok(api.get("/v2/escalations", params={"status[not_in]": "expired"}))["escalations"]) == 2


# --- acknowledging (the control plane) ----------------------------------------------------------------------
def test_the_control_plane_acknowledges_a_triggered_escalation_once(
    frozen: Sandbox, api: httpx.Client
) -> None:
    path = two_level_path(api)
    with WebhookReceiver() as receiver:
        endpoint = frozen.webhooks.register(receiver.url)
        receiver.secret = endpoint.secret
        created = ok(escalate(api, "ack-1", escalation_path_id=path), 201)["escalation"]
        frozen.clock.advance(dt.timedelta(seconds=60))
        acked = frozen.acknowledge_escalation(created["id"])
        assert acked["status"] == "acked"
        assert [e["event"] for e in acked["events"]] == ["triggered", "notified_users", "acked"]
        assert moment(acked["events"][-1]["occurred_at"]) == START + dt.timedelta(seconds=60)
        [changed] = receiver.wait_for("public_escalation.escalation_status_updated_v1", timeout=30)
        change = changed.payload["public_escalation.escalation_status_updated_v1"]
        assert (change["previous_status"], change["new_status"], "actor" in change) == (
            "triggered",
            "acked",
            False,
        )

        frozen.clock.advance(dt.timedelta(hours=2))  # past the path's end: no further level, no expiry
        shown = ok(api.get(f"/v2/escalations/{created['id']}"))["escalation"]
        assert shown == acked
        assert frozen.acknowledge_escalation(created["id"]) == acked  # again: nothing changes
        assert error_field(api.post(f"/v2/escalations/{created['id']}/actions/cancel")) == "id"
        ok(escalate(api, "ack-2", user_ids=[ADA]), 201)  # a later message: the acknowledgement was sent once
        receiver.wait_for("public_escalation.escalation_created_v1", count=2, timeout=30)
        assert receiver.events().count("public_escalation.escalation_status_updated_v1") == 1
    listed = ok(api.get("/v2/escalations", params={"status[one_of]": "acked"}))["escalations"]
    assert [e["id"] for e in listed] == [created["id"]]


def test_acknowledging_an_unknown_or_finished_escalation_is_refused(
    frozen: Sandbox, api: httpx.Client
) -> None:
    cancelled = ok(escalate(api, "ack-3", user_ids=[ADA]), 201)["escalation"]["id"]
    ok(api.post(f"/v2/escalations/{cancelled}/actions/cancel"))
    lapsing = ok(escalate(api, "ack-4", user_ids=[GRACE]), 201)["escalation"]["id"]
    frozen.clock.advance(dt.timedelta(seconds=300))  # its one level is over: expired, though nobody read it
    control = f"{frozen.base_url.rstrip('/')}/_mock/sandboxes/{frozen.id}/escalations"
    for escalation, status in (
        (cancelled, 422),
        (lapsing, 422),
        (EXPIRED, 422),
        ("01JGZ0NNKNWN00000000000000", 404),
    ):
        answer = httpx.post(f"{control}/{escalation}/actions/acknowledge", timeout=30)
        assert answer.status_code == status, answer.text
        error = answer.json()["errors"][0]
        if status == 422:
            assert error["source"]["field"] == "escalation_id", error
    assert ok(api.get(f"/v2/escalations/{lapsing}"))["escalation"]["status"] == "expired"
    with pytest.raises(ControlPlaneError) as refused:
        frozen.acknowledge_escalation(cancelled)
    assert refused.value.status == 422


# --- shift changes ------------------------------------------------------------------------------------------
SHIFT_CHANGE = "schedule.shift_change_v1"


def shift_changes(endpoint: Any, schedule_id: str | None = None) -> list[tuple[str, list[str], list[str]]]:
    """(instant, previous user ids, current user ids) of the endpoint's shift-change messages (of one
    schedule, when given), in the order they were sent."""
    found = []
    for message in endpoint.messages():
        if message.event_type == SHIFT_CHANGE:
            change = message.payload[SHIFT_CHANGE]
            if schedule_id is not None and change["schedule"]["id"] != schedule_id:
                continue
            previous = [u["id"] for u in change["previous_users"]]
            found.append((message.created_at, previous, [u["id"] for u in change["current_users"]]))
    return found


def test_advancing_the_clock_past_handovers_sends_one_shift_change_each(
    mock: IncidentMock, frozen: Sandbox, api: httpx.Client
) -> None:
    rota = daily_schedule([ADA, GRACE], timezone="UTC", handover_start_at="2026-01-10T09:00:00Z")
    schedule = create_schedule(api, rota)  # Ada on call since 09:00 today (START is 10:00)
    with WebhookReceiver() as receiver, mock.sandbox(frozen_at=START) as neighbour:
        endpoint = frozen.webhooks.register(receiver.url, event_types=[SHIFT_CHANGE])
        receiver.secret = endpoint.secret
        frozen.clock.advance(dt.timedelta(days=2))
        assert shift_changes(endpoint) == [
            ("2026-01-15T09:00:00.000000Z", [ADA], [GRACE]),
            ("2026-01-16T09:00:00.000000Z", [GRACE], [ADA]),
        ]
        delivered = [d.payload[SHIFT_CHANGE] for d in receiver.wait_for(SHIFT_CHANGE, count=2, timeout=30)]
        summary = {k: schedule[k] for k in ("id", "name", "timezone", "team_ids", "created_at", "updated_at")}
        assert [d["schedule"] for d in delivered] == [summary, summary]
        handovers = {(d["previous_users"][0]["name"], d["current_users"][0]["name"]) for d in delivered}
        assert handovers == {("Ada Lovelace", "Grace Hopper"), ("Grace Hopper", "Ada Lovelace")}  # any order

        # the neighbour's clock passes the fixture schedule's weekly handover: its endpoint hears of it, this
        # sandbox's does not
        with WebhookReceiver() as other:
            theirs = neighbour.webhooks.register(other.url, event_types=[SHIFT_CHANGE])
            other.secret = theirs.secret
            neighbour.clock.advance(dt.timedelta(days=7))
            assert shift_changes(theirs) == [("2026-01-19T09:00:00.000000Z", [GRACE], [ADA])]
            other.wait_for(SHIFT_CHANGE, timeout=30)
        assert len(shift_changes(endpoint)) == 2

        frozen.clock.freeze(START + dt.timedelta(days=3))  # a freeze at a later instant is a move as well
        assert shift_changes(endpoint)[2:] == [("2026-01-17T09:00:00.000000Z", [ADA], [GRACE])]
        frozen.clock.freeze(START)  # back: nothing; forward over a handover again sends it again
        assert len(shift_changes(endpoint)) == 3
        frozen.clock.advance(dt.timedelta(days=1))
        assert shift_changes(endpoint)[3:] == [("2026-01-15T09:00:00.000000Z", [ADA], [GRACE])]


def test_a_long_advance_sends_at_most_a_hundred_shift_changes_of_a_schedule(
    frozen: Sandbox, api: httpx.Client
) -> None:
    hourly = daily_schedule(
        [ADA, GRACE],
        timezone="UTC",
        handover_start_at="2026-01-14T10:00:00Z",
        handovers=[{"interval_type": "hourly", "interval": 1}],
    )
    schedule = create_schedule(api, hourly)
    endpoint = frozen.webhooks.register("http://127.0.0.1:9/", event_types=[SHIFT_CHANGE])
    frozen.clock.advance(dt.timedelta(days=30))  # 720 handovers
    found = shift_changes(endpoint, schedule["id"])
    assert len(found) == 100
    assert len(shift_changes(endpoint, SCHEDULE)) == 4  # the fixture schedule's weekly ones: its own bound
    assert found[0] == ("2026-01-14T11:00:00.000000Z", [ADA], [GRACE])
    assert found[-1][0] == "2026-01-18T14:00:00.000000Z"  # the hundredth hour: the earliest are sent


def test_the_entries_read_for_one_move_are_bounded() -> None:
    rotation = {
        "id": "r",
        "handover_start_at": "2026-01-01T00:00:00Z",
        "handovers": [{"interval_type": "hourly", "interval": 1}],
        "layers": [{"id": "l"}],
        "users": [{"id": "a"}, {"id": "b"}],
    }
    schedule = {
        "id": "s",
        "timezone": "UTC",
        "created_at": "2026-01-01T00:00:00Z",
        "config": {"rotations": [rotation]},
    }
    month = START + dt.timedelta(days=30)
    assert len(changes(schedule, [], START, month, 1000)) == 720
    budget = ReadBudget(left=1)  # one step (a week) is read, then the budget is spent
    assert len(changes(schedule, [], START, month, 1000, budget)) == 7 * 24 and budget.left < 0
    assert changes(schedule, [], START, month, 1000, budget) == []
