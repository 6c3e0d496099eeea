"""The bench harness reads wrk's output right and keeps labelled runs apart in results.md."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from incident_mock.domain.limits import Limits
from incident_mock.testing import IncidentMock

BENCH = Path(__file__).resolve().parents[2] / "bench"

WRK_OUTPUT = """\
Running 5s test @ http://127.0.0.1:40000/v2/incidents
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    13.18ms    5.29ms  93.73ms   89.50%
    Req/Sec     1.21k   133.53     1.33k    87.50%
  Latency Distribution
     50%  811.00us
     75%   13.05ms
     90%   16.56ms
     99%    1.20s
  6050 requests in 5.00s, 5.45MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:   1210.33
Transfer/sec:     92.98KB
"""


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> dict[str, ModuleType]:
    monkeypatch.syspath_prepend(str(BENCH))
    import loadgen
    import report

    yield {"loadgen": loadgen, "report": report}
    for name in ("loadgen", "report"):
        sys.modules.pop(name, None)


def test_parse_reads_rate_percentiles_and_failures(bench):
    result = bench["loadgen"].parse(WRK_OUTPUT)
    assert result.requests_per_s == pytest.approx(1210.33)
    assert result.p50_ms == pytest.approx(0.811)
    assert result.p99_ms == pytest.approx(1200.0)
    assert result.requests == 6050
    assert result.failures == 7 + 2 + 3


def test_parse_refuses_output_without_latency_distribution(bench):
    with pytest.raises(ValueError, match="unexpected wrk output"):
        bench["loadgen"].parse("Requests/sec: 10\n")


def test_merge_replaces_only_the_section_with_the_same_label(bench, tmp_path: Path):
    report, result = bench["report"], bench["loadgen"].Result(100.0, 1.0, 2.0, 500, 0)
    path = tmp_path / "results.md"

    def run(label: str, rps: float) -> None:
        r = report.Run(label, "today", "2 cores", "wrk", "wrk -t1")
        r.cells["GET /v1/severities"] = {"mock": result.__class__(rps, 1.0, 2.0, 500, 0), "prism": result}
        report.merge(path, r)

    run("before", 150.0)
    run("after", 300.0)
    run("after", 400.0)
    text = path.read_text()
    assert text.count("## before — ") == 1
    assert text.count("## after — ") == 1
    assert "| GET /v1/severities | n/a | 1.50x |" in text
    assert "| GET /v1/severities | n/a | 4.00x |" in text
    assert "3.00x" not in text


def test_the_servers_cpu_per_request_is_shown_beside_req_s(bench):
    report, result_of = bench["report"], bench["loadgen"].Result
    mock = result_of(2000.0, 1.0, 2.0, 10_000, 0, cpu_ms=1_500.0)  # 150 us a request
    prism = result_of(1000.0, 1.0, 2.0, 5_000, 0, cpu_ms=2_000.0)  # 400 us a request
    run = report.Run("cpu", "today", "2 cores", "wrk", "wrk -t1")
    run.cells["GET /v1/severities"] = {
        "mock": mock,
        "prism": prism,
        "ceiling": result_of(1.0, 1.0, 1.0, 1, 0),
    }
    text = report.render(run)
    assert "| GET /v1/severities | mock | 2,000 | 1.00 | 2.00 | 10,000 | 0 | 150 |" in text
    assert "| GET /v1/severities | ceiling | 1 | 1.00 | 1.00 | 1 | 0 | n/a |" in text
    assert "| GET /v1/severities | 2000.00x | 2.00x | 2.67x |" in text


def test_a_process_trees_cpu_time_is_read_from_proc(bench, monkeypatch: pytest.MonkeyPatch):
    import os
    import time

    monkeypatch.syspath_prepend(str(BENCH))
    import servers

    before = servers.tree_cpu_s(os.getpid())
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:  # burn 50 ms of CPU
        pass
    assert servers.tree_cpu_s(os.getpid()) - before >= 0.03
    sys.modules.pop("servers", None)


def test_the_catalog_cell_fills_a_catalog_type_and_counts_it(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(BENCH))
    import catalog_page

    try:
        with IncidentMock() as mock, mock.sandbox() as sandbox:
            assert catalog_page.seed_entries(sandbox.base_url, sandbox.keys.full, 30) == 35
            headers = {"Authorization": f"Bearer {sandbox.keys.full}"}
            page = httpx.get(sandbox.base_url + catalog_page.ENTRIES_PATH, headers=headers).json()
        assert len(page["catalog_entries"]) == 25
        assert page["pagination_meta"]["after"] == page["catalog_entries"][-1]["id"]
    finally:
        sys.modules.pop("catalog_page", None)


@pytest.mark.skipif(shutil.which("wrk") is None, reason="the bench's load generator, wrk, is not installed")
def test_the_alert_event_cells_make_one_alert_for_one_key_and_one_per_fresh_key(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.syspath_prepend(str(BENCH))
    import alert_events
    import loadgen

    try:
        with IncidentMock(limits=Limits(max_rows=100_000)) as mock:
            token = alert_events.source_token(mock.url, "mock-key-full")
            answers = alert_events.probe("the mock", mock.url, token, "probe")
            assert [line.split(": ", 1)[1][:3] for line in answers] == ["202", "202"]
            url = mock.url + alert_events.path(token)
            held = alert_events.alerts_stored(mock.url, "mock-key-full")
            one = loadgen.run_wrk(url, "post_alert.lua", [token, "one"], 1, 2, 1)
            assert one.requests > 1 and one.failures == 0
            assert alert_events.alerts_stored(mock.url, "mock-key-full") == held + 1
            many = loadgen.run_wrk(url, "post_alert.lua", [token, "many", "seed"], 1, 2, 1)
            assert many.failures == 0
            grown = alert_events.alerts_stored(mock.url, "mock-key-full") - held - 1
            assert many.requests <= grown <= many.requests + 2  # answers in flight when wrk stopped
    finally:
        for name in ("alert_events", "loadgen"):
            sys.modules.pop(name, None)
