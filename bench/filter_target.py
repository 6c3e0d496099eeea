"""The list target of issue 9: a filtered list over 100,000 incidents answers in under 100 ms, and no
concurrent client waits more than 50 ms meanwhile. Also the reset of that store, seen from a client.

A child process serves the mock (uvicorn, one worker) with its store filled directly (100,000 creates
through the API take a minute; the store's own `create_incident` takes seconds). This process sends the
filtered lists one after another while a second thread asks GET /v1/identity in a loop and records how
long each of its answers took: the worst of those is the wait a concurrent client saw.

    .venv/bin/python bench/filter_target.py [--incidents 100000] [--lists 20]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import http.client
import json
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
TOKEN = {"Authorization": "Bearer mock-key-full"}
LIVE_STATUS = "01JGZ0STAT00000000000NVEST"
STATUSES = (LIVE_STATUS, "01JGZ0STAT0000000000F1X1NG")
SEVERITIES = ("01JGZ0SEV0000000000000M1N0", "01JGZ0SEV0000000000000MAJ0", "01JGZ0SEV00000000000CR1T00")


def serve(incidents: int) -> None:
    """The child: a mock holding `incidents` incidents, on a free port it prints."""
    import socket

    import uvicorn

    from incident_mock.app import create_app
    from incident_mock.domain.limits import Limits

    app = create_app(limits=Limits(max_incidents=incidents))
    store = app.holder.store
    empty = _rss_kib()
    key = store.keys[0]
    for n in range(incidents - len(store.incidents)):
        body = {"idempotency_key": f"fill-{n}", "severity_id": SEVERITIES[n % 3], "visibility": "public",
                "incident_status_id": STATUSES[n % 2]}  # fmt: skip
        store.create_incident(body, key)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    full, held = _rss_kib(), len(store.incidents)
    filling = GcPauses.worst(PAUSES)
    PAUSES.clear()
    ready = {"port": sock.getsockname()[1], "incidents": held, "rss_empty_mib": empty / 1024,
             "rss_full_mib": full / 1024, "kib_per_incident": (full - empty) / max(held, 1),
             "worst_gc_pauses_ms_while_filling": filling}  # fmt: skip
    print(json.dumps(ready), flush=True)
    # uvicorn stops gracefully on SIGTERM, then raises it again: make that an exception, to report after.
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
    print(json.dumps({"worst_gc_pauses_ms_while_serving": GcPauses.worst(PAUSES)}), flush=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


PAUSES: list[tuple[int, float]] = []  # (generation, seconds) of each collection in the child


class GcPauses:
    """Times the garbage collector's collections: a full one walks every object, and stalls the loop."""

    started = 0.0

    @classmethod
    def install(cls) -> None:
        gc.callbacks.append(cls.callback)

    @classmethod
    def callback(cls, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            cls.started = time.perf_counter()
        else:
            PAUSES.append((info["generation"], time.perf_counter() - cls.started))

    @staticmethod
    def worst(pauses: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """The five longest, as (generation, ms)."""
        return [(g, round(s * 1000, 1)) for g, s in sorted(pauses, key=lambda p: -p[1])[:5]]


def _rss_kib() -> int:
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


class Probe(threading.Thread):
    """GET /v1/identity in a loop; records (start, seconds) of each answer."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base, self.stop = base, threading.Event()
        self.samples: list[tuple[float, float]] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.base, headers=TOKEN, timeout=30) as client:
            while not self.stop.is_set():
                started = time.perf_counter()
                client.get("/v1/identity").raise_for_status()
                self.samples.append((started, time.perf_counter() - started))


def timed(
    conn: http.client.HTTPConnection, method: str, url: str, body: bytes | None = None
) -> tuple[int, float]:
    """One request on a kept-alive connection, timed from sending to the last byte of the answer.

    http.client rather than httpx: httpx spends tens of milliseconds parsing a 55 kB URL on the client
    side, which is not the server's time."""
    headers = {**TOKEN, **({"Content-Type": "application/json"} if body is not None else {})}
    started = time.perf_counter()
    conn.request(method, url, body=body, headers=headers)
    answer = conn.getresponse()
    answer.read()
    return answer.status, time.perf_counter() - started


def worst_wait(probe: Probe, windows: list[tuple[float, float]]) -> float:
    """The longest probe answer that overlapped one of the windows."""
    hits = [s for start, s in probe.samples for a, b in windows if start < b and start + s > a]
    return max(hits, default=0.0)


def measure(
    base: str, lists: int, status: str = LIVE_STATUS, severity: str = SEVERITIES[1]
) -> dict[str, Any]:
    """Filtered lists (500 values: the contract's cap per filter; 1,300: past it) with a concurrent client,
    then a reset of the store. Ends with the store reset to its fixtures."""
    query_500 = "&".join([f"status[one_of]={status}"] * 500) + f"&severity[one_of]={severity}"
    query_1300 = "&".join([f"status[one_of]={status}"] * 1300)
    out: dict[str, Any] = {}
    conn = http.client.HTTPConnection(urlsplit(base).netloc, timeout=60)
    with httpx.Client(base_url=base, headers=TOKEN, timeout=60) as client:
        for _ in range(3):  # warm-up
            timed(conn, "GET", f"/v2/incidents?{query_500}")
        idle = Probe(base)
        idle.start()
        while len(idle.samples) < 200:
            time.sleep(0.01)
        idle.stop.set()
        idle.join()
        out["probe_idle_p50_ms"] = statistics.median(s for _, s in idle.samples) * 1000
        probe = Probe(base)
        probe.start()
        while len(probe.samples) < 20:
            time.sleep(0.01)
        for name, query in (("500 values", query_500), ("1,300 values", query_1300)):
            windows, times, statuses = [], [], set()
            for _ in range(lists):
                started = time.perf_counter()
                answered, seconds = timed(conn, "GET", f"/v2/incidents?{query}")
                windows.append((started, started + seconds))
                times.append(seconds)
                statuses.add(answered)
            total = client.get(f"/v2/incidents?{query}&page_size=1").json()
            out[name] = {
                "status": sorted(statuses),
                "p50_ms": statistics.median(times) * 1000,
                "max_ms": max(times) * 1000,
                "worst_concurrent_wait_ms": worst_wait(probe, windows) * 1000,
                "matched": total.get("pagination_meta", {}).get("total_record_count"),
            }
        started = time.perf_counter()
        answered, seconds = timed(conn, "POST", "/_mock/reset", b"{}")
        time.sleep(0.5)  # the old store is freed in a thread after the answer: keep probing meanwhile
        out["reset"] = {
            "status": answered,
            "ms": seconds * 1000,
            "worst_concurrent_wait_ms": worst_wait(probe, [(started, time.perf_counter())]) * 1000,
        }
        probe.stop.set()
        probe.join()
    conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--lists", type=int, default=20, help="filtered lists per query")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.serve:
        GcPauses.install()
        serve(opts.incidents)
        return
    argv = [sys.executable, __file__, "--serve", "--incidents", str(opts.incidents)]
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert child.stdout is not None
        ready = json.loads(child.stdout.readline())
        base = f"http://127.0.0.1:{ready['port']}"
        for _ in range(200):
            try:
                httpx.get(f"{base}/v1/identity", headers=TOKEN).raise_for_status()
                break
            except httpx.TransportError:
                time.sleep(0.05)
        started = time.perf_counter()
        result = {**ready, **measure(base, opts.lists)}
        del result["port"]
        result["seconds"] = round(time.perf_counter() - started, 1)
        child.terminate()  # uvicorn stops gracefully, and the child reports its collections
        result.update(json.loads(child.stdout.readline() or "{}"))
        print(json.dumps(result, indent=2))
    except BaseException:
        child.terminate()
        raise
    finally:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


if __name__ == "__main__":
    main()
