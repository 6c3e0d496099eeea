"""Fill a server's store with incidents through the API, fast: wrk with the fresh-key script does the bulk,
httpx tops up the last few so the count is exact.

The count is read from the contract's own `pagination_meta.total_record_count` (with a key that sees
private incidents), so this works for any server that implements the contract.
"""

from __future__ import annotations

import math
import random
import subprocess

import httpx
from loadgen import LUA

__all__ = ["incident_count", "seed"]


def incident_count(base: str, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    answer = httpx.get(f"{base}/v2/incidents", params={"page_size": 1}, headers=headers, timeout=30)
    answer.raise_for_status()
    total: int = answer.json()["pagination_meta"]["total_record_count"]
    return total


def create_one(base: str, token: str, severity_id: str, key: str, name: str = "bench seed") -> httpx.Response:
    """One create; the replay run must send the very payload used here (name included)."""
    body = {"idempotency_key": key, "severity_id": severity_id, "visibility": "public", "name": name}
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.post(f"{base}/v2/incidents", json=body, headers=headers, timeout=30)


def seed(base: str, token: str, severity_id: str, target: int, rate_guess: float = 800.0) -> int:
    """Create incidents until the store holds `target`; returns the final count."""
    count = incident_count(base, token)
    while target - count > 64:
        remaining = target - count - 16  # leave room for in-flight overshoot
        seconds = max(1, math.ceil(remaining / rate_guess))
        seed_tag = f"seed{random.randrange(10**9)}"
        argv = ["wrk", "-t1", "-c16", f"-d{seconds}s", "-s", str(LUA / "post_fresh.lua")]
        argv += [f"{base}/v2/incidents", "--", token, severity_id, seed_tag, str(remaining)]
        subprocess.run(argv, capture_output=True, check=True, timeout=seconds + 60)
        before, count = count, incident_count(base, token)
        if count == before:
            raise RuntimeError(f"seeding {base} made no progress")
        rate_guess = max(rate_guess, (count - before) / seconds)
    tag = random.randrange(10**9)
    for n in range(target - count):
        create_one(base, token, severity_id, f"seed-topup-{tag}-{n}").raise_for_status()
    return incident_count(base, token)
