"""Workflows, workflow runs, maintenance windows and status pages: the behaviour written by hand.

Against the testing kit's mock on a loopback port, one fresh sandbox per test, with response validation
on; the status page flow also goes through the official SDK's own endpoint functions. Time-dependent
behaviour runs on the sandbox's frozen clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from incident_io import AuthenticatedClient
from incident_io.api.status_pages_v2 import (
    status_pages_v2_create_status_page_incident,
    status_pages_v2_create_status_page_incident_update,
    status_pages_v2_show_status_page_incident,
)
from incident_io.models import (
    StatusPageIncidentUpdateV2,
    StatusPagesCreateStatusPageIncidentPayloadV2,
    StatusPagesCreateStatusPageIncidentResultV2,
    StatusPagesCreateStatusPageIncidentUpdatePayloadV2,
    StatusPagesCreateStatusPageIncidentUpdateResultV2,
    StatusPagesShowStatusPageIncidentResultV2,
)

from incident_mock.testing import Sandbox

AT = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
PAGE = "01JGZ0SP000000000000PVB11C"
OTHER_PAGE = "01JGZ0SP0000000000PAYMENTS"
API, WEB, MOBILE, CARDS = (
    "01JGZ0SPC00000000000000AP1",
    "01JGZ0SPC00000000000WEBAPP",
    "01JGZ0SPC000000000000M0B1E",
    "01JGZ0SPC000000000000CARDS",
)
DASHBOARD = "01JGZ0SPG0000000000000DASH"
SEEDED_SP_INCIDENT, SEEDED_MAINTENANCE = "01JGZ0SP100000000000AP1ERR", "01JGZ0SPM0000000000DBMA1NT"
NOTIFY, PAGER = "01JGZ0WF000000000000N0T1FY", "01JGZ0WF000000000000PAGE0N"
INCIDENT = "01JGZ1NC000000000000000042"
ADA, GRACE = "01JGZ0VSER000000000000ADA0", "01JGZ0VSER0000000000GRACE0"
UPCOMING, PAST = "01JGZ0MW00000000000NETW0RK", "01JGZ0MW000000000DBVPGRADE"


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {sandbox.keys.full}"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=15) as client:
        yield client


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()  # type: ignore[no-any-return]


def refused(response: httpx.Response, field: str) -> str:
    """The 422's message, after checking it names `field`."""
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["source"]["field"] == field, error
    return str(error["message"])


# --- status pages -------------------------------------------------------------------------------------
def sp_incident(http: httpx.Client, key: str, **extra: Any) -> dict[str, Any]:
    body = {
        "status_page_id": PAGE,
        "name": "Checkout errors",
        "incident_status": "investigating",
        "idempotency_key": key,
        "message": "Some card payments fail.",
        "notify_subscribers": False,
        **extra,
    }
    return ok(http.post("/v2/status_page_incidents", json=body), 201)["status_page_incident"]  # type: ignore[no-any-return]


def sp_update(http: httpx.Client, incident_id: str, **extra: Any) -> httpx.Response:
    body = {
        "status_page_incident_id": incident_id,
        "message": "More news.",
        "notify_subscribers": False,
        **extra,
    }
    return http.post("/v2/status_page_incident_updates", json=body)


def test_updates_move_the_incident_and_open_change_and_end_component_impacts(
    sandbox: Sandbox, http: httpx.Client
) -> None:
    sandbox.clock.freeze(AT)
    made = sp_incident(
        http, "flow-1", component_statuses=[{"component_id": API, "component_status": "degraded_performance"}]
    )
    assert made["incident_status"] == "investigating"
    assert made["component_impacts"] == [
        {"component_id": API, "component_status": "degraded_performance", "start_at": stamp(AT)}
    ]
    sandbox.clock.advance(dt.timedelta(minutes=10))
    update = ok(
        sp_update(
            http,
            made["id"],
            incident_status="identified",
            component_statuses=[
                {"component_id": API, "component_status": "full_outage"},
                {"component_id": WEB, "component_status": "partial_outage"},
            ],
        ),
        201,
    )["status_page_incident_update"]
    assert (update["status_page_incident_id"], update["incident_status"]) == (made["id"], "identified")
    sandbox.clock.advance(dt.timedelta(minutes=10))
    ok(
        sp_update(
            http, made["id"], component_statuses=[{"component_id": WEB, "component_status": "operational"}]
        ),
        201,
    )
    shown = ok(http.get(f"/v2/status_page_incidents/{made['id']}"))["status_page_incident"]
    assert shown["incident_status"] == "identified"  # an update without a status keeps the incident's
    t10, t20 = stamp(AT + dt.timedelta(minutes=10)), stamp(AT + dt.timedelta(minutes=20))
    assert shown["component_impacts"] == [
        {
            "component_id": API,
            "component_status": "degraded_performance",
            "start_at": stamp(AT),
            "end_at": t10,
        },
        {"component_id": API, "component_status": "full_outage", "start_at": t10},
        {"component_id": WEB, "component_status": "partial_outage", "start_at": t10, "end_at": t20},
    ]
    assert [u["incident_status"] for u in shown["updates"]] == ["investigating", "identified", "identified"]
    assert shown["updates"][1] == update
    sandbox.clock.advance(dt.timedelta(minutes=10))
    ok(sp_update(http, made["id"], incident_status="resolved"), 201)
    resolved = ok(http.get(f"/v2/status_page_incidents/{made['id']}"))["status_page_incident"]
    assert resolved["incident_status"] == "resolved"
    assert all("end_at" in impact for impact in resolved["component_impacts"])  # resolving ends them all


def test_the_list_filters_by_component_group_and_time(sandbox: Sandbox, http: httpx.Client) -> None:
    sandbox.clock.freeze(AT)
    made = sp_incident(
        http, "filters-1", component_statuses=[{"component_id": MOBILE, "component_status": "partial_outage"}]
    )

    def listed(**query: str) -> list[str]:
        found = ok(http.get("/v2/status_page_incidents", params={"status_page_id": PAGE, **query}))
        return [i["id"] for i in found["status_page_incidents"]]

    assert listed()[0] == made["id"]  # newest first
    assert made["id"] in listed(component_id=MOBILE)
    assert made["id"] in listed(group_id=DASHBOARD)  # the mobile app is in the dashboard group
    assert listed(component_id=API) == [SEEDED_SP_INCIDENT]
    assert made["id"] not in listed(end_at="2026-02-01T00:00:00Z")  # it started after that
    assert made["id"] in listed(start_at="2026-02-01T00:00:00Z")
    refused(
        http.get("/v2/status_page_incidents", params={"status_page_id": PAGE, "component_id": CARDS}),
        "component_id",
    )
    refused(
        http.get("/v2/status_page_incidents", params={"status_page_id": "01JGZ0NKN0WN"}), "status_page_id"
    )


def test_references_are_checked_and_nothing_is_stored_on_a_422(http: httpx.Client) -> None:
    before = ok(http.get("/v2/status_page_incidents", params={"status_page_id": PAGE}))
    body = {
        "status_page_id": PAGE,
        "name": "x",
        "incident_status": "investigating",
        "idempotency_key": "refs-1",
        "message": "x",
        "notify_subscribers": False,
    }
    off_page = [{"component_id": CARDS, "component_status": "full_outage"}]  # a component of the other page
    refused(
        http.post("/v2/status_page_incidents", json={**body, "component_statuses": off_page}),
        "component_statuses",
    )
    refused(http.post("/v2/status_page_incidents", json={**body, "status_page_id": "nope"}), "status_page_id")
    assert ok(http.get("/v2/status_page_incidents", params={"status_page_id": PAGE})) == before
    refused(sp_update(http, "01JGZ0NKN0WN"), "status_page_incident_id")
    refused(sp_update(http, SEEDED_SP_INCIDENT, component_statuses=off_page), "component_statuses")


def test_an_idempotency_key_answers_what_it_created_on_its_status_page_only(http: httpx.Client) -> None:
    first = sp_incident(http, "same-key")
    assert sp_incident(http, "same-key", name="Another name") == first
    elsewhere = sp_incident(http, "same-key", status_page_id=OTHER_PAGE)
    assert elsewhere["id"] != first["id"]
    listed = ok(http.get("/v2/status_page_incidents", params={"status_page_id": PAGE}))[
        "status_page_incidents"
    ]
    assert [i["id"] for i in listed].count(first["id"]) == 1


def test_an_incident_takes_at_most_100_updates(http: httpx.Client) -> None:
    made = sp_incident(http, "many-updates")  # its first update is one of the 100
    for _ in range(99):
        ok(sp_update(http, made["id"]), 201)
    assert "at most 100" in refused(sp_update(http, made["id"]), "status_page_incident_id")
    shown = ok(http.get(f"/v2/status_page_incidents/{made['id']}"))["status_page_incident"]
    assert len(shown["updates"]) == 100


def test_a_retrospective_incident_replays_its_updates_in_time_order(http: httpx.Client) -> None:
    body = {
        "status_page_id": PAGE,
        "name": "Login failures",
        "idempotency_key": "retro-1",
        "updates": [  # sent out of order
            {"incident_status": "resolved", "message": "Fixed.", "published_at": "2026-01-04T09:00:00Z"},
            {
                "incident_status": "investigating",
                "message": "Logins fail.",
                "published_at": "2026-01-04T08:00:00Z",
                "component_statuses": [{"component_id": WEB, "component_status": "full_outage"}],
            },
        ],
    }
    made = ok(http.post("/v2/status_page_retrospective_incidents", json=body), 201)["status_page_incident"]
    assert made["incident_status"] == "resolved"
    assert made["published_at"] == "2026-01-04T08:00:00.000000Z"
    assert [u["message"] for u in made["updates"]] == ["Logins fail.", "Fixed."]
    assert made["component_impacts"] == [
        {
            "component_id": WEB,
            "component_status": "full_outage",
            "start_at": "2026-01-04T08:00:00.000000Z",
            "end_at": "2026-01-04T09:00:00.000000Z",
        }
    ]
    refused(http.post("/v2/status_page_retrospective_incidents", json={**body, "updates": []}), "updates")


def test_a_maintenance_gets_periods_and_its_updates_move_its_status(http: httpx.Client) -> None:
    body = {
        "status_page_id": PAGE,
        "name": "Search rebuild",
        "maintenance_status": "maintenance_scheduled",
        "idempotency_key": "m-1",
        "affected_component_ids": [WEB, MOBILE],
        "start_at": "2030-05-01T02:00:00Z",
        "end_at": "2030-05-01T04:00:00Z",
        "message": "Search may be partial.",
        "notify_subscribers": False,
    }
    made = ok(http.post("/v2/status_page_maintenances", json=body), 201)["status_page_maintenance"]
    assert [p["component_id"] for p in made["component_maintenance_periods"]] == [WEB, MOBILE]
    assert made["automate_maintenance_status"] is False
    update = {
        "status_page_maintenance_id": made["id"],
        "maintenance_status": "maintenance_in_progress",
        "message": "Started.",
        "notify_subscribers": False,
        "component_statuses": [{"component_id": WEB, "component_status": "under_maintenance"}],
    }
    ok(http.post("/v2/status_page_maintenance_updates", json=update), 201)
    shown = ok(http.get(f"/v2/status_page_maintenances/{made['id']}"))["status_page_maintenance"]
    assert shown["maintenance_status"] == "maintenance_in_progress"
    assert [u["message"] for u in shown["updates"]] == ["Search may be partial.", "Started."]
    refused(http.post("/v2/status_page_maintenances", json={**body, "end_at": body["start_at"]}), "end_at")
    refused(
        http.post("/v2/status_page_maintenances", json={**body, "affected_component_ids": [CARDS]}),
        "affected_component_ids",
    )
    listed = ok(
        http.get("/v2/status_page_maintenances", params={"status_page_id": PAGE, "component_id": MOBILE})
    )
    assert [m["id"] for m in listed["status_page_maintenances"]] == [made["id"]]


def test_the_structure_and_the_response_incidents_of_a_status_page(http: httpx.Client) -> None:
    structure = ok(http.get(f"/v2/status_page_structures/{OTHER_PAGE}"))
    assert structure["current_structure"]["items"][0]["component"]["component_id"] == CARDS
    assert structure["display_uptime_mode"] == "chart_only"
    linked = ok(http.get(f"/v1/status-pages/{PAGE}/incidents/{SEEDED_SP_INCIDENT}/response-incidents"))
    assert [i["id"] for i in linked["incidents"]] == [INCIDENT]
    assert (
        http.get(
            f"/v1/status-pages/{OTHER_PAGE}/incidents/{SEEDED_SP_INCIDENT}/response-incidents"
        ).status_code
        == 404
    )
    assert http.get("/v2/status_page_structures/01JGZ0NKN0WN").status_code == 404


def test_the_status_page_flow_through_the_official_sdk(sandbox: Sandbox) -> None:
    with AuthenticatedClient(base_url=sandbox.base_url, token=sandbox.keys.full) as client:
        created = status_pages_v2_create_status_page_incident.sync_detailed(
            client=client,
            body=StatusPagesCreateStatusPageIncidentPayloadV2.from_dict(
                {
                    "status_page_id": PAGE,
                    "name": "API errors",
                    "incident_status": "investigating",
                    "idempotency_key": "sdk-1",
                    "message": "Errors.",
                    "notify_subscribers": False,
                    "component_statuses": [{"component_id": API, "component_status": "partial_outage"}],
                }
            ),
        )
        assert created.status_code == 201
        assert isinstance(created.parsed, StatusPagesCreateStatusPageIncidentResultV2)
        incident_id = created.parsed.status_page_incident.id  # type: ignore[union-attr]
        updated = status_pages_v2_create_status_page_incident_update.sync_detailed(
            client=client,
            body=StatusPagesCreateStatusPageIncidentUpdatePayloadV2.from_dict(
                {
                    "status_page_incident_id": incident_id,
                    "incident_status": "resolved",
                    "message": "Fixed.",
                    "notify_subscribers": False,
                }
            ),
        )
        assert isinstance(updated.parsed, StatusPagesCreateStatusPageIncidentUpdateResultV2)
        assert isinstance(updated.parsed.status_page_incident_update, StatusPageIncidentUpdateV2)
        shown = status_pages_v2_show_status_page_incident.sync_detailed(incident_id, client=client)
        assert isinstance(shown.parsed, StatusPagesShowStatusPageIncidentResultV2)
        incident = shown.parsed.status_page_incident
        assert str(incident.incident_status) == "resolved"  # type: ignore[union-attr]
        assert [i.end_at is not None for i in incident.component_impacts] == [True]  # type: ignore[union-attr]


# --- maintenance windows ------------------------------------------------------------------------------
def window(**extra: Any) -> dict[str, Any]:
    return {
        "name": "Firmware update",
        "lead": {"email": "grace@example.com"},
        "start_at": "2026-03-01T10:00:00Z",
        "end_at": "2026-03-01T12:00:00Z",
        "alert_condition_groups": [],
        "show_in_sidebar": True,
        **extra,
    }


def test_a_window_must_end_after_it_starts_and_nothing_is_stored_otherwise(http: httpx.Client) -> None:
    before = ok(http.get("/v1/maintenance_windows"))
    message = refused(
        http.post("/v1/maintenance_windows", json=window(end_at="2026-03-01T10:00:00Z")), "end_at"
    )
    assert "after it starts" in message
    refused(http.post("/v1/maintenance_windows", json=window(end_at="2026-03-01T09:00:00+00:00")), "end_at")
    assert ok(http.get("/v1/maintenance_windows")) == before
    refused(
        http.put(f"/v1/maintenance_windows/{UPCOMING}", json=window(start_at="2026-03-02T00:00:00Z")),
        "end_at",
    )


def test_the_lead_and_the_incident_are_references(http: httpx.Client) -> None:
    made = ok(http.post("/v1/maintenance_windows", json=window(incident_id=INCIDENT)), 201)[
        "maintenance_window"
    ]
    assert made["lead"]["user"]["id"] == GRACE  # named by email, answered as the user
    assert made["incident_id"] == INCIDENT
    assert "no such user" in refused(
        http.post("/v1/maintenance_windows", json=window(lead={"email": "nobody@example.com"})), "lead"
    )
    refused(http.post("/v1/maintenance_windows", json=window(incident_id="01JGZ0NKN0WN")), "incident_id")
    changed = ok(
        http.put(f"/v1/maintenance_windows/{made['id']}", json=window(lead={"slack_user_id": "U0ADA"}))
    )
    assert changed["maintenance_window"]["lead"]["user"]["id"] == ADA


def test_the_status_filter_and_the_delete_of_an_active_window_follow_the_sandbox_clock(
    sandbox: Sandbox, http: httpx.Client
) -> None:
    sandbox.clock.freeze(AT)  # 2026-03-01 09:00
    made = ok(http.post("/v1/maintenance_windows", json=window()), 201)["maintenance_window"]

    def states() -> dict[str, list[str]]:
        return {
            s: [
                w["id"]
                for w in ok(http.get("/v1/maintenance_windows", params={"status": s}))["maintenance_windows"]
            ]
            for s in ("active", "upcoming", "past")
        }

    assert states() == {"active": [], "upcoming": [made["id"], UPCOMING], "past": [PAST]}
    sandbox.clock.advance(dt.timedelta(hours=1))  # 10:00: it has started
    assert states()["active"] == [made["id"]]
    refused(http.delete(f"/v1/maintenance_windows/{made['id']}"), "force")
    assert http.delete(f"/v1/maintenance_windows/{made['id']}", params={"force": "true"}).status_code == 204
    assert http.get(f"/v1/maintenance_windows/{made['id']}").status_code == 404
    assert http.delete(f"/v1/maintenance_windows/{UPCOMING}", params={"force": "false"}).status_code == 204


# --- workflows ------------------------------------------------------------------------------------------
def workflow(**extra: Any) -> dict[str, Any]:
    return {
        "name": "Tell support",
        "trigger": "incident.created",
        "once_for": ["incident"],
        "condition_groups": [
            {
                "conditions": [
                    {
                        "subject": "incident.severity",
                        "operation": "one_of",
                        "param_bindings": [{"array_value": [{"literal": "01JGZ0SEV0000000000000MAJ0"}]}],
                    }
                ]
            }
        ],
        "steps": [{"id": "01JGZ0WFSTEP0000000SVPP0RT", "name": "slack.post_message", "param_bindings": []}],
        "expressions": [],
        "runs_on_incident_modes": ["standard"],
        "continue_on_step_error": False,
        "runs_on_incidents": "newly_created",
        **extra,
    }


def test_a_workflow_counts_its_versions_and_keeps_its_trigger(http: httpx.Client) -> None:
    made = ok(http.post("/v2/workflows", json=workflow()), 201)
    first = made["workflow"]
    assert first["version"] == 1
    assert first["trigger"] == {"name": "incident.created", "label": "Incident created"}
    assert first["condition_groups"][0]["conditions"][0]["subject"]["reference"] == "incident.severity"
    assert (first["state"], first["auto_run_mode"], first["private_incident_scope"]) == (
        "active",
        "run_automatically",
        "none",
    )
    assert made["management_meta"] == {"annotations": {}, "managed_by": "dashboard"}
    update = {k: v for k, v in workflow(name="Tell support, twice").items() if k != "trigger"}
    for version in (2, 3):
        answer = ok(http.put(f"/v2/workflows/{first['id']}", json=update))["workflow"]
        assert answer["version"] == version
    shown = ok(http.get(f"/v2/workflows/{first['id']}"))["workflow"]
    assert (shown["version"], shown["name"], shown["trigger"]) == (3, "Tell support, twice", first["trigger"])
    listed = {w["id"]: w["version"] for w in ok(http.get("/v2/workflows"))["workflows"]}
    assert listed[first["id"]] == 3
    assert listed[NOTIFY] == 3  # the seeded one is untouched
    assert "annotations" not in shown


def test_annotations_answer_in_management_meta(http: httpx.Client) -> None:
    made = ok(
        http.post("/v2/workflows", json=workflow(annotations={"incident.io/terraform/version": "5.4.0"})), 201
    )
    assert made["management_meta"]["managed_by"] == "terraform"
    assert made["management_meta"]["annotations"] == {"incident.io/terraform/version": "5.4.0"}


def test_the_private_incident_scope_and_its_deprecated_flag_must_agree(http: httpx.Client) -> None:
    made = ok(http.post("/v2/workflows", json=workflow(include_private_incidents=True)), 201)["workflow"]
    assert (made["private_incident_scope"], made["include_private_incidents"]) == ("all", True)
    both = workflow(private_incident_scope="none", include_private_incidents=True)
    refused(http.post("/v2/workflows", json=both), "include_private_incidents")
    agreed = ok(http.post("/v2/workflows", json=workflow(private_incident_scope="owning_teams")), 201)[
        "workflow"
    ]
    assert agreed["include_private_incidents"] is True


def test_deleting_a_workflow_deletes_its_runs(http: httpx.Client) -> None:
    runs = ok(http.get("/v2/workflow_runs", params={"workflow_id": NOTIFY}))
    assert runs["pagination_meta"]["total_record_count"] == 2
    assert http.delete(f"/v2/workflows/{NOTIFY}").status_code == 204
    assert http.get(f"/v2/workflow_runs/{runs['workflow_runs'][0]['id']}").status_code == 404
    assert [r["workflow_id"] for r in ok(http.get("/v2/workflow_runs"))["workflow_runs"]] == [PAGER]
    refused(http.get("/v2/workflow_runs", params={"workflow_id": NOTIFY}), "workflow_id")


def test_workflow_runs_filter_by_incident_and_creation_date(http: httpx.Client) -> None:
    def listed(params: Any) -> list[str]:
        return [r["id"] for r in ok(http.get("/v2/workflow_runs", params=params))["workflow_runs"]]

    everything = listed({})
    assert len(everything) == 3
    assert listed({"incident_id": INCIDENT}) == everything
    assert listed({"incident_id": "1"}) == everything  # an incident by its number
    assert listed({"created_at[gte]": "2026-01-13"}) == []
    assert listed({"created_at[date_range]": "2026-01-12~2026-01-12"}) == everything
    refused(
        http.get("/v2/workflow_runs", params={"created_at[date_range]": "2026-01-13~2026-01-12"}),
        "created_at",
    )
    refused(http.get("/v2/workflow_runs", params={"incident_id": "01JGZ0NKN0WN"}), "incident_id")
    first = ok(http.get("/v2/workflow_runs", params={"page_size": 2}))
    assert first["pagination_meta"] == {
        "page_size": 2,
        "after": first["workflow_runs"][1]["id"],
        "total_record_count": 3,
    }
    rest = listed({"page_size": 2, "after": first["pagination_meta"]["after"]})
    assert [r["id"] for r in first["workflow_runs"]] + rest == everything
