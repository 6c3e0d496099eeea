"""Drive one scenario against one server with wrk and parse what it prints.

wrk is run with --latency so it prints the 50/75/90/99 % latencies; the Lua scripts under bench/lua set
the key, the method and the body (fresh idempotency keys come from a per-thread counter and a seed).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Result", "parse", "run_wrk"]

LUA = Path(__file__).parent / "lua"
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class Result:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    failures: int  # non-2xx/3xx answers plus socket errors
    cpu_ms: float = 0.0  # CPU time the server (all its processes) used during the run, when measured

    @property
    def cpu_us_per_request(self) -> float:
        """The server's own work per answer: unlike req/s, it barely moves when other jobs share the cores."""
        return self.cpu_ms * 1000 / self.requests if self.requests and self.cpu_ms else 0.0


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unreadable latency {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def parse(output: str) -> Result:
    """Read req/s, p50, p99, request count and failures from wrk --latency output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    total = re.search(r"(\d+) requests in", output)
    if not (rps and p50 and p99 and total):
        raise ValueError(f"unexpected wrk output:\n{output}")
    failures = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        failures += sum(int(n) for n in socket_errors.groups())
    return Result(float(rps[1]), _ms(p50[1]), _ms(p99[1]), int(total[1]), failures)


def run_wrk(url: str, script: str, args: list[str], threads: int, connections: int, seconds: int) -> Result:
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(LUA / script),
        url,
        "--",
        *args,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60)
    return parse(done.stdout)
