"""The limits part of `make bench` (issue 9), each on a mock of its own, started fresh:

- the mock at its incident cap: RSS at the cap and per incident, the answer past the cap, a list over
  the full store (wrk), and a 500-value and a 1,300-value filter over it with the worst wait of a
  concurrent client (filter_target.measure), then the reset of the full store;
- creates with a 900 KiB summary: RSS growth per byte sent.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from filter_target import measure as measure_filters
from loadgen import Result
from report import Run
from seed import incident_count, seed
from servers import Server

__all__ = ["BIG_SUMMARY", "at_cap", "big_creates"]

BIG_SUMMARY = 900 * 1024
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
