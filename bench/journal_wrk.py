"""The journal's cost under wrk: the mock as shipped, the mock without its journal stage, and Prism, side
by side in one run (issue 10).

`python bench/journal_wrk.py [--duration 5] [--store 10000]`: the three servers run during the whole run;
both mocks are seeded to the same store; each scenario is measured on each server in turn (run.py's
method: wrk -t1 -c16, a 2 s warm-up discarded). Prints req/s and the ratios; writes nothing.
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from run import BENCH, LIST_PATH, MOCK_ARGV, OUT, PRISM, ROOT, TOKEN, UNCAPPED, measure
from seed import seed
from servers import Server

SEVERITY = "01JGZ0SEV0000000000000MAJ0"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--store", type=int, default=10_000)
    opts = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    cap = ["--max-incidents", str(UNCAPPED)]
    off_argv = [sys.executable, str(BENCH / "journal_off_mock.py"), *MOCK_ARGV[1:], *cap]
    prism_argv = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", "{port}", str(ROOT / "openapi.yaml")]
    servers = (
        Server("mock", [*MOCK_ARGV, *cap], log=OUT / "mock.log"),
        Server("mock-nojournal", off_argv, log=OUT / "mock-nojournal.log"),
        Server("prism", prism_argv, log=OUT / "prism.log"),
    )
    tag = str(random.randrange(10**9))
    rows: dict[str, dict[str, float]] = {}
    try:
        for server in servers:
            server.start()
        time.sleep(1)
        for server in servers[:2]:
            seed(server.base, TOKEN, SEVERITY, opts.store)
        cells = [
            ("GET /v1/severities", "/v1/severities", "get.lua", [TOKEN]),
            (f"GET /v2/incidents ({opts.store:,} stored)", LIST_PATH, "get.lua", [TOKEN]),
            ("POST /v2/incidents fresh keys", "/v2/incidents", "post_fresh.lua", [TOKEN, SEVERITY]),
        ]
        for scenario, path, script, args in cells:
            for server in servers:
                extra = [f"{tag}-{server.name}"] if script == "post_fresh.lua" else []
                rows.setdefault(scenario, {})[server.name] = measure(
                    server, path, script, [*args, *extra], opts
                ).requests_per_s
    finally:
        for server in servers:
            server.stop()
    print("| scenario | mock/Prism | mock without journal/Prism | mock / mock without journal |")
    print("|---|---:|---:|---:|")
    for scenario, r in rows.items():
        on, off, prism = r["mock"], r["mock-nojournal"], r["prism"]
        print(f"| {scenario} | {on / prism:.2f}x | {off / prism:.2f}x | {on / off - 1:+.1%} |")


if __name__ == "__main__":
    main()
