"""Each fault kind over a real socket (uvicorn on 127.0.0.1): what the client sees, and what was stored."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.mock.conftest import CREATOR, FULL, incident_body

FAULTS = "/_mock/sandboxes/default/faults"
CREATE = "Incidents V2#Create"


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logs() -> Iterator[Lines]:
    """What the mock (incident_mock) and uvicorn log meanwhile."""
    lines = Lines()
    loggers = [logging.getLogger(name) for name in ("incident_mock", "uvicorn.error", "uvicorn")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(lines)
        logger.setLevel(logging.INFO)
    yield lines
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(lines)
        logger.setLevel(level)


def arm(url: str, **body: Any) -> dict[str, Any]:
    answer = httpx.post(f"{url}{FAULTS}", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["fault"]  # type: ignore[no-any-return]


def incidents(url: str) -> list[str]:
    answer = httpx.get(f"{url}/v2/incidents", headers=FULL, params={"page_size": 250})
    return [incident["name"] for incident in answer.json()["incidents"]]


def journal(url: str) -> list[dict[str, Any]]:
    return httpx.get(f"{url}/_mock/sandboxes/default/requests").json()["requests"]  # type: ignore[no-any-return]


def create(url: str, key: str) -> httpx.Response:
    return httpx.post(f"{url}/v2/incidents", headers=CREATOR, json=incident_body(key, name=f"Alert {key}"))


def test_error_answers_the_status_in_the_contract_shape_and_stores_nothing(live_url: str) -> None:
    before = incidents(live_url)
    arm(live_url, kind="error", operation_id=CREATE, status=500)
    answer = create(live_url, "e1")
    assert answer.status_code == 500
    assert answer.json()["type"] == "api_error" and answer.json()["errors"][0]["code"] == "injected_fault"
    assert incidents(live_url) == before
    assert create(live_url, "e1").status_code == 200  # spent: the next one goes through


def test_a_429_fault_says_when_to_retry(live_url: str) -> None:
    arm(live_url, kind="error", status=429, retry_after=3, operation_id=CREATE)
    answer = create(live_url, "r1")
    assert (answer.status_code, answer.headers["retry-after"], answer.json()["type"]) == (
        429,
        "3",
        "too_many_requests",
    )


def test_after_commit_then_error_stores_and_a_retry_replays(live_url: str) -> None:
    arm(live_url, kind="after_commit", operation_id=CREATE)
    first = create(live_url, "ac1")
    assert (first.status_code, first.json()["type"]) == (500, "api_error")
    assert incidents(live_url).count("Alert ac1") == 1
    again = create(live_url, "ac1")
    assert (again.status_code, again.headers["idempotent-replayed"]) == (200, "true")
    assert incidents(live_url).count("Alert ac1") == 1


def test_after_commit_then_cut_stores_and_cuts_with_one_log_line(live_url: str, logs: Lines) -> None:
    fault = arm(live_url, kind="after_commit", operation_id=CREATE, then="cut")
    with pytest.raises(httpx.RemoteProtocolError):
        create(live_url, "ac2")
    assert incidents(live_url).count("Alert ac2") == 1
    again = create(live_url, "ac2")
    assert (again.status_code, again.headers["idempotent-replayed"]) == (200, "true")
    creates = [e for e in journal(live_url) if e["operation_id"] == CREATE]
    assert [(e["status"], e["replayed"], (e["fault"] or {}).get("id")) for e in creates] == [
        (0, False, fault["id"]),
        (200, True, None),
    ]
    assert_one_line(logs, fault["id"])


def test_drop_cuts_before_anything_is_stored(live_url: str, logs: Lines) -> None:
    before = incidents(live_url)
    fault = arm(live_url, kind="drop", operation_id=CREATE)
    with pytest.raises(httpx.RemoteProtocolError):
        create(live_url, "d1")
    assert incidents(live_url) == before
    [entry] = [e for e in journal(live_url) if e["operation_id"] == CREATE]
    assert (entry["status"], entry["fault"]["kind"]) == (0, "drop")
    assert_one_line(logs, fault["id"])
    assert create(live_url, "d1").status_code == 200  # the connection pool recovers


def assert_one_line(logs: Lines, fault_id: str) -> None:
    lines = [r for r in logs.records if fault_id in r.getMessage()]
    assert len(lines) == 1, [r.getMessage() for r in logs.records]
    assert "cut the connection" in lines[0].getMessage()
    assert not [r for r in logs.records if r.exc_info or r.levelno >= logging.ERROR], [
        r.getMessage() for r in logs.records
    ]


def test_delay_holds_one_answer_without_blocking_others(live_url: str) -> None:
    arm(live_url, kind="delay", seconds=3.0, operation_id="Incidents V2#List")
    done = threading.Event()
    statuses: list[int] = []

    def slow() -> None:
        statuses.append(httpx.get(f"{live_url}/v2/incidents", headers=FULL, timeout=30).status_code)
        done.set()

    started = time.monotonic()
    thread = threading.Thread(target=slow)
    thread.start()
    # While the list waits, other requests are answered.
    assert httpx.get(f"{live_url}/v1/severities", headers=FULL).status_code == 200
    assert not done.is_set()
    assert done.wait(30)
    thread.join()
    assert statuses == [200] and time.monotonic() - started >= 3.0
    [entry] = [e for e in journal(live_url) if e["operation_id"] == "Incidents V2#List"]
    assert entry["fault"]["kind"] == "delay" and entry["fault"]["seconds"] == 3.0
    assert entry["duration_ms"] >= 3000
