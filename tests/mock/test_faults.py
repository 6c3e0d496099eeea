"""Faults in-process (faults.py, injection.py, the control plane's Faults#...): arming, refusals, matching.

The client-visible effect of each kind over a real socket is tests/mock/test_faults_live.py's.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from connexion.middleware.request_validation import RequestValidationMiddleware

from incident_contract.facts import declared_errors, error_types
from incident_mock.domain.errors import ConnectionCut
from incident_mock.http.admission import Admission
from incident_mock.http.fault_injection import Injection
from incident_mock.kit.faults import MAX_FAULTS
from incident_mock.resources.organisation import Store
from tests.mock.conftest import CREATOR, FULL, VIEWER, incident_body
from tests.mock.seed import MAJOR
from tests.mock.test_dispatch import stack

FAULTS = "/_mock/sandboxes/default/faults"
CREATE, LIST_SEVERITIES, SHOW_SEVERITY = "Incidents V2#Create", "Severities V1#List", "Severities V1#Show"


async def arm(client: httpx.AsyncClient, url: str = FAULTS, **body: Any) -> dict[str, Any]:
    answer = await client.post(url, json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["fault"]  # type: ignore[no-any-return]


async def refused(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    answer = await client.post(FAULTS, json=body)
    assert answer.status_code == 422, answer.text
    error: dict[str, Any] = answer.json()["errors"][0]
    return error


async def journal(client: httpx.AsyncClient, sandbox: str = "default") -> list[dict[str, Any]]:
    answer = await client.get(f"/_mock/sandboxes/{sandbox}/requests")
    return answer.json()["requests"]  # type: ignore[no-any-return]


async def test_injection_runs_after_admission_and_before_validation(
    app: Any, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/_mock/health")).status_code == 200
    kinds = [Admission, Injection, RequestValidationMiddleware]
    layers = stack(app)
    positions = [next(i for i, layer in enumerate(layers) if isinstance(layer, kind)) for kind in kinds]
    assert positions == sorted(positions)


async def test_arm_list_show_remove_and_clear(client: httpx.AsyncClient) -> None:
    first = await arm(client, kind="error", operation_id=CREATE, status=500, times=2)
    assert first["id"].startswith("flt_") and (first["remaining"], first["fired"]) == (2, 0)
    second = await arm(client, kind="delay", seconds=0.01)
    listed = (await client.get(FAULTS)).json()
    assert [f["id"] for f in listed["faults"]] == [first["id"], second["id"]]
    assert listed["max_faults"] == MAX_FAULTS
    assert (await client.get(f"{FAULTS}/{first['id']}")).json()["fault"] == first
    assert (await client.delete(f"{FAULTS}/{first['id']}")).status_code == 204
    assert (await client.get(f"{FAULTS}/{first['id']}")).status_code == 404
    assert (await client.delete(f"{FAULTS}/{first['id']}")).status_code == 404
    assert (await client.post(f"{FAULTS}/actions/clear")).status_code == 204
    assert (await client.get(FAULTS)).json()["faults"] == []
    third = await arm(client, kind="drop")
    assert third["id"] not in (first["id"], second["id"])  # ids are never reused


async def test_a_status_the_operation_does_not_declare_is_422_naming_the_declared_ones(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    declared = declared_errors(spec)[CREATE]
    assert 404 not in declared
    error = await refused(client, kind="error", operation_id=CREATE, status=404)
    assert error["source"]["field"] == "status"
    assert ", ".join(map(str, sorted(declared))) in error["message"]
    every = sorted(frozenset().union(*declared_errors(spec).values()))
    error = await refused(client, kind="error", status=418)
    assert ", ".join(map(str, every)) in error["message"] and "418" in error["message"]
    assert (await client.get(FAULTS)).json()["faults"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "error", "operation_id": "Nope#Nothing"}, "operation_id"),
        ({"kind": "drop", "status": 500}, "status"),
        ({"kind": "error", "status": 500, "retry_after": 3}, "retry_after"),
        ({"kind": "error", "then": "cut"}, "then"),
        ({"kind": "delay"}, "seconds"),
        ({"kind": "delay", "seconds": 2, "max_seconds": 1}, "max_seconds"),
        ({"kind": "delay", "seconds": 61}, "seconds"),
        ({"kind": "drop", "times": 0}, "times"),
        ({"kind": "drop", "probability": 1.5}, "probability"),
        ({"kind": "error", "status": 429, "retry_after": 3601}, "retry_after"),
        ({"kind": "explode"}, "kind"),
        ({"kind": "drop", "extra": 1}, "extra"),
    ],
)
async def test_every_input_is_bounded(client: httpx.AsyncClient, body: dict[str, Any], field: str) -> None:
    answer = await client.post(FAULTS, json=body)
    assert answer.status_code == 422, answer.text
    assert field in answer.text


async def test_an_error_for_every_operation_fires_only_where_the_status_is_declared(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    declared = declared_errors(spec)
    assert 404 in declared[SHOW_SEVERITY] and 404 not in declared[LIST_SEVERITIES]
    fault = await arm(client, kind="error", status=404, times=1)
    assert (await client.get("/v1/severities", headers=FULL)).status_code == 200  # not declared: untouched
    answer = await client.get(f"/v1/severities/{MAJOR}", headers=FULL)
    body = answer.json()
    assert (answer.status_code, body["type"], body["status"]) == (404, error_types(spec)[404], 404)
    assert body["errors"][0]["code"] == "injected_fault" and fault["id"] in body["errors"][0]["message"]
    assert body["request_id"] == answer.headers["x-request-id"]
    assert (await client.get(f"/v1/severities/{MAJOR}", headers=FULL)).status_code == 200  # spent
    shown = (await client.get(f"{FAULTS}/{fault['id']}")).json()["fault"]
    assert (shown["remaining"], shown["fired"]) == (0, 1)
    entries = await journal(client)
    assert [e["fault"] for e in entries] == [None, {**_note(fault), "status": 404}, None]


def _note(fault: dict[str, Any]) -> dict[str, Any]:
    return {"id": fault["id"], "kind": fault["kind"], "status": None, "then": None, "seconds": None}


async def test_a_429_carries_retry_after(client: httpx.AsyncClient) -> None:
    await arm(client, kind="error", status=429, retry_after=7)
    answer = await client.get("/v1/severities", headers=FULL)
    assert (answer.status_code, answer.headers["retry-after"]) == (429, "7")
    [entry] = await journal(client)
    assert (entry["retry_after"], entry["fault"]["status"]) == ("7", 429)


async def test_faults_never_fire_on_requests_refused_before_them(client: httpx.AsyncClient) -> None:
    fault = await arm(client, kind="error", status=500, times=1)
    assert (await client.get("/v1/severities")).status_code == 401
    assert (await client.get("/v1/severities", headers={"Authorization": "Bearer nope"})).status_code == 401
    assert (await client.post("/v2/incidents", headers=VIEWER, json=incident_body("x"))).status_code == 403
    assert (await client.get(f"{FAULTS}/{fault['id']}")).json()["fault"]["fired"] == 0
    assert (await client.get("/v1/severities", headers=FULL)).status_code == 500


async def test_after_commit_stores_then_answers_500_and_a_retry_replays(
    client: httpx.AsyncClient, store: Store
) -> None:
    await arm(client, kind="after_commit", operation_id=CREATE)
    before = len(store.incidents)
    first = await client.post("/v2/incidents", headers=CREATOR, json=incident_body("lost"))
    assert (first.status_code, first.json()["type"]) == (500, "api_error")
    assert len(store.incidents) == before + 1
    again = await client.post("/v2/incidents", headers=CREATOR, json=incident_body("lost"))
    assert (again.status_code, again.headers["idempotent-replayed"]) == (200, "true")
    assert len(store.incidents) == before + 1
    entries = await journal(client)
    assert [(e["status"], e["replayed"], (e["fault"] or {}).get("kind")) for e in entries] == [
        (500, False, "after_commit"),
        (200, True, None),
    ]


async def test_after_commit_is_not_spent_by_a_request_that_fails(client: httpx.AsyncClient) -> None:
    fault = await arm(client, kind="after_commit", operation_id=CREATE)
    bad = await client.post("/v2/incidents", headers=CREATOR, json={"idempotency_key": "k"})
    assert bad.status_code == 422
    assert (await client.get(f"{FAULTS}/{fault['id']}")).json()["fault"]["remaining"] == 1
    assert [e["fault"] for e in await journal(client)] == [None]


async def test_drop_in_process_raises_connection_cut_and_stores_nothing(
    client: httpx.AsyncClient, store: Store
) -> None:
    fault = await arm(client, kind="drop", operation_id=CREATE)
    before = len(store.incidents)
    with pytest.raises(ConnectionCut, match=fault["id"]):
        await client.post("/v2/incidents", headers=CREATOR, json=incident_body("dropped"))
    assert len(store.incidents) == before
    [entry] = await journal(client)
    assert (entry["status"], entry["fault"]["kind"], entry["operation_id"]) == (0, "drop", CREATE)


async def pattern(client: httpx.AsyncClient, token: str, count: int = 24) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}
    return [(await client.get("/v1/severities", headers=headers)).status_code for _ in range(count)]


async def test_the_same_seed_gives_the_same_pattern(client: httpx.AsyncClient, app: Any) -> None:
    await arm(client, kind="error", status=500, probability=0.5, seed=42)
    first = await pattern(client, "mock-key-full")
    assert (await client.post(f"{FAULTS}/actions/clear")).status_code == 204
    await arm(client, kind="error", status=500, probability=0.5, seed=42)
    assert await pattern(client, "mock-key-full") == first
    assert 0 < first.count(500) < len(first)
    await client.post(f"{FAULTS}/actions/clear")
    await arm(client, kind="error", status=500, probability=0.5, seed=43)
    assert await pattern(client, "mock-key-full") != first
    # No seed given: the sandbox's own seed, when it has one (Sandbox.seed).
    await client.post(f"{FAULTS}/actions/clear")
    app.holder.seed = 42
    try:
        fault = await arm(client, kind="error", status=500, probability=0.5)
        assert fault["seed"] == 42
        assert await pattern(client, "mock-key-full") == first
    finally:
        app.holder.seed = None


async def test_faults_are_per_sandbox_and_a_reset_clears_them(client: httpx.AsyncClient) -> None:
    created = (await client.post("/_mock/sandboxes")).json()["sandbox"]
    other = f"/_mock/sandboxes/{created['id']}/faults"
    token = next(k["token"] for k in created["keys"] if k["replaces"] == "mock-key-full")
    await arm(client, other, kind="error", status=500, probability=1)
    assert (await client.get("/v1/severities", headers=FULL)).status_code == 200
    assert (
        await client.get("/v1/severities", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 500
    assert (await client.post(f"/_mock/sandboxes/{created['id']}/actions/reset")).status_code == 200
    assert (await client.get(other)).json()["faults"] == []
    assert (
        await client.get("/v1/severities", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 200


async def test_a_sandbox_holds_a_bounded_number_of_faults(client: httpx.AsyncClient) -> None:
    spent = await arm(client, kind="error", status=500, operation_id=LIST_SEVERITIES)
    for _ in range(MAX_FAULTS - 1):
        await arm(client, kind="error", operation_id=CREATE, status=500)
    assert (await refused(client, kind="drop"))["code"] == "capacity_reached"
    assert (await client.get("/v1/severities", headers=FULL)).status_code == 500  # spends the first
    newest = await arm(client, kind="drop")  # the oldest spent fault makes room
    held = [f["id"] for f in (await client.get(FAULTS)).json()["faults"]]
    assert len(held) == MAX_FAULTS and spent["id"] not in held and held[-1] == newest["id"]
