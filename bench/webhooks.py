"""Webhook delivery latency and throughput to a loopback receiver.

`python bench/webhooks.py [--sequential 300] [--load 2000] [--clients 8] [--endpoints 1]` starts an
`incident-mock` of its own (`python -m incident_mock`, 127.0.0.1, --log-level warning) and, in this
process, the testing kit's `WebhookReceiver` (stdlib `http.server`, a thread per request, every delivery
verified with `standardwebhooks`, answered 204), registered with the default sandbox for
`public_incident.incident_created_v2` (`--endpoints` times: each create is then that many deliveries, a
sandbox fanning out). Then:

- **latency**: `--sequential` creates one after another (one keep-alive httpx client); for each, the
  time from just before the POST to the receiver having verified the delivery, and from the API's answer
  to that moment: p50, p99, max;
- **throughput**: `--load` creates from `--clients` threads at once, as fast as the mock answers; creates
  per second, deliveries per second (first POST to the last delivery verified), and the latency of each
  message under that load (POST sent -> delivery verified): p50, p99, max.

The receiver shares this process (and the 2 cores) with the load generator: its verification cost is
in the figures, as it would be in an integrator's test.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from servers import Server

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
EVENT = "public_incident.incident_created_v2"
FULL = {"Authorization": "Bearer mock-key-full"}
MAJOR = "01JGZ0SEV0000000000000MAJ0"

sys.path[:0] = [str(ROOT / "mock"), str(ROOT / "contract")]
from incident_mock.testing.receiver import WebhookReceiver  # noqa: E402

__all__ = ["main", "measure"]


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _line(what: str, samples: list[float]) -> str:
    return (
        f"{what}: p50 {statistics.median(samples):.2f} ms, p99 {_pct(samples, 0.99):.2f} ms, "
        f"max {max(samples):.2f} ms ({len(samples)} messages)"
    )


def _received(receiver: WebhookReceiver) -> dict[str, float]:
    """incident id -> when its delivery was verified."""
    return {d.payload[EVENT]["id"]: d.received_at for d in receiver.deliveries}


def measure(sequential: int, load: int, clients: int, endpoints: int = 1) -> list[str]:
    OUT.mkdir(exist_ok=True)
    env_path = os.pathsep.join([str(ROOT / "mock"), str(ROOT / "contract"), os.environ.get("PYTHONPATH", "")])
    os.environ["PYTHONPATH"] = env_path
    mock = Server(
        "mock",
        [sys.executable, "-m", "incident_mock", "--port", "{port}", "--log-level", "warning",
         "--max-incidents", str(sequential + load + 100)],
        log=OUT / "webhooks.log",
    )  # fmt: skip
    lines: list[str] = []
    mock.start()
    try:
        with WebhookReceiver() as receiver, httpx.Client(base_url=mock.base, timeout=30) as client:
            secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()  # every endpoint's
            for _ in range(endpoints):
                answer = client.post(
                    "/_mock/sandboxes/default/webhooks",
                    json={"url": receiver.url, "event_types": [EVENT], "secret": secret},
                )
                answer.raise_for_status()
            receiver.secret = secret
            for n in range(20):  # warm-up, discarded
                client.post("/v2/incidents", headers=FULL, json=_body(f"warm-{n}")).raise_for_status()
            receiver.wait_for(EVENT, count=20 * endpoints, timeout=30)

            total, after_answer = [], []
            for n in range(sequential):
                sent = time.time()
                made = client.post("/v2/incidents", headers=FULL, json=_body(f"seq-{n}"))
                answered = time.time()
                made.raise_for_status()
                incident_id = made.json()["incident"]["id"]
                got_at = _wait_for_incident(receiver, incident_id)
                total.append((got_at - sent) * 1000)
                after_answer.append((got_at - answered) * 1000)
            lines.append(_line("latency, sequential creates (POST sent -> delivery verified)", total))
            lines.append(
                _line("latency, sequential creates (API answered -> delivery verified)", after_answer)
            )

            before = len(receiver.deliveries)
            sent_at: dict[str, float] = {}
            lock = threading.Lock()

            def worker(k: int) -> None:
                with httpx.Client(base_url=mock.base, timeout=30, headers=FULL) as own:
                    for n in range(k, load, clients):
                        started = time.time()
                        made = own.post("/v2/incidents", json=_body(f"load-{n}"))
                        made.raise_for_status()
                        with lock:
                            sent_at[made.json()["incident"]["id"]] = started

            began = time.time()
            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(worker, range(clients)))
            created = time.time()
            receiver.wait_for(EVENT, count=before + load * endpoints, timeout=300)
            received = _received(receiver)
            last = max(received[i] for i in sent_at)
            under_load = [(received[i] - t) * 1000 for i, t in sent_at.items()]
            failed = sum(1 for d in receiver.deliveries if d.status != 204)
            lines.append(
                f"throughput, {load} creates from {clients} clients, {endpoints} endpoint(s): "
                f"{load / (created - began):,.0f} creates/s, {load * endpoints / (last - began):,.0f} "
                f"deliveries/s (first POST to last delivery "
                f"verified: {last - began:.2f} s); {failed} non-2xx, {len(receiver.rejected)} rejected"
            )
            lines.append(_line("latency under that load (POST sent -> delivery verified)", under_load))
    finally:
        mock.stop()
    return lines


def _body(key: str) -> dict[str, str]:
    return {"idempotency_key": key, "visibility": "public", "severity_id": MAJOR}


def _wait_for_incident(receiver: WebhookReceiver, incident_id: str, timeout: float = 30) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = list(receiver.deliveries)  # counted before looking: one arriving now ends the wait below
        for delivery in reversed(seen):
            if delivery.payload[EVENT]["id"] == incident_id:
                return delivery.received_at
        receiver.wait_for(EVENT, count=len(seen) + 1, timeout=deadline - time.monotonic())
    raise AssertionError(f"no delivery for {incident_id}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sequential", type=int, default=300, help="creates timed one by one")
    parser.add_argument("--load", type=int, default=2000, help="creates sent at once from --clients threads")
    parser.add_argument("--clients", type=int, default=8, help="threads sending the load")
    parser.add_argument("--endpoints", type=int, default=1, help="endpoints each create is delivered to")
    opts = parser.parse_args()
    print(f"1-min load average before: {os.getloadavg()[0]:.2f}", flush=True)
    for line in measure(opts.sequential, opts.load, opts.clients, opts.endpoints):
        print(line, flush=True)
    print(f"1-min load average after: {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
