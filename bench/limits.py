"""The limits part of `make bench` (issue 9), each on a mock of its own, started fresh:

- the mock at its incident cap: RSS at the cap and per incident, the answer past the cap, a list over
  the full store (wrk), and a 500-value and a 1,300-value filter over it with the worst wait of a
  concurrent client (filter_target.measure), then the reset of the full store;
- creates with a 900 KiB summary: RSS growth per byte sent;
- slow bodies: a 1 MiB create of small strings with one `\\u0041` escape, a 1 MiB create whose summary
  holds a lone surrogate, a body of 100,000 invalid items, and a sandbox created with 250 KB of its own
  fixtures, each with its answer, its size and the worst wait of a neighbour polling GET /v1/severities.

`python bench/limits.py slow-bodies` runs the last one alone (the mock of this checkout, its figures printed).
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from filter_target import measure as measure_filters
from loadgen import Result
from report import Run
from seed import incident_count, seed
from servers import Server

__all__ = ["BIG_SUMMARY", "at_cap", "big_creates", "slow_bodies", "slow_bodies_on"]

BIG_SUMMARY = 900 * 1024
ROOT = Path(__file__).resolve().parent.parent
TRIAGE = "01JGZ0STAT000000000TR1AGE0"  # where an incident created without a status starts


def _mock(argv: list[str], name: str, log: Path) -> Server:
    server = Server(name, argv, log=log)
    server.start()
    time.sleep(1)
    return server


def at_cap(
    mock_argv: list[str],
    out: Path,
    run: Run,
    token: str,
    severity_id: str,
    cap: int,
    cell: Callable[[Server, str], Result],
) -> None:
    """Fill a mock started with --max-incidents CAP through the API, then measure it full."""
    mock = _mock([*mock_argv, "--max-incidents", str(cap)], "mock", out / "mock-cap.log")
    try:
        idle = mock.rss_kib() / 1024
        started = time.perf_counter()
        held = seed(mock.base, token, severity_id, cap)
        seeded_s = time.perf_counter() - started
        rss = mock.rss_kib() / 1024
        body = {"idempotency_key": f"past-the-cap-{random.randrange(10**9)}", "severity_id": severity_id,
                "visibility": "public"}  # fmt: skip
        past = httpx.post(
            f"{mock.base}/v2/incidents", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        code = past.json()["errors"][0]["code"] if past.status_code == 422 else "-"
        run.memory.append(
            f"mock RSS at its incident cap ({held:,} incidents, --max-incidents {cap:,}): {rss:.0f} MiB "
            f"(after start: {idle:.0f} MiB; about {(rss - idle) * 1024 / max(held, 1):.2f} KiB per "
            f"incident); one more create: {past.status_code} {code}"
        )
        run.memory.append(f"seeding to {held:,} incidents through the API took {seeded_s:.0f} s")
        scenario = f"GET /v2/incidents ({held:,} stored, at the cap)"  # not the side-by-side cell
        run.cells.setdefault(scenario, {})["mock"] = cell(mock, scenario)
        found = measure_filters(mock.base, 20, status=TRIAGE, severity=severity_id)
        for name in ("500 values", "1,300 values"):
            f = found[name]
            answers = "/".join(map(str, f["status"]))
            run.memory.append(
                f"a {name} status[one_of] filter over {held:,} incidents: answer {answers} in "
                f"{f['p50_ms']:.1f} ms (p50 of 20; max {f['max_ms']:.1f} ms), {f['matched'] or 0:,} matched; "
                f"a concurrent client's worst wait meanwhile {f['worst_concurrent_wait_ms']:.1f} ms "
                f"(idle p50 {found['probe_idle_p50_ms']:.1f} ms)"
            )
        reset = found["reset"]
        run.memory.append(
            f"POST /_mock/reset of the full store: {reset['status']} in {reset['ms']:.1f} ms; a concurrent "
            f"client's worst wait meanwhile {reset['worst_concurrent_wait_ms']:.1f} ms"
        )
        if incident_count(mock.base, token) != 1:
            raise RuntimeError("the reset did not bring the store back to its fixtures")
    finally:
        mock.stop()


def big_creates(
    mock_argv: list[str], out: Path, run: Run, token: str, severity_id: str, count: int = 20
) -> None:
    """RSS growth per byte sent, for creates with a 900 KiB summary (each one different)."""
    mock = _mock(mock_argv, "mock", out / "mock-big.log")
    try:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with httpx.Client(base_url=mock.base, headers=headers, timeout=60) as client:
            warm = {
                "idempotency_key": "warm",
                "severity_id": severity_id,
                "visibility": "public",
                "summary": "w",
            }
            client.post("/v2/incidents", content=json.dumps(warm)).raise_for_status()
            before, sent = mock.rss_kib(), 0
            for n in range(count):
                summary = f"{n:08d}" + "s" * (BIG_SUMMARY - 8)
                body = {"idempotency_key": f"big-{n}", "severity_id": severity_id, "visibility": "public",
                        "summary": summary}  # fmt: skip
                data = json.dumps(body).encode()
                client.post("/v2/incidents", content=data).raise_for_status()
                sent += len(data)
            for _ in range(2):  # read them back through a list page, as clients do
                client.get("/v2/incidents", params={"page_size": 25}).raise_for_status()
            grown = (mock.rss_kib() - before) * 1024
        run.memory.append(
            f"{count} creates with a 900 KiB summary: RSS grew {grown / 2**20:.1f} MiB for "
            f"{sent / 2**20:.1f} MiB sent, {grown / max(sent, 1):.2f} bytes per byte sent (then listed twice)"
        )
    finally:
        mock.stop()


def _with_neighbour(
    base: str, token: str, attack: Callable[[], httpx.Response]
) -> tuple[httpx.Response, float]:
    """The attack's answer, and the worst wait (s) of a neighbour polling GET /v1/severities meanwhile."""
    done, began = threading.Event(), threading.Event()
    worst = 0.0

    def poll() -> None:
        nonlocal worst
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
            client.get("/v1/severities").raise_for_status()
            began.set()
            while not done.is_set():
                started = time.perf_counter()
                client.get("/v1/severities").raise_for_status()
                worst = max(worst, time.perf_counter() - started)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    began.wait(30)
    try:
        answer = attack()
    finally:
        done.set()
        poller.join(60)
    return answer, worst


def _fixtures(size: int) -> bytes:
    """A sandbox-create body of about `size` bytes: 500 users, 500 options of the default fixtures'
    first custom field, and 100 incidents of its own (the fixtures' own, with their custom field values)."""
    import yaml  # the bench's environment has the core's PyYAML

    default = yaml.safe_load((ROOT / "mock" / "incident_mock" / "fixtures.yaml").read_text())
    user, option, incident = default["users"][0], default["custom_field_options"][0], default["incidents"][0]
    users = [{**user, "id": f"01JGZ0VSER{n:016d}", "email": f"user{n}@example.com", "slack_user_id": f"U{n}"}
             for n in range(500)]  # fmt: skip
    options = [
        {**option, "id": f"01JGZ0PT{n:018d}", "value": f"Option {n}", "sort_key": n} for n in range(500)
    ]
    body = {
        "users": [*default["users"], *users],
        "custom_field_options": [*default["custom_field_options"], *options],
    }
    each = max(1, (size - len(json.dumps(body))) // 100 - len(json.dumps(incident)))
    body["incidents"] = [
        {**incident, "id": f"01JGZ1NC{n:018d}",
         "payload": {**incident["payload"], "idempotency_key": f"seed-{n}", "summary": "s" * each}}
        for n in range(100)
    ]  # fmt: skip
    return json.dumps({"fixtures": body}).encode()


def _timed(client: httpx.Client, path: str, data: bytes, timed: list[float]) -> httpx.Response:
    started = time.perf_counter()
    answered = client.post(path, content=data)
    timed.append(time.perf_counter() - started)
    return answered


def slow_bodies(base: str, token: str, severity_id: str) -> list[str]:
    """Large and malformed bodies, each with a neighbour polling: one line each."""

    def create(**extra: Any) -> dict[str, Any]:
        return {"idempotency_key": f"slow-{time.perf_counter_ns()}", "severity_id": severity_id,
                "visibility": "public", **extra}  # fmt: skip

    strings = json.dumps(create(custom_field_entries=["ab"] * 170_000)).replace('"ab"', '"\\u0041b"', 1)
    surrogate = json.dumps(create(summary="a" * 1_040_000)).replace('"a', '"\\ud800', 1)
    cases = {
        "a 1 MiB create of 170,000 small strings, one \\u0041 escaped": ("/v2/incidents", strings.encode()),
        "a 1 MiB create whose summary holds a lone surrogate": ("/v2/incidents", surrogate.encode()),
        "a 300 KB create of 100,000 invalid items": (
            "/v2/incidents", json.dumps(create(custom_field_entries=[1] * 100_000)).encode()),
        "a sandbox created with 250 KB of its own fixtures": ("/_mock/sandboxes", _fixtures(250_000)),
    }  # fmt: skip
    lines = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        for name, (path, data) in cases.items():
            for _ in range(2):  # the first also compiles the checks of the operation's schema
                timed: list[float] = []
                answer, worst = _with_neighbour(base, token, partial(_timed, client, path, data, timed))
                seconds = timed[0]
                if answer.status_code == 201 and path == "/_mock/sandboxes":
                    client.delete(f"/_mock/sandboxes/{answer.json()['sandbox']['id']}")
            lines.append(
                f"{name} ({len(data):,} bytes): {answer.status_code} of {len(answer.content):,} bytes in "
                f"{seconds * 1000:.0f} ms; a neighbour's worst wait meanwhile {worst * 1000:.1f} ms"
            )
    return lines


def slow_bodies_on(mock_argv: list[str], out: Path, run: Run, token: str, severity_id: str) -> None:
    mock = _mock(mock_argv, "mock", out / "mock-slow.log")
    try:
        run.memory.extend(slow_bodies(mock.base, token, severity_id))
    finally:
        mock.stop()


if __name__ == "__main__" and sys.argv[1:] == ["slow-bodies"]:
    from incident_mock.server import MockServer

    with MockServer(port=0).running() as served:
        for line in slow_bodies(served.url, "mock-key-full", "01JGZ0SEV0000000000000MAJ0"):
            print(line)
