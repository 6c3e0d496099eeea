"""The attack catalogue, request-path part: large and malformed bodies, CORS beyond the API, and stopping
with requests in flight, each replayed over real sockets against `incident-mock` while a neighbour polls
GET /v1/severities and measures its worst wait.

Bounds are generous (a slow, shared machine must pass): bench/limits.py measures the real figures.

Before (the answers on main, measured with bench/limits.py on a loaded 2-core machine): a 1 MiB create of
170,000 small strings with one `\\u0041` escape took 21-41 s and held every neighbour as long, answered
with a 32 MB 422; a 300 KB body of 100,000 invalid items took 10-20 s, answered with an 18.7 MB 422; a
sandbox with 250 KB of its own fixtures held neighbours 0.56 s; `--cors-origin '*'` put CORS headers on
/dashboard; a second Ctrl-C with requests in flight answered them with uvicorn's text/plain 500 and logged
a traceback for each; the sandbox cap's 422 advised a reset, which frees no sandbox.
"""

from __future__ import annotations

import json
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.mock.conftest import FULL
from tests.mock.test_attacks_transport import Mock, start
from tests.mock.test_transport import PATIENCE

MAJOR = "01JGZ0SEV0000000000000MAJ0"
LOOP_BOUND = 2.0  # seconds a neighbour may wait while a 1 MiB body is handled (measured: well under 0.1 s)


@pytest.fixture(scope="module")
def mock() -> Iterator[Mock]:
    with tempfile.TemporaryDirectory() as folder:
        running = start(Path(folder) / "mock.log", "--cors-origin", "*", "--log-level", "info")
        try:
            yield running
        finally:
            running.process.send_signal(signal.SIGINT)
            running.process.wait(timeout=PATIENCE)


def neighbour_worst_wait(url: str, attack: Callable[[], Any]) -> tuple[Any, float]:
    """Run `attack()` while a neighbour polls GET /v1/severities; the attack's result and the neighbour's
    worst wait for one answer, in seconds."""
    done = threading.Event()
    worst = 0.0
    polls = 0

    def poll() -> None:
        nonlocal worst, polls
        with httpx.Client(base_url=url, headers=FULL, timeout=PATIENCE * 2) as client:
            client.get("/v1/severities").raise_for_status()
            while not done.is_set():
                began = time.perf_counter()
                client.get("/v1/severities").raise_for_status()
                worst = max(worst, time.perf_counter() - began)
                polls += 1

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        result = attack()
    finally:
        done.set()
        poller.join(PATIENCE * 2)
    return result, worst


def create_body(summary: str, **extra: Any) -> dict[str, Any]:
    return {"idempotency_key": f"k-{time.perf_counter_ns()}", "severity_id": MAJOR, "visibility": "public",
            "summary": summary, **extra}  # fmt: skip


def many_strings(size: int, escape: bool) -> bytes:
    """A create body of about `size` bytes whose custom_field_entries hold small strings, one escaped."""
    items = ["ab"] * (size // 6)  # `"ab", ` is six bytes
    text = json.dumps(create_body("s", custom_field_entries=items))
    return text.replace('"ab"', '"\\u0041b"', 1).encode() if escape else text.encode()


def post(url: str, path: str, data: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    sent = {**FULL, "Content-Type": "application/json", **(headers or {})}
    return httpx.post(f"{url}{path}", content=data, headers=sent, timeout=PATIENCE * 4)


def test_a_mib_of_small_strings_with_an_escape_is_answered_at_once(mock: Mock) -> None:
    data = many_strings(1_000_000, escape=True)
    answer, worst = neighbour_worst_wait(mock.url, lambda: post(mock.url, "/v2/incidents", data))
    assert answer.status_code == 422 and answer.headers["content-type"] == "application/json"
    assert len(answer.content) < 8192
    assert worst < LOOP_BOUND


def test_a_lone_surrogate_in_a_mib_is_422_naming_the_field(mock: Mock) -> None:
    data = json.dumps(create_body("a" * 1_000_000)).replace('"a', '"\\ud800', 1).encode()
    answer, worst = neighbour_worst_wait(mock.url, lambda: post(mock.url, "/v2/incidents", data))
    assert answer.status_code == 422
    (error,) = answer.json()["errors"]
    assert error["code"] == "invalid_value" and error["source"] == {"field": "summary", "pointer": "/summary"}
    assert worst < LOOP_BOUND


def test_a_hundred_thousand_invalid_items_get_a_small_422(mock: Mock) -> None:
    data = json.dumps(create_body("s", custom_field_entries=[1] * 100_000)).encode()
    answer, worst = neighbour_worst_wait(mock.url, lambda: post(mock.url, "/v2/incidents", data))
    assert answer.status_code == 422 and len(answer.content) < 8192
    errors = answer.json()["errors"]
    assert 2 <= len(errors) <= 11
    assert errors[-1]["code"] == "too_many_problems" and "more" in errors[-1]["message"]
    assert all(e["source"]["field"] == "custom_field_entries" for e in errors[:-1])
    assert worst < LOOP_BOUND


def test_the_control_plane_refuses_a_hundred_thousand_invalid_fixtures_with_a_small_422(mock: Mock) -> None:
    data = json.dumps({"fixtures": {"incidents": [1] * 100_000}}).encode()
    answer, worst = neighbour_worst_wait(mock.url, lambda: post(mock.url, "/_mock/sandboxes", data))
    assert answer.status_code == 422 and len(answer.content) < 8192
    assert answer.json()["errors"][-1]["code"] == "too_many_problems"
    assert worst < LOOP_BOUND


def test_parsing_grows_linearly_with_the_body(mock: Mock) -> None:
    """A 1 MiB body costs at most ~20 times a 64 KiB one (the best of three of each)."""

    def best(size: int) -> float:
        data = many_strings(size, escape=True)
        times = []
        for _ in range(3):
            began = time.perf_counter()
            assert post(mock.url, "/v2/incidents", data).status_code == 422
            times.append(time.perf_counter() - began)
        return min(times)

    small, large = best(64 * 1000), best(1000 * 1000)
    assert large < max(small, 0.005) * 20 * 2  # 16x the bytes; twice the margin for a noisy machine


@pytest.mark.parametrize("path", ["/dashboard", "/_mock/health", "/docs", "/openapi.json"])
def test_cors_applies_to_the_api_only(mock: Mock, path: str) -> None:
    origin = {"Origin": "https://elsewhere.example"}
    api = httpx.get(f"{mock.url}/v1/severities", headers={**FULL, **origin})
    assert api.headers.get("access-control-allow-origin") == "https://elsewhere.example"
    other = httpx.get(f"{mock.url}{path}", headers=origin)
    assert "access-control-allow-origin" not in other.headers


def test_a_second_interrupt_stops_at_once_and_in_flight_requests_get_no_plain_500(tmp_path: Path) -> None:
    mock = start(tmp_path / "mock.log", "--log-level", "info")
    try:
        fault = {"kind": "delay", "seconds": 30.0, "operation_id": "Severities V1#List", "times": 30}
        armed = httpx.post(f"{mock.url}/_mock/sandboxes/default/faults", json=fault)
        assert armed.status_code == 201, armed.text
        answers: list[Any] = []

        def call() -> None:
            try:
                answer = httpx.get(f"{mock.url}/v1/severities", headers=FULL, timeout=PATIENCE * 2)
                answers.append((answer.status_code, answer.headers.get("content-type")))
            except httpx.HTTPError as exc:
                answers.append(type(exc).__name__)

        callers = [threading.Thread(target=call, daemon=True) for _ in range(8)]
        for caller in callers:
            caller.start()
        deadline = time.monotonic() + PATIENCE
        while time.monotonic() < deadline:  # until every request is in flight (its delay has begun)
            faults = httpx.get(f"{mock.url}/_mock/sandboxes/default/faults").json()["faults"]
            if faults[0]["fired"] == len(callers):
                break
        mock.process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + PATIENCE
        while "shutting down" not in mock.log.read_text().lower() and time.monotonic() < deadline:
            pass  # the first interrupt has been seen: uvicorn waits for the requests in flight
        mock.process.send_signal(signal.SIGINT)
        began = time.monotonic()
        mock.process.wait(timeout=PATIENCE)
        assert time.monotonic() - began < PATIENCE / 2
        for caller in callers:
            caller.join(PATIENCE)
        assert len(answers) == 8
        assert all(isinstance(a, str) or a[1] == "application/json" for a in answers), answers
        log = mock.log.read_text()
        assert "Traceback" not in log, log[-3000:]
    finally:
        if mock.process.poll() is None:
            mock.process.kill()


def test_a_sandbox_with_a_large_fixtures_document_stalls_no_neighbour(mock: Mock) -> None:
    """Main: the fixtures were checked and the sandbox built on the loop (0.35-0.9 s for 250 KB)."""
    incidents = [
        {"id": f"01JGZ1NC{n:018d}", "created_by": "mock-key-creator",
         "payload": {"idempotency_key": f"seed-{n}", "severity_id": MAJOR, "visibility": "public",
                     "summary": "s" * 9000}}
        for n in range(100)
    ]  # fmt: skip
    data = json.dumps({"fixtures": {"incidents": incidents}}).encode()
    answer, worst = neighbour_worst_wait(mock.url, lambda: post(mock.url, "/_mock/sandboxes", data))
    assert answer.status_code == 201, answer.text[:300]
    assert answer.json()["sandbox"]["incidents"] == 100
    assert httpx.delete(f"{mock.url}/_mock/sandboxes/{answer.json()['sandbox']['id']}").status_code == 204
    assert worst < 0.5  # measured (bench/limits.py): 10 ms, in a worker thread


def test_the_advice_of_a_capacity_error_frees_room_when_followed() -> None:
    """Main advised "Reset the mock (POST /_mock/reset)" at the sandbox cap, which frees no sandbox."""
    import re

    from incident_mock.domain.limits import Limits
    from incident_mock.server import MockServer

    with (
        MockServer(limits=Limits(max_sandboxes=2)).running() as capped,
        httpx.Client(base_url=capped.url) as http,
    ):
        made = http.post("/_mock/sandboxes").json()["sandbox"]
        refused = http.post("/_mock/sandboxes")
        assert refused.status_code == 422
        message = refused.json()["errors"][0]["message"]
        method, path = re.search(r"\((DELETE|POST) (/_mock/[^)]+)\)", message).groups()  # type: ignore[union-attr]
        assert http.request(method, path.replace("{sandbox_id}", made["id"])).status_code == 204
        assert http.post("/_mock/sandboxes").status_code == 201


@pytest.mark.parametrize(
    "extra",
    [
        {"k" * 500_000: 1},  # an unknown field with a long name
        {"custom_field_entries": [{"k" * 200_000: "\ud800"}]},  # a lone surrogate under a long name
        {"custom_field_entries": [{"custom_field_id": "x", "values": [{"v" * 100_000: 1}] * 5}]},
    ],
)
def test_no_422_grows_with_the_names_in_the_body(mock: Mock, extra: dict[str, Any]) -> None:
    data = json.dumps(create_body("s", **extra)).encode()
    answer = post(mock.url, "/v2/incidents", data)
    assert answer.status_code == 422 and len(answer.content) < 8192, answer.content[:300]
