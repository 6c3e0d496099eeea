"""Attacks on the API run by the deployment it checks: a defect found on main and fixed here.

- an answer whose body is JSON nested deeper than Python parses raised RecursionError out of every check
  that reads the answer, ending the run instead of failing the check.
"""

from __future__ import annotations

import httpx

from incident_conformance.target import Exchange

NESTED = b"[" * 100_000 + b"]" * 100_000


def test_an_answer_nested_too_deep_reads_as_not_json() -> None:
    exchange = Exchange("GET", "http://x/v2/incidents", {}, None, 200, httpx.Headers(), NESTED)
    assert exchange.json() is None
