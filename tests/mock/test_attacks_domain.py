"""The attack catalogue, domain part: requests that used to break, leak through, block or fill the mock.

One test per attack of issue 9 (openapi.yaml, "Limits" and "Idempotent creation"). Each asserts a 4xx in
the contract's ErrorResponse shape with the type `x-error-types` gives its status, no 500, a store left
as it was, and, where it matters, that other clients are served meanwhile. In-process (ASGI) unless the
socket matters; never a fixed sleep: waits are on events, with generous limits.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from incident_contract.facts import error_types, max_query_parameters
from incident_mock.app import create_app
from incident_mock.domain.limits import Limits
from incident_mock.resources.incidents import scan
from incident_mock.resources.organisation import Store
from tests.mock.conftest import CREATOR, FULL, VIEWER, incident_body
from tests.mock.seed import INVESTIGATING, MAJOR, MINOR, SEEDED_INCIDENT, TEXT_FIELD
from tests.servers import serve

JSON = {"Content-Type": "application/json"}


def snapshot(store: Store) -> dict[str, Any]:
    """Everything a write could change."""
    return copy.deepcopy(
        {
            "incidents": [vars_of(r) for r in store.incidents],
            "idempotency": dict(store.idempotency.entries),
            "severities": dict(store.severities),
            "counts": dict(store.counts),
        }
    )


def vars_of(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__}


def refused(response: httpx.Response, spec: dict[str, Any], status: int, code: str) -> dict[str, Any]:
    """A 4xx in the ErrorResponse shape, with the contract's type for its status; returns the entry."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["type"] == error_types(spec)[status] and body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    entry: dict[str, Any] = body["errors"][0]
    assert entry["code"] == code, body
    return entry


# --- lone surrogates: valid JSON, invalid Unicode ----------------------------------------------------

LONE = "x\\ud800"  # as it is written in JSON text
MARK = "@lone@"


def lone(body: dict[str, Any]) -> str:
    """The body as JSON text, each MARK replaced by an escaped lone surrogate."""
    return json.dumps(body).replace(MARK, LONE)


EDIT = f"/v2/incidents/{SEEDED_INCIDENT}/actions/edit"
SURROGATE_BODIES = [
    ("POST", "/v2/incidents", lone(incident_body("s1", name=MARK)), "name"),
    ("POST", "/v2/incidents", lone(incident_body("s2", summary=MARK)), "summary"),
    ("POST", "/v2/incidents", lone(incident_body(MARK)), "idempotency_key"),
    ("POST", "/v2/incidents", lone(incident_body("s3", custom_field_entries=[
        {"custom_field_id": TEXT_FIELD, "values": [{"value_text": MARK}]}])), "value_text"),
    ("POST", "/v2/incidents", lone({**incident_body("s4"), MARK: 1}), "body"),
    ("POST", "/v1/severities", lone({"name": MARK, "description": "d"}), "name"),
    ("POST", "/v1/severities", lone({"name": "Sev-x", "description": MARK}), "description"),
    ("PUT", f"/v1/severities/{MINOR}", lone({"name": MARK, "description": "d"}), "name"),
    ("POST", EDIT, lone({"incident": {"name": MARK}, "notify_incident_channel": False}), "name"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "text", "field"), SURROGATE_BODIES)
async def test_a_lone_surrogate_is_refused_naming_the_field_and_nothing_is_stored(
    client: httpx.AsyncClient,
    store: Store,
    spec: dict[str, Any],
    method: str,
    path: str,
    text: str,
    field: str,
) -> None:
    before = snapshot(store)
    answer = await client.request(method, path, content=text.encode(), headers={**FULL, **JSON})
    entry = refused(answer, spec, 422, "invalid_value")
    assert entry["source"]["field"] == field and "surrogate" in entry["message"]
    assert snapshot(store) == before
    for listed in ("/v2/incidents", "/v1/severities", f"/v2/incidents/{SEEDED_INCIDENT}"):
        assert (await client.get(listed, headers=FULL)).status_code == 200


async def test_a_surrogate_pair_is_one_valid_character_and_is_kept(client: httpx.AsyncClient) -> None:
    text = json.dumps(incident_body("pair", name=MARK)).replace(MARK, "\\ud83d\\udd25")
    answer = await client.post("/v2/incidents", content=text.encode(), headers={**FULL, **JSON})
    assert answer.status_code == 200 and answer.json()["incident"]["name"] == "\U0001f525"


# --- idempotency keys belong to one API key -----------------------------------------------------------


async def test_another_keys_replay_never_returns_its_private_incident(
    client: httpx.AsyncClient, store: Store
) -> None:
    body = incident_body("shared-key", visibility="private", name="secret")
    original = (await client.post("/v2/incidents", json=body, headers=FULL)).json()["incident"]
    await client.post(
        f"/v2/incidents/{original['id']}/actions/edit",
        json={"incident": {"summary": "edited later"}, "notify_incident_channel": False},
        headers=FULL,
    )
    replay = await client.post("/v2/incidents", json=body, headers=CREATOR)
    assert replay.status_code == 200 and "idempotent-replayed" not in replay.headers
    mine = replay.json()["incident"]
    assert mine["id"] != original["id"] and "summary" not in mine  # its own new incident, not the original
    assert mine["creator"]["api_key"]["name"] != original["creator"]["api_key"]["name"]
    again = await client.post("/v2/incidents", json=body, headers=CREATOR)
    assert again.headers["idempotent-replayed"] == "true" and again.json()["incident"]["id"] == mine["id"]
    full_again = await client.post("/v2/incidents", json=body, headers=FULL)
    assert full_again.json()["incident"]["id"] == original["id"]


async def test_another_key_cannot_tell_whether_an_idempotency_key_was_used(
    client: httpx.AsyncClient, store: Store, spec: dict[str, Any]
) -> None:
    await client.post("/v2/incidents", json=incident_body("used-by-full", visibility="private"), headers=FULL)
    before = snapshot(store)
    answers = []
    for key in ("used-by-full", "never-used"):
        probe = incident_body(key, visibility="private", severity_id="01NOSUCHSEVERITY")
        answer = await client.post("/v2/incidents", json=probe, headers=CREATOR)
        entry = refused(answer, spec, 422, "invalid_value")
        answers.append((entry["code"], entry["source"], entry["message"]))
    assert answers[0] == answers[1]  # the same answer: used or not, it cannot tell
    assert snapshot(store) == before


# --- caps ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def capped() -> Any:
    """A mock that holds two incidents and four severities (the fixtures bring one and three)."""
    return create_app(validate_responses=True, limits=Limits(max_incidents=2, max_severities=4))


async def test_a_create_past_the_incident_cap_is_422_capacity_reached(
    capped: Any, spec: dict[str, Any]
) -> None:
    capped.holder.reset().join(timeout=30)
    store = capped.holder.store
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=capped), base_url="http://mock") as c:
        first = await c.post("/v2/incidents", json=incident_body("fills"), headers=FULL)
        assert first.status_code == 200
        before = snapshot(store)
        over = await c.post("/v2/incidents", json=incident_body("over"), headers=FULL)
        entry = refused(over, spec, 422, "capacity_reached")
        assert "max_incidents" in entry["message"] and "2" in entry["message"]
        assert snapshot(store) == before
        replay = await c.post("/v2/incidents", json=incident_body("fills"), headers=FULL)
        assert replay.status_code == 200 and replay.headers["idempotent-replayed"] == "true"
        assert (await c.get("/v2/incidents", headers=VIEWER)).status_code == 200
        severity = await c.post("/v1/severities", json={"name": "Fourth", "description": "d"}, headers=FULL)
        assert severity.status_code == 201
        over = await c.post("/v1/severities", json={"name": "Fifth", "description": "d"}, headers=FULL)
        assert "max_severities" in refused(over, spec, 422, "capacity_reached")["message"]
        assert len(capped.holder.store.severities) == 4


# --- incident numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ref",
    # superscript two, circled one, fullwidth, Arabic-Indic and extended Arabic-Indic one, bold one
    [
        "\u00b2",
        "\u2460",
        "\uff11",
        "\u0661",
        "\u06f1",
        "\U0001d7cf",
        "1_0",
        " 1",
        "+1",
        "9" * 4301,
        "INC-\u00b2",
        "INC-" + "9" * 5000,
    ],
)
async def test_an_incident_number_is_ascii_digits_only(
    client: httpx.AsyncClient, store: Store, spec: dict[str, Any], ref: str
) -> None:
    before = snapshot(store)
    shown = await client.get(f"/v2/incidents/{ref}", headers=FULL)
    assert refused(shown, spec, 404, "not_found")
    edit = {"incident": {"name": "hijacked"}, "notify_incident_channel": False}
    edited = await client.post(f"/v2/incidents/{ref}/actions/edit", json=edit, headers=FULL)
    assert refused(edited, spec, 404, "not_found")
    assert snapshot(store) == before
    assert (await client.get("/v2/incidents/1", headers=FULL)).json()["incident"]["id"] == SEEDED_INCIDENT


# --- queries ---------------------------------------------------------------------------------------


def many(name: str, value: str, n: int) -> str:
    return "&".join([f"{name}={value}"] * n)


async def test_a_filter_with_too_many_values_is_422_naming_it(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    answer = await client.get(f"/v2/incidents?{many('status[one_of]', INVESTIGATING, 501)}", headers=VIEWER)
    entry = refused(answer, spec, 422, "invalid_value")
    assert entry["source"]["field"] == "status" and "500" in entry["message"]
    ok = await client.get(f"/v2/incidents?{many('status_category[one_of]', 'live', 500)}", headers=VIEWER)
    assert ok.status_code == 200 and ok.json()["pagination_meta"]["total_record_count"] == 1


@pytest.mark.parametrize("path", ["/v2/incidents", "/v1/severities", "/v1/custom_field_options"])
async def test_too_many_query_parameters_is_422_naming_one(
    client: httpx.AsyncClient, spec: dict[str, Any], path: str
) -> None:
    cap = max_query_parameters(spec)
    query = many("mode[one_of]", "standard", 400) + "&" + many("severity[one_of]", MAJOR, cap - 399)
    answer = await client.get(f"{path}?{query}", headers=FULL)
    entry = refused(answer, spec, 422, "invalid_value")
    assert entry["source"]["field"] == "severity" and str(cap) in entry["message"]


@pytest.mark.parametrize(
    "value",
    ["2026-13-45~2026-99-99", "2026-02-30~2026-03-01", "2026-03-01~2026-02-01", "2026-01-01~", "~2026-01-01",
     "2026-1-01~2026-01-02", "\uff12\uff10\uff12\uff16-01-01~2026-01-02"],
)  # fmt: skip
async def test_a_date_range_needs_two_real_dates_in_order(
    client: httpx.AsyncClient, spec: dict[str, Any], value: str
) -> None:
    for param in ("created_at", "updated_at"):
        answer = await client.get(f"/v2/incidents?{param}[date_range]={value}", headers=VIEWER)
        assert refused(answer, spec, 422, "invalid_value")["source"]["field"] == param
    same_day = await client.get("/v2/incidents?created_at[date_range]=2026-01-12~2026-01-12", headers=VIEWER)
    assert same_day.status_code == 200


@pytest.mark.parametrize("query", ["severity[gte]=", "status[one_of]=", "incident_type[not_in]=", "after="])
async def test_an_empty_filter_value_is_422_as_the_contract_says(
    client: httpx.AsyncClient, spec: dict[str, Any], query: str
) -> None:
    answer = await client.get(f"/v2/incidents?{query}", headers=VIEWER)
    assert refused(answer, spec, 422, "invalid_value")["source"]["field"] == query.partition("[")[0].rstrip(
        "="
    )


async def test_an_empty_id_in_a_body_breaks_the_schema(
    client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    answer = await client.post("/v2/incidents", json=incident_body("empty", severity_id=""), headers=FULL)
    assert refused(answer, spec, 422, "invalid_value")["source"]["field"] == "severity_id"


# --- a long list does not hold the loop ------------------------------------------------------------


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """Filtered scans stop half-way until `release` is set, after setting `started`: a list in progress."""
    started, release = threading.Event(), threading.Event()
    step = scan.Scan.step

    def paused(self: scan.Scan, budget: int | None = None) -> bool:
        if self.test is not None and self.position and not release.is_set():
            started.set()
            return False  # not done: the handler yields and asks again
        return step(self, 1)

    monkeypatch.setattr(scan.Scan, "step", paused)
    yield started, release
    release.set()


def test_other_clients_are_served_while_a_list_walks_the_store(
    held: tuple[threading.Event, threading.Event],
) -> None:
    started, release = held
    filters = many("status_category[one_of]", "live", 500)
    app = create_app(validate_responses=True)
    for n in range(10):
        app.holder.store.create_incident(incident_body(f"walked-{n}"), app.holder.store.keys[0])
    with serve(app) as url, httpx.Client(base_url=url, timeout=60) as other:
        result: dict[str, httpx.Response] = {}

        def listing() -> None:
            with httpx.Client(base_url=url, timeout=60) as c:
                result["list"] = c.get(f"/v2/incidents?{filters}", headers=VIEWER)

        walker = threading.Thread(target=listing)
        walker.start()
        assert started.wait(timeout=30), "the list never started"
        for path in ("/v1/severities", "/v2/incidents/1", "/v2/incidents?page_size=1"):
            assert other.get(path, headers=FULL).status_code == 200  # served while the list is in progress
        assert "list" not in result
        release.set()
        walker.join(timeout=60)
        assert result["list"].status_code == 200


async def test_a_list_yields_between_steps_of_its_pass(
    app: Any, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(30):
        store.create_incident(incident_body(f"step-{n}"), store.keys[0])
    monkeypatch.setattr(scan, "STEP", 4)
    finished: list[str] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as c:

        async def call(name: str, path: str) -> None:
            assert (await c.get(path, headers=FULL)).status_code == 200
            finished.append(name)

        await asyncio.gather(
            call("list", f"/v2/incidents?{many('status_category[one_of]', 'live', 50)}"),
            call("other", "/v1/identity"),
        )
    assert finished == ["other", "list"]


# --- paths and dates at the edges ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/v1/severities/a%0A", "/v1/incident_types/%0A", "/v2/incidents/1%0A", "/v1/severities%0A"]
)
@pytest.mark.parametrize("headers", [FULL, {}], ids=["full-key", "no-key"])
async def test_a_path_ending_in_a_newline_names_nothing(
    client: httpx.AsyncClient, spec: dict[str, Any], path: str, headers: dict[str, str]
) -> None:
    """Connexion routes such a path to an operation but skips its security: it must not answer 500, and
    must not serve anything (with or without a key)."""
    refused(await client.get(path, headers=headers), spec, 404, "not_found")


@pytest.mark.parametrize(
    ("query", "status"),
    [("created_at[gte]=0000-01-01", 200), ("created_at[gte]=0000-02-29", 200), ("created_at[lte]=9999-12-31", 200),
     ("updated_at[date_range]=0000-01-01~9999-12-31", 200), ("created_at[gte]=0001-02-29", 422),
     ("created_at[gte]=20260101", 422), ("created_at[lte]=2026-W01-1", 422)],
)  # fmt: skip
async def test_dates_at_the_edges_of_the_calendar(client: httpx.AsyncClient, query: str, status: int) -> None:
    answer = await client.get(f"/v2/incidents?{query}", headers=VIEWER)
    assert answer.status_code == status, answer.text[:300]
    if status == 200:
        assert answer.json()["pagination_meta"]["total_record_count"] == (0 if "lte]=0000" in query else 1)


# --- the whole catalogue over a socket: no 500, no traceback in the log ------------------------------


def test_the_catalogue_over_a_socket_leaves_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    capped = create_app(limits=Limits(max_incidents=3, max_severities=4, max_text_bytes=400_000))
    attacks: list[tuple[str, str, dict[str, str], bytes | None]] = [
        *((method, path, {**FULL, **JSON}, text.encode()) for method, path, text, _ in SURROGATE_BODIES),
        ("GET", f"/v2/incidents?{many('status[one_of]', INVESTIGATING, 501)}", VIEWER, None),
        ("GET", f"/v2/incidents?{many('mode[one_of]', 'test', 1001)}", VIEWER, None),
        ("GET", "/v2/incidents?created_at[date_range]=2026-13-45~2026-99-99", VIEWER, None),
        ("GET", "/v2/incidents?created_at[lte]=9999-12-31&updated_at[gte]=0000-01-01", VIEWER, None),
        *(
            ("GET", f"/v2/incidents/{ref}", FULL, None)
            for ref in ("%C2%B2", "%E2%91%A0", "%EF%BC%91", "9" * 4301)
        ),
        ("GET", "/v1/severities/a%0A", {}, None),
        (
            "POST",
            "/v2/incidents",
            {**FULL, **JSON},
            json.dumps(incident_body("big", summary="s" * 500_000)).encode(),
        ),
    ]
    with caplog.at_level("WARNING"), serve(capped) as url, httpx.Client(base_url=url, timeout=30) as c:
        statuses = [c.request(m, p, headers=h, content=b).status_code for m, p, h, b in attacks]
        for n in range(4):  # up to the incident cap, and one past it
            statuses.append(
                c.post("/v2/incidents", json=incident_body(f"fill-{n}"), headers=FULL).status_code
            )
        assert c.get("/v2/incidents", headers=FULL).status_code == 200
        assert c.get("/v1/severities", headers=FULL).status_code == 200
    expected = [422] * len(SURROGATE_BODIES) + [422, 422, 422, 200, 404, 404, 404, 404, 404, 422]
    assert statuses[: len(attacks)] == expected
    assert statuses[len(attacks) :] == [200, 200, 422, 422]  # with the fixtures' incident, the cap is reached
    assert [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL") or r.exc_info] == []
