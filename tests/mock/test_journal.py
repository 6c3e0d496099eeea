"""The request journal: what it records (never a token), its filters, and its bounds (entries, bytes, a
total across sandboxes, bodies truncated with a marker). journal.py on its own, then through the app."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest

from incident_mock.app import create_app
from incident_mock.domain.limits import Limits
from incident_mock.domain.records import timestamp
from incident_mock.kit.journal import MARKER, Journal, JournalBudget, shown
from tests.mock.conftest import CREATOR, FULL, VIEWER, incident_body

MOMENT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def record(journal: Journal, body: bytes = b"{}", response: bytes = b"{}", status: int = 200) -> Any:
    return journal.record(
        time=MOMENT,
        operation_id="Incidents V2#Create",
        method="POST",
        path="/v2/incidents",
        query="",
        status=status,
        key_id="K",
        request_id="R",
        replayed=False,
        duration_ms=1.0,
        request_body=body,
        response_body=response,
    )


# --- journal.py ----------------------------------------------------------------------------------------
def test_the_oldest_entries_go_first_past_the_entry_bound_and_are_counted() -> None:
    journal = Journal(max_entries=3, max_bytes=10**6, body_limit=100, budget=JournalBudget(10**6))
    for _ in range(5):
        record(journal)
    assert [e.sequence for e in journal.entries] == [3, 4, 5]
    assert (journal.dropped, journal.last_sequence) == (2, 5)


def test_the_byte_bound_holds_and_a_long_body_is_kept_truncated_with_a_marker() -> None:
    budget = JournalBudget(10**6)
    journal = Journal(max_entries=1000, max_bytes=5_000, body_limit=1_000, budget=budget)
    big = json.dumps({"summary": "x" * 5_000}).encode()
    for _ in range(20):
        entry = record(journal, body=big, response=big)
        assert len(entry.request_body) == 1_000 and entry.request_size == len(big)
        assert journal.bytes <= 5_000
    assert journal.bytes == budget.used == sum(e.weight for e in journal.entries)
    view = shown(journal.entries[-1], timestamp)
    assert view["request_body_truncated"] and view["response_body_truncated"]
    assert view["request_body"].endswith(MARKER.format(size=len(big)))
    assert view["request_body"].startswith('{"summary": "xxx')
    assert view["request_body_bytes"] == len(big)


def test_a_whole_body_is_shown_as_json_and_no_body_as_null() -> None:
    journal = Journal(10, 10**6, 1000, JournalBudget(10**6))
    view = shown(record(journal, body=b'{"a": [1, 2]}', response=b""), timestamp)
    assert (view["request_body"], view["request_body_truncated"]) == ({"a": [1, 2]}, False)
    assert (view["response_body"], view["response_body_bytes"]) == (None, 0)


def test_all_journals_share_one_budget() -> None:
    budget = JournalBudget(20_000)
    journals = [Journal(1000, 10**6, 4_000, budget) for _ in range(3)]
    for n in range(60):
        record(journals[n % 3], body=b"y" * 3_000)
        assert budget.used <= 20_000
        assert budget.used == sum(j.bytes for j in journals)
    assert sum(j.dropped for j in journals) > 0
    journals[0].clear()
    assert budget.used == sum(j.bytes for j in journals[1:])


def test_past_the_total_an_entry_is_kept_without_its_bodies() -> None:
    budget = JournalBudget(2_200)
    other = Journal(1000, 10**6, 10_000, budget)
    record(other, body=b"z" * 1_000)  # holds most of the budget
    journal = Journal(1000, 10**6, 10_000, budget)
    entry = record(journal, body=b"z" * 1_000)
    assert entry is not None and entry.omitted and budget.used <= 2_200
    assert len(other) == 1  # another sandbox's entries are not dropped for it
    record(other, body=b"z" * 1_000)
    assert len(journal) == 1 and len(other) == 1 and budget.used <= 2_200  # its own oldest went
    assert shown(entry, timestamp)["request_body"].startswith("[omitted")


def test_filters_and_since() -> None:
    journal = Journal(100, 10**6, 100, JournalBudget(10**6))
    for status in (200, 422, 200, 404):
        record(journal, status=status)
    assert [e.sequence for e in journal.select(status=200)] == [1, 3]
    assert [e.sequence for e in journal.select(since=2)] == [3, 4]
    assert [e.sequence for e in journal.select(since=1, limit=2)] == [2, 3]
    assert journal.select(operation_id="Severities V1#List") == []
    journal.clear()
    assert record(journal).sequence == 5  # sequence numbers go on after a clear


# --- through the app -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small() -> Any:
    """A mock whose journals keep 3 entries and 4 KiB of each body."""
    return create_app(validate_responses=True, limits=Limits(journal_entries=3, journal_body_bytes=4096))


@pytest.fixture
async def http(small: Any) -> Any:
    small.sandboxes.reset("default")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=small), base_url="http://mock") as c:
        yield c


async def requests_of(http: httpx.AsyncClient, sandbox: str = "default", **query: Any) -> dict[str, Any]:
    response = await http.get(f"/_mock/sandboxes/{sandbox}/requests", params=query)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_each_request_is_recorded_with_what_it_was_answered(http: httpx.AsyncClient) -> None:
    sent = incident_body("journal", name="Journalled")
    first = await http.post("/v2/incidents", json=sent, headers=CREATOR)
    again = await http.post("/v2/incidents", json=sent, headers=CREATOR)
    forbidden = await http.post("/v1/severities", json={"name": "x"}, headers=VIEWER)
    listed = (await requests_of(http))["requests"]
    assert [(e["operation_id"], e["status"], e["replayed"]) for e in listed] == [
        ("Incidents V2#Create", 200, False),
        ("Incidents V2#Create", 200, True),
        ("Severities V1#Create", 403, False),
    ]
    assert [e["request_id"] for e in listed] == [r.headers["x-request-id"] for r in (first, again, forbidden)]
    assert listed[0]["request_body"] == sent
    assert listed[0]["response_body"] == first.json()
    assert listed[2]["response_body"]["errors"][0]["code"] == "missing_scope"
    assert {e["key_id"] for e in listed} == {"01JGZ0KEY0000000000000CREAT", "01JGZ0KEY00000000000V1EWER"}
    assert (listed[0]["method"], listed[0]["path"], listed[0]["query"]) == ("POST", "/v2/incidents", "")


async def test_the_journal_is_filtered_by_operation_status_and_sequence(http: httpx.AsyncClient) -> None:
    await http.get("/v1/severities", headers=FULL)
    await http.get("/v2/incidents", params={"page_size": 1}, headers=FULL)
    await http.get("/v2/incidents/nothing", headers=FULL)
    assert [e["status"] for e in (await requests_of(http, operation_id="Incidents V2#Show"))["requests"]] == [
        404
    ]
    assert [e["query"] for e in (await requests_of(http, status=200))["requests"]] == ["", "page_size=1"]
    everything = await requests_of(http)
    last = everything["last_sequence"]
    assert [e["sequence"] for e in (await requests_of(http, since=last - 1))["requests"]] == [last]
    bad = await http.get("/_mock/sandboxes/default/requests", params={"status": "often"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["source"]["field"] == "status"
    assert (await http.post("/_mock/sandboxes/default/requests/actions/clear")).status_code == 204
    assert (await requests_of(http))["requests"] == []


async def test_the_journal_keeps_its_bound_and_says_how_many_it_dropped(http: httpx.AsyncClient) -> None:
    for _ in range(5):
        await http.get("/v1/severities", headers=FULL)
    journal = await requests_of(http)
    assert len(journal["requests"]) == 3
    assert journal["dropped"] == 2
    assert [e["sequence"] for e in journal["requests"]] == [3, 4, 5]


async def test_a_large_body_is_kept_truncated_with_a_marker(http: httpx.AsyncClient) -> None:
    summary = "long " * 2_000
    created = await http.post("/v2/incidents", json=incident_body("big", summary=summary), headers=FULL)
    assert created.status_code == 200
    (entry,) = (await requests_of(http, operation_id="Incidents V2#Create"))["requests"]
    for side in ("request", "response"):
        assert entry[f"{side}_body_truncated"] is True
        assert entry[f"{side}_body_bytes"] > 10_000
        assert entry[f"{side}_body"].endswith(MARKER.format(size=entry[f"{side}_body_bytes"]))
        assert len(entry[f"{side}_body"].encode()) < 4096 + 100


async def test_no_token_is_ever_recorded(http: httpx.AsyncClient, small: Any) -> None:
    sandbox = (await http.post("/_mock/sandboxes")).json()["sandbox"]
    tokens = [k["token"] for k in sandbox["keys"]] + ["mock-key-full", "mock-key-creator", "mock-key-viewer"]
    for token in tokens:
        headers = {"Authorization": f"Bearer {token}"}
        await http.get("/v1/identity", headers=headers)
        await http.post("/v2/incidents", json=incident_body(f"t-{token[-6:]}"), headers=headers)
    recorded = json.dumps([await requests_of(http, s) for s in ("default", sandbox["id"])])
    recorded += repr([list(s.journal.entries) for s in small.sandboxes])
    assert "identity" in recorded.lower()
    for token in tokens:
        assert token not in recorded
    assert "authorization" not in recorded.lower() and "bearer" not in recorded.lower()
    await http.delete(f"/_mock/sandboxes/{sandbox['id']}")


async def test_requests_no_sandbox_claims_go_to_the_unattributed_journal(http: httpx.AsyncClient) -> None:
    await http.post("/_mock/unattributed/requests/actions/clear")
    before = (await http.get("/_mock/unattributed/requests")).json()["last_sequence"]
    await http.get("/v1/severities")
    await http.get("/v1/severities", headers={"Authorization": "Bearer not-a-key"})
    await http.get("/v9/nothing", headers={"Authorization": "Bearer not-a-key-either"})
    assert (await requests_of(http))["requests"] == []  # not the default sandbox's
    listed = (await http.get("/_mock/unattributed/requests", params={"since": before})).json()
    assert [(e["operation_id"], e["status"], e["key_id"]) for e in listed["requests"]] == [
        ("Severities V1#List", 401, ""),
        ("Severities V1#List", 401, ""),
        ("", 404, ""),
    ]
    assert "not-a-key" not in json.dumps(listed)
    assert (await http.post("/_mock/unattributed/requests/actions/clear")).status_code == 204
    assert (await http.get("/_mock/unattributed/requests")).json()["requests"] == []


async def test_a_429_records_its_retry_after() -> None:
    limited = create_app(rate_limit=1)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=limited), base_url="http://mock") as c:
        await c.get("/v1/severities", headers=FULL)
        refused = await c.get("/v1/severities", headers=FULL)
        assert refused.status_code == 429
        listed = (await c.get("/_mock/sandboxes/default/requests")).json()["requests"]
    assert [(e["status"], e["retry_after"]) for e in listed] == [
        (200, None),
        (429, refused.headers["retry-after"]),
    ]
