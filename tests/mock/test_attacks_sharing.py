"""Attacks of one suite on the others that share its mock, over real sockets.

Suites that share a mock are cooperative but careless: each holds its sandbox's tokens and, with an admin
token, only a credential to create sandboxes. Each attack below used to work:

- journal flood: sandboxes recording large requests filled the journals' total budget, after which a new
  sandbox's journal recorded nothing and a neighbour lost its own entries to make room;
- text and incident budgets: sandboxes holding much text, or many incidents, used up the mock-wide budget,
  after which the default sandbox's next create was 422 `capacity_reached`;
- the sandbox cap: its 422 advised a reset of the mock, which frees no sandbox;
- control: a suite needed the admin token to create its sandbox, and with it could read or delete any
  other sandbox.
- idle sandboxes: a suite that died without deleting its sandboxes held their slots and shares for good
  (`--sandbox-idle-timeout` reclaims them, and their tokens say so).
Each test sets small caps, so that a flood takes a second, and asserts what a neighbour still sees.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from incident_mock.app import create_app
from incident_mock.cli import main
from incident_mock.domain.limits import Limits
from incident_mock.domain.settings import MockSettings
from incident_mock.testing import IncidentMock
from tests.mock.conftest import FULL, incident_body
from tests.mock.seed import SEATLESS
from tests.servers import serve

ADMIN = "root-token-for-tests"
MAKER = "create-only-token-for-tests"


@pytest.fixture
def limits() -> Limits:
    return Limits()


@pytest.fixture
def http(limits: Limits) -> Iterator[httpx.Client]:
    """A mock with `limits` on a loopback port, and a client of it."""
    with serve(create_app(limits=limits)) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def made(http: httpx.Client, headers: dict[str, str] | None = None, **body: Any) -> dict[str, Any]:
    answer = http.post("/_mock/sandboxes", json=body, headers=headers or {})
    assert answer.status_code == 201, answer.text
    sandbox: dict[str, Any] = answer.json()["sandbox"]
    return sandbox


def bearer(sandbox: dict[str, Any]) -> dict[str, str]:
    token = next(k["token"] for k in sandbox["keys"] if k["replaces"] == "mock-key-full")
    return {"Authorization": f"Bearer {token}"}


def control(sandbox: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {sandbox['control_token']}"}


def journal(http: httpx.Client, sandbox: dict[str, Any], **headers: str) -> dict[str, Any]:
    answer = http.get(f"/_mock/sandboxes/{sandbox['id']}/requests", params={"limit": 1000}, headers=headers)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def capacity(answer: httpx.Response) -> str:
    assert answer.status_code == 422, answer.text[:300]
    [entry] = answer.json()["errors"]
    assert entry["code"] == "capacity_reached", entry
    message: str = entry["message"]
    return message


# --- the journal ------------------------------------------------------------------------------------------

JOURNAL = Limits(max_sandboxes=12, journal_total_bytes=3 * 1024 * 1024)  # each sandbox's floor: 256 KiB
SUMMARY = "s" * 15_000  # a create's entry weighs about 31 KB (the request and the answer)


@pytest.mark.parametrize("limits", [JOURNAL])
def test_a_journal_flood_leaves_every_other_sandbox_its_floor(http: httpx.Client) -> None:
    neighbour = made(http)
    for n in range(4):
        sent = http.post(
            "/v2/incidents", json=incident_body(f"n{n}", summary=SUMMARY), headers=bearer(neighbour)
        )
        assert sent.status_code == 200
    flooders = [made(http) for _ in range(8)]
    for n in range(20):  # 160 entries of 31 KB: about 5 MB, past the 3 MiB all journals may hold
        for flooder in flooders:
            sent = http.post(
                "/v2/incidents", json=incident_body(f"f{n}", summary=SUMMARY), headers=bearer(flooder)
            )
            assert sent.status_code == 200
    for n in range(4, 7):  # the neighbour goes on after the flood: within its floor, it loses nothing
        sent = http.post(
            "/v2/incidents", json=incident_body(f"n{n}", summary=SUMMARY), headers=bearer(neighbour)
        )
        assert sent.status_code == 200
    latecomer = made(http)
    assert http.post(
        "/v2/incidents", json=incident_body("l", summary=SUMMARY), headers=bearer(latecomer)
    ).is_success

    kept = journal(http, neighbour)
    assert [e["request_body"]["idempotency_key"] for e in kept["requests"]] == [f"n{n}" for n in range(7)]
    assert kept["dropped"] == 0
    late = journal(http, latecomer)
    assert late["dropped"] == 0 and len(late["requests"]) == 1
    assert late["requests"][0]["request_body"]["summary"] == SUMMARY  # recorded whole, bodies and all
    flooded = journal(http, flooders[0])
    assert flooded["dropped"] > 0 and flooded["requests"][-1]["request_body"]["idempotency_key"] == "f19"


# --- text and incidents ---------------------------------------------------------------------------------

TEXT = Limits(max_sandboxes=8, max_text_bytes=4 * 1024 * 1024)  # each sandbox's floor: 512 KiB
BIG_FIXTURES = {"users": [{"id": f"U{n}", "name": "n" * 4_000, **SEATLESS} for n in range(200)]}


@pytest.mark.parametrize("limits", [TEXT])
def test_sandboxes_full_of_text_leave_the_default_sandbox_its_floor(http: httpx.Client) -> None:
    flooders, refusal = [], None
    for _ in range(7):  # about 800 KB of text each, past their floor
        answer = http.post("/_mock/sandboxes", json={"fixtures": BIG_FIXTURES})
        if answer.status_code != 201:
            refusal = capacity(answer)
            break
        flooders.append(answer.json()["sandbox"])
    assert flooders, "no sandbox could borrow beyond its floor"
    for size in (200_000, 50_000, 10_000, 2_000):  # then as much text as the flooders may still hold
        for n in range(100):
            body = incident_body(f"{size}-{n}", summary="t" * size)
            if http.post("/v2/incidents", json=body, headers=bearer(flooders[-1])).status_code != 200:
                break
    created = http.post("/v2/incidents", json=incident_body("default", summary="d" * 100_000), headers=FULL)
    assert created.status_code == 200, created.text[:300]
    over = http.post(
        "/v2/incidents", json=incident_body("over", summary="t" * 2_000), headers=bearer(flooders[-1])
    )
    refusal = capacity(over)
    assert "524288" in refusal and "per sandbox" in refusal  # names the floor it went past


INCIDENTS = Limits(max_sandboxes=4, max_total_incidents=40)  # each sandbox's floor: 10 incidents


@pytest.mark.parametrize("limits", [INCIDENTS])
def test_a_sandbox_creating_incidents_until_refused_leaves_the_others_their_floor(http: httpx.Client) -> None:
    neighbour, flooder = made(http), made(http)
    created = 0
    for n in range(40):
        if (
            http.post("/v2/incidents", json=incident_body(f"f{n}"), headers=bearer(flooder)).status_code
            != 200
        ):
            break
        created += 1
    assert 10 <= created < 39
    for n in range(9):  # the neighbour holds its seed incident and nine more: its floor
        sent = http.post("/v2/incidents", json=incident_body(f"n{n}"), headers=bearer(neighbour))
        assert sent.status_code == 200, sent.text[:300]
    assert http.post("/v2/incidents", json=incident_body("default"), headers=FULL).status_code == 200
    refusal = capacity(http.post("/v2/incidents", json=incident_body("over"), headers=bearer(flooder)))
    assert "10 incidents per sandbox" in refusal


@pytest.mark.parametrize("limits", [Limits(max_sandboxes=3)])
def test_the_sandbox_cap_names_what_frees_a_slot(http: httpx.Client) -> None:
    first, _ = made(http), made(http)
    refusal = capacity(http.post("/_mock/sandboxes", json={}))
    assert "max_sandboxes" in refusal and "--max-sandboxes" in refusal
    assert "DELETE /_mock/sandboxes/" in refusal and "POST /_mock/reset" not in refusal
    assert http.post("/_mock/reset").status_code == 200
    capacity(http.post("/_mock/sandboxes", json={}))  # a reset frees no slot ...
    assert http.delete(f"/_mock/sandboxes/{first['id']}").status_code == 204
    made(http)  # ... deleting a sandbox does


# --- control credentials --------------------------------------------------------------------------------


@pytest.fixture
def guarded() -> Iterator[httpx.Client]:
    app = create_app(admin_token=ADMIN, sandbox_create_token=MAKER)
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def sandbox_operations(sandbox_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    path = f"/_mock/sandboxes/{sandbox_id}"
    return [
        ("GET", path, None),
        ("GET", f"{path}/requests", None),
        ("POST", f"{path}/requests/actions/clear", None),
        ("GET", f"{path}/faults", None),
        ("POST", f"{path}/faults", {"kind": "error", "operation_id": "Incidents V2#Create", "status": 500}),
        ("POST", f"{path}/faults/actions/clear", None),
        ("GET", f"{path}/clock", None),
        ("POST", f"{path}/clock/actions/advance", {"seconds": 60}),
        ("GET", f"{path}/webhooks", None),
        ("POST", f"{path}/actions/reset", None),
    ]


MOCK_WIDE = [
    ("GET", "/_mock/health"),
    ("GET", "/_mock/sandboxes"),
    ("POST", "/_mock/reset"),
    ("GET", "/_mock/unattributed/requests"),
    ("POST", "/_mock/unattributed/requests/actions/clear"),
]


def test_a_sandbox_control_token_manages_that_sandbox_alone(guarded: httpx.Client) -> None:
    root = {"Authorization": f"Bearer {ADMIN}"}
    mine, theirs = made(guarded, root), made(guarded, root)
    assert guarded.post("/v2/incidents", json=incident_body("theirs"), headers=bearer(theirs)).is_success
    for method, path, body in sandbox_operations(theirs["id"]):
        answer = guarded.request(method, path, json=body, headers=control(mine))
        assert answer.status_code == 403, (method, path, answer.status_code)
        assert answer.json()["errors"][0]["code"] == "forbidden_sandbox"
    for method, path in MOCK_WIDE:
        assert guarded.request(method, path, headers=control(mine)).status_code == 403, path
    assert guarded.post("/_mock/sandboxes", json={}, headers=control(mine)).status_code == 403
    assert guarded.delete(f"/_mock/sandboxes/{theirs['id']}", headers=control(mine)).status_code == 403
    assert guarded.get("/_mock/sandboxes/default/requests", headers=control(mine)).status_code == 403

    for method, path, body in sandbox_operations(mine["id"]):
        answer = guarded.request(method, path, json=body, headers=control(mine))
        assert answer.is_success, (method, path, answer.text[:200])
    assert guarded.delete(f"/_mock/sandboxes/{mine['id']}", headers=control(mine)).status_code == 204
    assert guarded.get(f"/_mock/sandboxes/{mine['id']}", headers=control(mine)).status_code == 401
    # the neighbour's journal and state are as they were
    [entry] = journal(guarded, theirs, Authorization=f"Bearer {ADMIN}")["requests"]
    assert entry["request_body"]["idempotency_key"] == "theirs"


def test_a_create_only_token_creates_sandboxes_and_nothing_else(guarded: httpx.Client) -> None:
    maker = {"Authorization": f"Bearer {MAKER}"}
    sandbox = made(guarded, maker)
    assert sandbox["control_token"] and sandbox["control_token"] not in (ADMIN, MAKER)
    for method, path in MOCK_WIDE:
        assert guarded.request(method, path, headers=maker).status_code == 403, path
    for method, path, body in sandbox_operations(sandbox["id"]):
        assert guarded.request(method, path, json=body, headers=maker).status_code == 403, path
    assert guarded.get("/_mock/sandboxes", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_the_python_api_runs_a_suite_on_a_create_only_token(guarded: httpx.Client) -> None:
    url = str(guarded.base_url).rstrip("/")
    with IncidentMock.connect(url, create_token=MAKER) as mock, mock.sandbox() as sandbox:
        sent = httpx.post(
            f"{url}/v2/incidents",
            json=incident_body("py"),
            headers={"Authorization": f"Bearer {sandbox.keys.full}"},
        )
        assert sent.status_code == 200
        [entry] = sandbox.wait_for("Incidents V2#Create", status=200)
        assert entry.request_body["idempotency_key"] == "py"
        sandbox.clock.advance(60)
        sandbox.fail("Incidents V2#Create", status=500)
        assert [fault.status for fault in sandbox.faults()] == [500]
        sandbox.reset()
        assert sandbox.count() == 0
    assert (
        guarded.get(
            f"/_mock/sandboxes/{sandbox.id}", headers={"Authorization": f"Bearer {ADMIN}"}
        ).status_code
        == 404
    )


# --- idle sandboxes -------------------------------------------------------------------------------------


def listed(http: httpx.Client, headers: dict[str, str]) -> set[str]:
    return {s["id"] for s in http.get("/_mock/sandboxes", headers=headers).json()["sandboxes"]}


def test_an_idle_sandbox_is_reclaimed_and_its_tokens_say_so() -> None:
    app = create_app(admin_token=ADMIN, sandbox_idle_timeout=0.5, limits=Limits(max_sandboxes=3))
    root = {"Authorization": f"Bearer {ADMIN}"}
    with serve(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        idle, other = made(http, root), made(http, root)
        capacity(http.post("/_mock/sandboxes", json={}, headers=root))  # full: both are recent
        started = time.monotonic()
        assert http.get("/v1/identity", headers=bearer(idle)).status_code == 200  # used: not idle yet
        deadline, pause = started + 30, 0.01
        while idle["id"] in listed(http, root):  # the list reclaims idle sandboxes; poll it, 30 s at most
            assert time.monotonic() < deadline, "the idle sandbox was never reclaimed"
            time.sleep(pause)  # a poll interval: the loop ends on what the mock answers, not on time
            pause = min(pause * 2, 0.2)
        assert time.monotonic() - started >= 0.5  # never before the timeout
        assert other["id"] not in listed(http, root)

        for token in (bearer(idle), bearer(other)):
            refused = http.get("/v1/identity", headers=token)
            assert refused.status_code == 401 and refused.json()["errors"][0]["code"] == "sandbox_expired"
        unknown = http.get("/v1/identity", headers={"Authorization": "Bearer sbx_never_issued"})
        assert unknown.json()["errors"][0]["code"] == "invalid_authorization"
        on_control = http.get(f"/_mock/sandboxes/{idle['id']}/requests", headers=control(idle))
        assert on_control.status_code == 401 and on_control.json()["errors"][0]["code"] == "sandbox_expired"
        assert http.get("/v1/identity", headers=FULL).status_code == 200  # the default one is never reclaimed
        made(http, root)  # the slots they held are free again


def test_a_create_only_token_needs_an_admin_token() -> None:
    with pytest.raises(ValueError, match="needs admin_token"):
        MockSettings(sandbox_create_token=MAKER)
    with pytest.raises(ValueError, match="differ"):
        MockSettings(admin_token=ADMIN, sandbox_create_token=ADMIN)
    done = CliRunner().invoke(main, ["--sandbox-create-token", MAKER])
    assert done.exit_code == 2 and "--sandbox-create-token needs --admin-token" in done.output
    shown = CliRunner().invoke(main, ["--help"], terminal_width=200)
    assert "--sandbox-create-token" in shown.output and "--sandbox-idle-timeout" in shown.output
