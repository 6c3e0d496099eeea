"""Attacks on the alerts path: what a key may read of alerts, and alert events that used to hurt.

In-process (ASGI); each asserts a 4xx in the contract's error shape where a request is refused, and that a
key never reads what it may not see.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.mock.conftest import FULL

ADA = "01JGZ0VSER000000000000ADA0"
Json = dict[str, Any]
TEMPLATE = {
    "title": {"reference": "alert.title"},
    "description": {"reference": "alert.description"},
    "attributes": [],
    "expressions": [],
}


async def key_with(client: httpx.AsyncClient, *roles: str) -> dict[str, str]:
    body = {"name": "On-call board", "role_names": list(roles), "team_ids": [], "team_role_names": []}
    made = await client.post("/v1/api_keys", json=body, headers=FULL)
    assert made.status_code in (200, 201), made.text
    return {"Authorization": f"Bearer {made.json()['token']}"}


async def source(client: httpx.AsyncClient, name: str, private: bool) -> Json:
    body = {"name": name, "source_type": "http", "template": {**TEMPLATE, "is_private": private}}
    made = await client.post("/v2/alert_sources", json=body, headers=FULL)
    assert made.status_code == 200, made.text
    found: Json = made.json()["alert_source"]
    return found


async def fire(client: httpx.AsyncClient, origin: Json, title: str) -> Json:
    event = {"title": title, "status": "firing", "deduplication_key": title}
    sent = await client.post(
        f"/v2/alert_events/http/{origin['id']}", params={"token": origin["secret_token"]}, json=event
    )
    assert sent.status_code == 202, sent.text
    listed = await client.get("/v2/alerts", params={"deduplication_key[is]": title}, headers=FULL)
    [alert] = listed.json()["alerts"]
    return dict(alert)


async def test_a_private_sources_alerts_are_hidden_from_a_key_that_may_not_see_private_things(
    client: httpx.AsyncClient,
) -> None:
    """A private source's alert-created webhook carries only its id; its alerts used to be listed, shown and
    resolvable, title and metadata included, by any key that views alerts."""
    secret = await fire(client, await source(client, "Security", private=True), "Intrusion on db-1")
    public = await fire(client, await source(client, "Disks", private=False), "Disk full on web-1")
    board = await key_with(client, "on_call_viewer", "on_call_editor")

    listed = await client.get("/v2/alerts", params={"page_size": 250}, headers=board)
    assert listed.status_code == 200, listed.text
    ids = [a["id"] for a in listed.json()["alerts"]]
    assert public["id"] in ids and secret["id"] not in ids
    for path in (f"/v2/alerts/{secret['id']}",):
        hidden = await client.get(path, headers=board)
        assert hidden.status_code == 404 and hidden.json()["type"] == "not_found", hidden.text
    refused = await client.post(f"/v2/alerts/{secret['id']}/actions/resolve", headers=board)
    assert refused.status_code == 404 and refused.json()["type"] == "not_found", refused.text
    shown = await client.get(f"/v2/alerts/{secret['id']}", headers=FULL)  # global access sees it, firing
    assert shown.status_code == 200 and shown.json()["alert"]["status"] == "firing"
    assert (await client.get(f"/v2/alerts/{public['id']}", headers=board)).status_code == 200


async def test_an_escalation_of_a_private_alert_is_hidden_as_the_alert_is(client: httpx.AsyncClient) -> None:
    """A route escalating a private source's alert without opening an incident used to start an escalation
    any key that views escalations could read, the alert's title included."""
    level = {"targets": [{"type": "user", "id": ADA, "urgency": "high"}], "time_to_ack_seconds": 300}
    made = await client.post(
        "/v2/escalation_paths",
        json={"name": "Security", "path": [{"id": "ada", "type": "level", "level": level}]},
        headers=FULL,
    )
    assert made.status_code == 201, made.text
    origin = await source(client, "Security", private=True)
    route = {
        "name": "Security",
        "is_private": False,
        "enabled": True,
        "alert_sources": [{"alert_source_id": origin["id"], "condition_groups": []}],
        "condition_groups": [],
        "expressions": [],
        "grouping_config": {"default": {"enabled": False}},
        "escalation_config": {
            "auto_cancel_escalations": False,
            "escalation_targets": [
                {"escalation_paths": {"value": {"literal": made.json()["escalation_path"]["id"]}}}
            ],
        },
        "incident_config": {"enabled": False, "auto_decline_enabled": False, "condition_groups": []},
        "message_config": {"destinations": []},
    }
    assert (await client.post("/v3/alert_routes", json=route, headers=FULL)).status_code == 201
    secret = await fire(client, origin, "Intrusion on db-1")
    listed = await client.get("/v2/escalations", params={"alert[one_of]": secret["id"]}, headers=FULL)
    [escalation] = listed.json()["escalations"]
    board = await key_with(client, "on_call_viewer")
    hidden = await client.get(f"/v2/escalations/{escalation['id']}", headers=board)
    assert hidden.status_code == 404 and hidden.json()["type"] == "not_found", hidden.text
    theirs = await client.get("/v2/escalations", params={"page_size": 250}, headers=board)
    assert theirs.status_code == 200
    assert escalation["id"] not in [e["id"] for e in theirs.json()["escalations"]]


async def test_an_alert_whose_route_conditions_take_too_long_to_apply_is_refused_soon(
    client: httpx.AsyncClient,
) -> None:
    """Every new alert is matched against every route's conditions: routes holding thousands of `contains`
    values each, against a long title, used to hold the server for seconds per event (and a tool may send a
    thousand). Past a bound the event is 422, with nothing stored; an ordinary event is routed as before."""
    origin = await source(client, "Logs", private=False)
    values = [{"literal": f"needle {i}"} for i in range(5000)]
    condition = {
        "subject": "alert.title",
        "operation": "contains",
        "param_bindings": [{"array_value": values}],
    }
    route = {
        "is_private": False,
        "enabled": True,
        "alert_sources": [{"alert_source_id": origin["id"], "condition_groups": []}],
        "condition_groups": [{"conditions": [condition]}],
        "expressions": [],
        "grouping_config": {"default": {"enabled": False}},
        "escalation_config": {"auto_cancel_escalations": False, "escalation_targets": []},
        "incident_config": {"enabled": False, "auto_decline_enabled": False, "condition_groups": []},
        "message_config": {"destinations": []},
    }
    for i in range(20):
        made = await client.post("/v3/alert_routes", json={**route, "name": f"Route {i}"}, headers=FULL)
        assert made.status_code == 201, made.text[:300]
    event = {"title": "x" * 100_000, "status": "firing", "deduplication_key": "long"}
    url = f"/v2/alert_events/http/{origin['id']}"
    started = time.monotonic()
    sent = await client.post(url, params={"token": origin["secret_token"]}, json=event)
    took = time.monotonic() - started
    assert sent.status_code == 422 and sent.json()["type"] == "validation_error", sent.text[:300]
    assert took < 10.0, f"the event held the server for {took:.1f} s"
    listed = await client.get("/v2/alerts", params={"deduplication_key[is]": "long"}, headers=FULL)
    assert listed.json()["alerts"] == []
    short = {"title": "needle 7 is down", "status": "firing", "deduplication_key": "short"}
    assert (await client.post(url, params={"token": origin["secret_token"]}, json=short)).status_code == 202


async def test_alert_date_filters_at_the_end_of_the_calendar_and_in_bulk_are_answered(
    client: httpx.AsyncClient,
) -> None:
    """A date bound covers its whole day: the last day of the calendar used to be a 500 (its next midnight
    does not exist), and a list with a thousand date ranges re-read them for every alert, for seconds."""
    everything = (await client.get("/v2/alerts", headers=FULL)).json()["alerts"]
    assert everything
    for query in ({"created_at[lte]": "9999-12-31"}, {"created_at[date_range]": "2020-01-01~9999-12-31"}):
        answer = await client.get("/v2/alerts", params=query, headers=FULL)
        assert answer.status_code == 200, answer.text[:300]
        assert answer.json()["alerts"] == everything
    origin = await source(client, "Bulk", private=False)
    for i in range(900):
        event = {"title": f"Alert {i}", "status": "firing", "deduplication_key": f"bulk-{i}"}
        sent = await client.post(
            f"/v2/alert_events/http/{origin['id']}", params={"token": origin["secret_token"]}, json=event
        )
        assert sent.status_code == 202
    started = time.monotonic()
    plain = await client.get("/v2/alerts", params={"page_size": 250}, headers=FULL)
    usual = time.monotonic() - started
    ranges = ",".join(["2020-01-01~2999-12-31"] * 1400)  # as many as a URL holds
    started = time.monotonic()
    answer = await client.get(
        "/v2/alerts", params={"created_at[date_range]": ranges, "page_size": 250}, headers=FULL
    )
    took = time.monotonic() - started
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json() == plain.json()
    assert took < 5 * usual + 1.0, f"the list held the server for {took:.1f} s (a plain one {usual:.2f} s)"
    bad = await client.get("/v2/alerts", params={"created_at[date_range]": "2020-01-01~soon"}, headers=FULL)
    assert bad.status_code == 422 and bad.json()["errors"][0]["source"]["field"] == "created_at"


async def test_the_notes_on_a_private_alert_are_as_hidden_as_the_alert(client: httpx.AsyncClient) -> None:
    secret = await fire(client, await source(client, "Security", private=True), "Intrusion on db-1")
    public = await fire(client, await source(client, "Disks", private=False), "Disk full on web-1")
    notes = {}
    for alert in (secret, public):
        made = await client.post(
            "/v1/alert_notes",
            json={"alert_id": alert["id"], "content": f"Looking at {alert['title']}"},
            headers=FULL,
        )
        assert made.status_code in (200, 201), made.text[:300]
        notes[alert["id"]] = made.json()["alert_note"]["id"]
    board = await key_with(client, "on_call_viewer", "on_call_editor")

    listed = await client.get("/v1/alert_notes", params={"page_size": 250}, headers=board)
    assert listed.status_code == 200, listed.text[:300]
    assert "Intrusion" not in listed.text and notes[public["id"]] in listed.text
    mine = await client.get("/v1/alert_notes", params={"alert_id": secret["id"]}, headers=board)
    assert mine.status_code == 422 and mine.json()["errors"][0]["source"]["field"] == "alert_id"
    for method, path in (("GET", ""), ("PUT", ""), ("DELETE", "")):
        url = f"/v1/alert_notes/{notes[secret['id']]}{path}"
        answer = await client.request(
            method, url, json={"content": "x"} if method == "PUT" else None, headers=board
        )
        assert answer.status_code == 404 and answer.json()["type"] == "not_found", (method, answer.text[:300])
    written = await client.post(
        "/v1/alert_notes", json={"alert_id": secret["id"], "content": "Me too"}, headers=board
    )
    assert written.status_code == 422 and written.json()["errors"][0]["source"]["field"] == "alert_id"
    everything = await client.get("/v1/alert_notes", params={"page_size": 250}, headers=FULL)
    assert "Intrusion" in everything.text  # global access sees them
