"""Sandbox create and delete over HTTP, and RSS per empty sandbox (issue 10, "Speed and memory").

`python bench/sandboxes.py [--ops 300] [--rss 1000]` starts an `incident-mock` of its own (default
fixtures, 127.0.0.1, --log-level warning), then:

- times `--ops` sequential `POST /_mock/sandboxes` (one keep-alive httpx client, wall time per call, the
  201 answer read whole), then the `DELETE /_mock/sandboxes/{id}` of each: p50, p90, max;
- reads VmRSS of the mock (/proc/PID/status), creates `--rss` sandboxes, reads it again: the growth
  divided by their number is the RSS per empty sandbox (the sandboxes are then deleted and RSS read once
  more, to show how much comes back).

Also importable: `create_many(base, n)` is what `bench/run.py --sandboxes N` uses.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import httpx
from servers import Server, tree_rss_kib

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
MOCK_ARGV = [str(ROOT / ".venv/bin/incident-mock"), "--port", "{port}", "--log-level", "warning"]

__all__ = ["create_many", "delete_all", "main", "measure"]


def create_many(client: httpx.Client, n: int) -> list[str]:
    """Create n sandboxes with the default fixtures; their ids."""
    ids = []
    for _ in range(n):
        answer = client.post("/_mock/sandboxes", json={})
        if answer.status_code != 201:
            raise RuntimeError(f"sandbox create answered {answer.status_code}: {answer.text[:300]}")
        ids.append(answer.json()["sandbox"]["id"])
    return ids


def delete_all(client: httpx.Client, ids: list[str]) -> None:
    for sandbox_id in ids:
        answer = client.delete(f"/_mock/sandboxes/{sandbox_id}")
        if answer.status_code >= 300:
            raise RuntimeError(f"sandbox delete answered {answer.status_code}: {answer.text[:300]}")


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(ops: int, rss_n: int) -> list[str]:
    lines: list[str] = []
    OUT.mkdir(exist_ok=True)
    mock = Server(
        "mock", [*MOCK_ARGV, "--max-sandboxes", str(max(ops, rss_n) + 10)], log=OUT / "sandboxes.log"
    )
    mock.start()
    time.sleep(1)
    try:
        with httpx.Client(base_url=mock.base, timeout=30) as client:
            delete_all(client, create_many(client, 20))  # warm-up, discarded
            created, deleted, ids = [], [], []
            for _ in range(ops):
                started = time.perf_counter()
                answer = client.post("/_mock/sandboxes", json={})
                created.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 201, answer.text
                ids.append(answer.json()["sandbox"]["id"])
            for sandbox_id in ids:
                started = time.perf_counter()
                answer = client.delete(f"/_mock/sandboxes/{sandbox_id}")
                deleted.append((time.perf_counter() - started) * 1000)
                assert answer.status_code < 300, answer.text
            for name, samples in (("create", created), ("delete", deleted)):
                lines.append(
                    f"sandbox {name} over HTTP ({ops} sequential, default fixtures): p50 "
                    f"{statistics.median(samples):.2f} ms, p90 {_pct(samples, 0.9):.2f} ms, "
                    f"max {max(samples):.2f} ms"
                )
            assert mock.proc is not None
            before = tree_rss_kib(mock.proc.pid)
            started = time.perf_counter()
            ids = create_many(client, rss_n)
            took = time.perf_counter() - started
            time.sleep(0.5)
            after = tree_rss_kib(mock.proc.pid)
            delete_all(client, ids)
            time.sleep(0.5)
            freed = tree_rss_kib(mock.proc.pid)
            lines.append(
                f"RSS per empty sandbox: {(after - before) / rss_n:.1f} KiB ({rss_n:,} sandboxes created in "
                f"{took:.1f} s: VmRSS {before / 1024:.1f} MiB before, {after / 1024:.1f} MiB after, "
                f"{freed / 1024:.1f} MiB once all were deleted)"
            )
    finally:
        mock.stop()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ops", type=int, default=300, help="creates, then deletes, timed one by one")
    parser.add_argument("--rss", type=int, default=1000, help="sandboxes created for the RSS figure")
    opts = parser.parse_args()
    for line in measure(opts.ops, opts.rss):
        print(line, flush=True)


if __name__ == "__main__":
    main()
