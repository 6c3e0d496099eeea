"""Reproducible ids: the same seed, a frozen clock and the same requests give byte-identical answers.

Each run is a real server: two in-process uvicorn apps, or `incident-mock --seed` in a subprocess against
one in-process app. ids.Ids on its own too.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from incident_mock.domain.clock import ManualClock
from incident_mock.domain.ids import Ids
from incident_mock.server import MockServer
from tests.mock.conftest import incident_body
from tests.servers import free_port

PUBLIC = "http://mock.test:8080"
AT = "2026-03-01T09:00:00Z"
ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


@contextmanager
def in_process(seed: int | None) -> Iterator[str]:
    with MockServer(seed=seed, public_url=PUBLIC).running() as server:
        yield server.address


@contextmanager
def subprocess_mock(seed: int) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "incident_mock", "--port", str(port), "--seed", str(seed)]
    command += ["--public-url", PUBLIC, "--log-level", "warning"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/_mock/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "incident-mock did not start"
            time.sleep(0.05)  # polling for readiness, bounded by the deadline
        yield url
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
        assert "Traceback" not in out, out


Answer = tuple[str, int, bytes, str]
MOCK_LEVEL = ("freeze", "sandbox", "unattributed", "journal", "unseeded")  # the mock's request ids


def scenario(url: str, sandbox_seed: int = 11) -> list[Answer]:
    """The same request sequence against one mock: (what, status, body, X-Request-Id) of every answer.
    It freezes the default sandbox's clock first: the mock's own request ids take their time from it."""
    seen: list[Answer] = []
    with httpx.Client(base_url=url, timeout=15) as http:

        def note(what: str, response: httpx.Response) -> httpx.Response:
            seen.append((what, response.status_code, response.content, response.headers["x-request-id"]))
            return response

        frozen = http.post("/_mock/sandboxes/default/clock/actions/freeze", json={"at": AT})
        now = frozen.json()["clock"]["now"]  # its offset from real time varies, of course
        seen.append(("freeze", frozen.status_code, now.encode(), frozen.headers["x-request-id"]))
        made = note("sandbox", http.post("/_mock/sandboxes", json={"seed": sandbox_seed, "frozen_at": AT}))
        sandbox = made.json()["sandbox"]
        token = next(k["token"] for k in sandbox["keys"] if k["replaces"] == "mock-key-full")
        http.headers["Authorization"] = f"Bearer {token}"
        first = note("create", http.post("/v2/incidents", json=incident_body("a", name="First"))).json()
        note("create", http.post("/v2/incidents", json=incident_body("b", name="Second")))
        note("replay", http.post("/v2/incidents", json=incident_body("a", name="First")))
        note("severity", http.post("/v1/severities", json={"name": "SEV0", "description": "All down."}))
        note("list", http.get("/v2/incidents"))
        note("show", http.get(f"/v2/incidents/{first['incident']['id']}"))
        note("not found", http.get("/v2/incidents/01JGZ1NC00000000000000NOPE"))
        note("invalid", http.post("/v2/incidents", json={"idempotency_key": "c", "visibility": "public"}))
        del http.headers["Authorization"]
        note("unattributed", http.get("/v2/incidents"))
        listed = http.get(f"/_mock/sandboxes/{sandbox['id']}/requests")
        journal = listed.json()
        for entry in journal["requests"]:
            entry.pop("duration_ms")  # real time, the one thing that varies
        seen.append(("journal", 200, repr(journal).encode(), listed.headers["x-request-id"]))
        note("unseeded", http.post("/_mock/sandboxes", json={"frozen_at": AT}))
    return seen


def ids_in(answers: list[Answer]) -> set[str]:
    return {i for _, _, body, rid in answers for i in ULID.findall(body.decode() + rid)}


def test_two_runs_with_the_same_seed_answer_byte_for_byte_the_same() -> None:
    with in_process(7) as url:
        first = scenario(url)
    with in_process(7) as url:
        second = scenario(url)
    assert [(what, status) for what, status, _, _ in first] == [
        ("freeze", 200),
        ("sandbox", 201),
        ("create", 200),
        ("create", 200),
        ("replay", 200),
        ("severity", 201),
        ("list", 200),
        ("show", 200),
        ("not found", 404),
        ("invalid", 422),
        ("unattributed", 401),
        ("journal", 200),
        ("unseeded", 201),
    ]
    for one, other in zip(first, second, strict=True):
        assert one == other, f"{one[0]} differs"
    assert len(ids_in(first)) > 10
    sandbox = httpx.Response(201, content=first[1][2]).json()["sandbox"]
    assert sandbox["seed"] == 11 and sandbox["created_at"] == "2026-03-01T09:00:00.000000Z"
    derived = httpx.Response(201, content=first[-1][2]).json()["sandbox"]
    assert isinstance(derived["seed"], int), "under --seed, a sandbox created without one gets one drawn"


def test_incident_mock_seed_in_a_subprocess_matches_an_in_process_run() -> None:
    """Polling the subprocess until it answers draws request ids from the mock's own stream: those differ,
    and so do the bodies that carry one (the 401); everything else is the same."""
    with subprocess_mock(7) as url:
        from_cli = scenario(url)
        default = httpx.get(f"{url}/_mock/sandboxes").json()["sandboxes"][0]
        assert default["id"] == "default" and default["seed"] == 7
    with in_process(7) as url:
        in_proc = scenario(url)
    for one, other in zip(from_cli, in_proc, strict=True):
        if one[0] == "unattributed":
            assert one[1] == other[1] == 401
        elif one[0] in MOCK_LEVEL:
            assert one[:3] == other[:3], f"{one[0]} differs"
        else:
            assert one == other, f"{one[0]} differs"


def test_a_different_seed_gives_different_ids() -> None:
    with in_process(7) as url:
        base = scenario(url)
        other_sandbox_seed = scenario(url, sandbox_seed=12)
    with in_process(8) as url:
        other_mock_seed = scenario(url)
    created = lambda run: httpx.Response(200, content=run[2][2]).json()["incident"]  # noqa: E731
    sandbox = lambda run: httpx.Response(201, content=run[1][2]).json()["sandbox"]  # noqa: E731
    # the sandbox's seed alone decides its incidents' ids and request ids
    assert created(other_sandbox_seed)["id"] != created(base)["id"]
    assert other_sandbox_seed[2][3] != base[2][3]
    assert created(other_mock_seed)["id"] == created(base)["id"]
    # the mock's seed decides sandbox ids and tokens
    assert sandbox(other_mock_seed)["id"] != sandbox(base)["id"]
    assert sandbox(other_mock_seed)["keys"][0]["token"] != sandbox(base)["keys"][0]["token"]


def test_without_a_seed_ids_are_random_and_a_seed_per_sandbox_still_repeats(mock_url: str) -> None:
    with httpx.Client(base_url=mock_url, timeout=15) as http:
        made = [
            http.post("/_mock/sandboxes", json=body).json()["sandbox"]
            for body in ({}, {}, {"seed": 5, "frozen_at": AT}, {"seed": 5, "frozen_at": AT})
        ]
        try:
            assert made[0]["seed"] is None and made[1]["seed"] is None
            incident_ids = []
            for sandbox in made:
                token = sandbox["keys"][0]["token"]
                answer = http.post(
                    "/v2/incidents", json=incident_body("k"), headers={"Authorization": f"Bearer {token}"}
                )
                incident_ids.append(answer.json()["incident"]["id"])
            assert incident_ids[0] != incident_ids[1]
            assert incident_ids[2] == incident_ids[3], "the same sandbox seed, the same ids"
            assert (
                made[2]["id"] != made[3]["id"] and made[2]["keys"][0]["token"] != made[3]["keys"][0]["token"]
            )
        finally:
            for sandbox in made:
                http.delete(f"/_mock/sandboxes/{sandbox['id']}")


def test_a_reset_starts_the_ids_over(mock_url: str) -> None:
    with httpx.Client(base_url=mock_url, timeout=15) as http:
        sandbox = http.post("/_mock/sandboxes", json={"seed": 3}).json()["sandbox"]
        headers = {"Authorization": f"Bearer {sandbox['keys'][0]['token']}"}
        clock = f"/_mock/sandboxes/{sandbox['id']}/clock/actions/freeze"
        try:
            ids = []
            for _ in range(2):
                assert http.post(clock, json={"at": AT}).status_code == 200
                answer = http.post("/v2/incidents", json=incident_body("r"), headers=headers)
                ids.append((answer.json()["incident"]["id"], answer.headers["x-request-id"]))
                assert http.post(f"/_mock/sandboxes/{sandbox['id']}/actions/reset").status_code == 200
            assert ids[0] == ids[1]
        finally:
            http.delete(f"/_mock/sandboxes/{sandbox['id']}")


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with in_process(None) as url:
        yield url


# --- ids.Ids on its own --------------------------------------------------------------------------------
def test_seeded_ids_are_ulids_of_the_clocks_time_and_repeat() -> None:
    clock = ManualClock(dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC))
    one, two = Ids(42, clock), Ids(42, clock)
    drawn = [one.ulid() for _ in range(3)]
    assert drawn == [two.ulid() for _ in range(3)] and len(set(drawn)) == 3
    assert all(ULID.fullmatch(i) for i in drawn)
    from ulid import ULID as Parsed

    assert Parsed.from_str(drawn[0]).datetime == clock.now()
    assert one.token() == two.token() and len(one.token()) == 32
    one.restart()
    assert one.ulid() == drawn[0]
    assert Ids(43, clock).ulid() != drawn[0]
    unseeded = Ids(None, clock)
    assert unseeded.ulid() != unseeded.ulid() and unseeded.token() != unseeded.token()


def test_the_transports_refusals_draw_the_mocks_request_ids() -> None:
    seen = []
    for _ in range(2):
        with in_process(7) as url:
            assert httpx.post(
                f"{url}/_mock/sandboxes/default/clock/actions/freeze", json={"at": AT}
            ).is_success
            refused = httpx.get(f"{url}/v1/identity", headers={"X-Big": "a" * 70_000}, timeout=15)
            assert refused.status_code == 431
            assert refused.json()["request_id"] == refused.headers["x-request-id"]
            seen.append(refused.headers["x-request-id"])
    assert seen[0] == seen[1]


def test_a_sandbox_seed_seeds_its_faults_too(mock_url: str) -> None:
    """Same sandbox seed, same fault decisions: a fault armed without a seed of its own draws from it."""
    patterns = []
    with httpx.Client(base_url=mock_url, timeout=15) as http:
        for _ in range(2):
            sandbox = http.post("/_mock/sandboxes", json={"seed": 9}).json()["sandbox"]
            try:
                fault = {"kind": "error", "status": 500, "probability": 0.5}
                armed = http.post(f"/_mock/sandboxes/{sandbox['id']}/faults", json=fault)
                assert armed.status_code == 201 and armed.json()["fault"]["seed"] == 9
                headers = {"Authorization": f"Bearer {sandbox['keys'][0]['token']}"}
                patterns.append([http.get("/v1/severities", headers=headers).status_code for _ in range(30)])
            finally:
                http.delete(f"/_mock/sandboxes/{sandbox['id']}")
    assert patterns[0] == patterns[1] and 0 < patterns[0].count(500) < 30
