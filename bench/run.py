"""`make bench`: the mock side by side with the Starlette ceiling and Prism, on 127.0.0.1, driven by wrk.

Scenarios: GET /v1/severities; GET /v3/catalog_entries (a page of 25 of one catalog type's 200 entries);
GET /v2/incidents (25 a page) over a 10 000-incident store; POST
/v2/incidents with fresh keys; POST replaying one key; alert events posted to the fixtures' HTTP source
with its token (bench/alert_events.py), one deduplication key for all (each event updates the same firing
alert) and a new key each (each event a new alert), in events per second. Also: start to first 200 per
server; then, on
mocks of their own (bench/limits.py), the mock at its incident cap (100 000, its default: RSS at the cap
and per incident, a list over the full store, a 500-value and a 1,300-value filter with a concurrent
client's worst wait, the reset of the full store) and creates with a 900 KiB summary (RSS growth per
byte sent). Results go to bench/results.md and stdout.

With `--wide N` (default 36), the severities and list cells also run on the mock serving openapi.yaml plus N
synthetic resources declared in x-resources (180 more operations: bench/wide_contract.py), shown as the
server "mock, wide contract (K operations)": routing must not grow with the contract.

With `--sandboxes N`, each scenario is measured on the mock twice in the same run: as above,
then with N more sandboxes alive (created over the control plane just before, deleted just after; the
requests still use the default sandbox's key), shown as the server "mock, N sandboxes".
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import alert_events
import httpx
from catalog_page import ENTRIES_PATH, seed_entries
from limits import at_cap, big_creates, slow_bodies_on
from loadgen import Result, run_wrk
from report import Run, merge, wide_name, with_sandboxes
from sandboxes import create_many, delete_all
from seed import create_one, seed
from servers import Server
from wide_contract import write as write_wide

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
PRISM = BENCH / "node_modules" / ".bin" / "prism"
TOKEN = "mock-key-full"
LIST_PATH = "/v2/incidents?page_size=25"
MOCK_ARGV = [str(ROOT / ".venv/bin/incident-mock"), "--port", "{port}", "--log-level", "warning"]
UNCAPPED = 10_000_000


def ensure_tools() -> None:
    """wrk from Debian, Prism from npm into bench/node_modules (both only when missing)."""
    if shutil.which("wrk") is None:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, env=env)
    if not PRISM.exists():
        npm = ["npm", "install", "--prefix", str(BENCH), "--no-audit", "--no-fund", "--ignore-scripts"]
        subprocess.run(npm, check=True, env={**os.environ, "SCARF_ANALYTICS": "false"})


def versions() -> str:
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split(" [")[0]
    prism = subprocess.run([str(PRISM), "--version"], capture_output=True, text=True).stdout.strip()
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    pkgs = ", ".join(f"{p} {metadata.version(p)}" for p in ("connexion", "starlette", "uvicorn", "uvloop"))
    head = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
    )
    python = f"Python {platform.python_version()}, {pkgs}"
    return f"{wrk}; Prism {prism} (node {node}); {python}; mock at commit {head.stdout.strip()}"


def machine() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), platform.machine()
    )
    return f"{os.cpu_count()} cores ({cpu}), Linux {platform.release()}"


def measure(server: Server, path: str, script: str, args: list[str], opts: argparse.Namespace) -> Result:
    url = server.base + path
    run_wrk(url, script, args, opts.threads, opts.connections, opts.warmup)  # warm-up, discarded
    cpu = server.cpu_s()
    result = run_wrk(url, script, args, opts.threads, opts.connections, opts.duration)
    result.cpu_ms = (server.cpu_s() - cpu) * 1000
    print(
        f"  {server.name:8} {path:28} {result.requests_per_s:9,.0f} req/s  p50 {result.p50_ms:.2f} ms"
        f"  p99 {result.p99_ms:.2f} ms  CPU {result.cpu_us_per_request:.0f} us/request"
        f"  failures {result.failures}",
        flush=True,
    )
    return result


def _wide(resources: int) -> Server | None:
    """The mock on the contract plus 5 operations a resource (bench/wide_contract.py), when asked for."""
    if not resources:
        return None
    operations = write_wide(OUT / "wide.yaml", resources)
    argv = [sys.executable, str(BENCH / "wide_contract.py"), str(OUT / "wide.yaml"), "--serve"]
    argv += ["--port", "{port}", "--max-incidents", str(UNCAPPED)]
    return Server(wide_name(operations), argv, log=OUT / "wide.log")


def _servers(sandboxes: int = 0) -> tuple[Server, Server, Server]:
    # the throughput cells never reach a cap (alerts are capped by --max-rows)
    mock_argv = [*MOCK_ARGV, "--max-incidents", str(UNCAPPED), "--max-rows", str(UNCAPPED)]
    if sandboxes:
        mock_argv += ["--max-sandboxes", str(sandboxes + 1), "--max-total-incidents", str(UNCAPPED)]
    ceiling_argv = [sys.executable, str(BENCH / "ceiling.py"), "--port", "{port}"]
    ceiling_argv += ["--body", str(OUT / "severities.json")]
    prism_argv = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", "{port}", str(ROOT / "openapi.yaml")]
    return (
        Server("mock", mock_argv, log=OUT / "mock.log"),
        Server("ceiling", ceiling_argv, log=OUT / "ceiling.log"),
        Server("prism", prism_argv, log=OUT / "prism.log"),
    )


def _start_all(servers: tuple[Server, ...], run: Run) -> None:
    mock = servers[0]
    for server in servers:
        if server.name == "ceiling":  # the ceiling serves the mock's own answer, byte for byte
            answer = httpx.get(f"{mock.base}/v1/severities", headers={"Authorization": f"Bearer {TOKEN}"})
            (OUT / "severities.json").write_bytes(answer.content)
        server.start()
        time.sleep(1)
        run.startup_s[server.name] = server.startup_s
        run.rss_idle_mib[server.name] = server.rss_kib() / 1024
        print(f"  {server.name:8} up in {server.startup_s:.2f} s", flush=True)


def alert_events_cells(run: Run, mock: Server, prism: Server, tag: str, cell: Callable[..., None]) -> None:
    """Alert events, one deduplication key for all and then a new key each (events/s is the cells' req/s);
    what each server answers to one event, and how many alerts the mock held, go under the tables."""
    token = alert_events.source_token(mock.base, TOKEN)
    url = alert_events.path(token)
    for name, server in (("the mock", mock), ("Prism", prism)):
        run.memory += alert_events.probe(name, server.base, token, f"bench-probe-{tag}")
    held = [alert_events.alerts_stored(mock.base, TOKEN)]
    dedup = [token, f"bench-dedup-{tag}"]
    cell("POST /v2/alert_events/http one dedup key", (mock, prism), url, "post_alert.lua", dedup)
    held.append(alert_events.alerts_stored(mock.base, TOKEN))
    new = [token, "bench-alert"]
    cell("POST /v2/alert_events/http new alerts", (mock, prism), url, "post_alert.lua", new, True)
    held.append(alert_events.alerts_stored(mock.base, TOKEN))
    run.memory.append(
        "alert events (token in the query and as a Bearer header, see bench/alert_events.py): the mock's "
        f"default sandbox held {held[0]:,} alerts before the one-key cell, {held[1]:,} after it and "
        f"{held[2]:,} after the new-alerts cell (warm-up included)"
    )


def bench(opts: argparse.Namespace, run: Run) -> None:
    mock, _ceiling, prism = servers = _servers(opts.sandboxes)
    wide = _wide(opts.wide)
    started: tuple[Server, ...] = (*servers, wide) if wide else servers
    try:
        _start_all(started, run)
        severity_id = json.loads((OUT / "severities.json").read_bytes())["severities"][0]["id"]
        tag = str(random.randrange(10**9))
        cells = run.cells

        def cell(
            scenario: str,
            targets: tuple[Server, ...],
            path: str,
            script: str,
            args: list[str],
            fresh: bool = False,  # the script takes a seed for its fresh keys, one per server and run
        ) -> None:
            for s in targets:
                extra = [f"{tag}-{s.name}"] if fresh else []
                cells.setdefault(scenario, {})[s.name] = measure(s, path, script, [*args, *extra], opts)
            if opts.sandboxes:  # the same cell on the mock with N sandboxes alive, right after
                with httpx.Client(base_url=mock.base, timeout=30) as control:
                    ids = create_many(control, opts.sandboxes)
                    extra = [f"{tag}-sandboxes"] if fresh else []
                    result = measure(mock, path, script, [*args, *extra], opts)
                    cells[scenario][with_sandboxes(opts.sandboxes)] = result
                    delete_all(control, ids)

        extra: tuple[Server, ...] = (wide,) if wide else ()
        cell("GET /v1/severities", (*servers, *extra), "/v1/severities", "get.lua", [TOKEN])
        entries = seed_entries(mock.base, TOKEN, opts.catalog_entries)
        catalog = f"GET /v3/catalog_entries ({entries} of a type)"
        cell(catalog, (mock, prism), ENTRIES_PATH, "get.lua", [TOKEN])
        stored = seed(mock.base, TOKEN, severity_id, opts.store)
        if wide:
            seed(wide.base, TOKEN, severity_id, opts.store)
        cell(f"GET /v2/incidents ({stored:,} stored)", (mock, prism, *extra), LIST_PATH, "get.lua", [TOKEN])
        fresh = [TOKEN, severity_id]
        cell("POST /v2/incidents fresh keys", (mock, prism), "/v2/incidents", "post_fresh.lua", fresh, True)
        replay_key = f"bench-replay-{tag}"
        for _ in range(2):  # create, then prove the replay is a replay (same body as lua/post_replay.lua)
            answer = create_one(mock.base, TOKEN, severity_id, replay_key, name="bench replay")
            answer.raise_for_status()
        if answer.headers.get("Idempotent-Replayed") != "true":
            raise RuntimeError("the mock did not answer the replay as a replay")
        replay = [TOKEN, severity_id, replay_key]
        cell("POST /v2/incidents replay", (mock, prism), "/v2/incidents", "post_replay.lua", replay)
        alert_events_cells(run, mock, prism, tag, cell)
    finally:
        for server in started:
            server.stop()

    def listed(server: Server, scenario: str) -> Result:
        return measure(server, LIST_PATH, "get.lua", [TOKEN], opts)

    at_cap(MOCK_ARGV, OUT, run, TOKEN, severity_id, opts.memory_store, listed)
    big_creates(MOCK_ARGV, OUT, run, TOKEN, severity_id)
    slow_bodies_on(MOCK_ARGV, OUT, run, TOKEN, severity_id)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--label", default="latest", help="section name in results.md (e.g. before, after)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per measured wrk run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of discarded wrk run before each")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--store", type=int, default=10_000, help="incidents in the store for the list run")
    parser.add_argument(
        "--catalog-entries",
        type=int,
        default=195,
        help="entries added to the fixtures' Service catalog type (5) for the catalog list run",
    )
    parser.add_argument(
        "--memory-store",
        type=int,
        default=100_000,
        help="the incident cap of the mock filled for the memory figure",
    )
    parser.add_argument(
        "--sandboxes",
        type=int,
        default=0,
        help="also measure each scenario on the mock with this many sandboxes alive (0: not)",
    )
    parser.add_argument(
        "--wide",
        type=int,
        default=36,
        help="also run the severities and list cells on the mock serving openapi.yaml plus this many "
        "synthetic declared resources (5 operations each; 36: 180 more operations); 0: not",
    )
    opts = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    ensure_tools()
    run = Run(
        label=opts.label,
        when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        machine=machine(),
        tools=versions(),
        sandboxes=opts.sandboxes,
        method=f"wrk -t{opts.threads} -c{opts.connections} -d{opts.duration}s --latency per cell, after a "
        f"{opts.warmup} s warm-up; all servers on 127.0.0.1 and running during the whole run; mock with "
        "--log-level warning, Prism with its default logging to a file; server CPU per request: the user + "
        "system time of the server's processes during the measured run (/proc), over its requests",
    )
    load_before = Path("/proc/loadavg").read_text().split()[0]
    bench(opts, run)
    load_after = Path("/proc/loadavg").read_text().split()[0]
    run.method += f"; 1-min load average {load_before} before the run, {load_after} after it"
    print(merge(BENCH / "results.md", run))


if __name__ == "__main__":
    main()
