"""Pacing: a 429 with Retry-After is waited out and sent again, within a bound per request and per run.

The sleeps are a fake's (nothing waits), or a Retry-After of 0 over a real socket: the suite's own
requests (httpx) and Schemathesis' (requests) go through the same Pacer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis.transport.requests as st_requests
from click.testing import CliRunner

import incident_conformance.checks  # noqa: F401  (registers the rules)
from incident_conformance.cli import cli
from incident_conformance.pacing import Pacer, retry_after_seconds
from incident_conformance.schemathesis_hooks import paced
from incident_conformance.target import Budget, Target
from incident_mock.app import create_app
from tests.conformance.helpers import offline_context, offline_target
from tests.conformance.wire import Answer, Request, Wire, error_answer
from tests.servers import serve

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


def fake_pacer(retries: int = 5, max_wait: float = 60.0) -> tuple[Pacer, list[float]]:
    slept: list[float] = []
    return Pacer(retries, max_wait, sleep=slept.append, now=lambda: NOW), slept


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("3", 3.0), (" 0 ", 0.0), ("1.5", 1.5), ("Sun, 29 Nov 2026 12:00:30 GMT", 30.0),
     ("Sun, 29 Nov 2026 11:00:00 GMT", 0.0), ("-1", None), ("soon", None), ("", None), (None, None),
     ("nan", None), ("inf", None)],
)  # fmt: skip
def test_retry_after_is_seconds_or_an_http_date(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, NOW) == seconds


def test_a_429_with_retry_after_is_waited_out_and_sent_again() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "2"}),
                    httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200, json={})])  # fmt: skip
    target = offline_target(lambda request: next(answers))
    target.pacer, slept = fake_pacer()
    exchange = target.request("GET", "/v1/identity")
    assert exchange.status == 200 and slept == [2.0, 1.0] and target.count == 3
    assert (target.pacer.honoured, target.pacer.waited, target.pacer.given_back) == (2, 3.0, 0)


def test_past_its_retries_or_the_run_s_wait_or_without_retry_after_the_429_is_the_answer() -> None:
    target = offline_target(lambda request: httpx.Response(429, headers={"Retry-After": "1"}))
    target.pacer, slept = fake_pacer(retries=2)
    assert target.request("GET", "/v1/identity").status == 429 and slept == [1.0, 1.0]
    target.pacer, slept = fake_pacer(max_wait=2.5)
    assert target.request("GET", "/v1/identity").status == 429 and slept == [1.0, 1.0]
    assert target.request("GET", "/v1/identity").status == 429 and slept == [
        1.0,
        1.0,
    ]  # the run's wait is spent
    assert target.pacer.given_back == 2
    bare = offline_target(lambda request: httpx.Response(429))
    bare.pacer, slept = fake_pacer()
    assert bare.request("GET", "/v1/identity").status == 429 and slept == [] and bare.count == 1


def test_other_statuses_are_never_retried() -> None:
    pacer, slept = fake_pacer()
    for status in (200, 400, 503):
        assert pacer.delay(status, "1", 0) is None
    assert slept == [] and pacer.given_back == 0


class LimitedOnce:
    """A tiny ASGI app: the first request to each path is 429 with Retry-After: 0, then 200."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        first = path not in self.seen
        self.seen.append(path)
        status, headers = (429, [(b"retry-after", b"0")]) if first else (200, [])
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})


@pytest.fixture(scope="module")
def limited() -> Iterator[tuple[LimitedOnce, str]]:
    app = LimitedOnce()
    with serve(app) as url:
        yield app, url


def test_over_a_socket_the_suite_s_requests_wait_and_ask_again(limited: tuple[LimitedOnce, str]) -> None:
    app, url = limited
    target = Target(url, "k", budget=Budget(1))
    try:
        assert target.request("GET", "/suite").status == 200
    finally:
        target.close()
    assert app.seen.count("/suite") == 2 and target.pacer.honoured == 1


def test_over_a_socket_schemathesis_requests_go_through_the_run_s_pacer(
    limited: tuple[LimitedOnce, str],
) -> None:
    app, url = limited
    ctx = offline_context()
    data = {"method": "GET", "url": f"{url}/schemathesis", "timeout": 5}
    with requests.Session() as session, paced(ctx):
        assert st_requests._request(session, data, 10).status_code == 200
    assert app.seen.count("/schemathesis") == 2 and ctx.full.pacer.honoured == 1
    with requests.Session() as session:  # restored after the run
        assert st_requests._request(session, {**data, "url": f"{url}/after"}, 10).status_code == 429


def test_a_rate_limited_run_passes_by_waiting_and_fails_when_told_not_to(tmp_path: Path) -> None:
    """Every third request is 429 with Retry-After: 0: the run waits them out, unless --rate-limit-retries 0."""

    class EveryThirdLimited(Wire):
        def __init__(self, app: Any) -> None:
            super().__init__(app)
            self.count = 0

        def request(self, request: Request) -> Request | Answer:
            self.count += 1
            if self.count % 3:
                return request
            limited = error_answer(429, "rate_limit", "rate_limit_exceeded", "Slow down")
            return limited.with_header("retry-after", "0")

    args = ["--api-key", "mock-key-full", "--seed", "1", "--rules", "IDEMP-1,ERR-2"]
    with serve(EveryThirdLimited(create_app())) as url:
        paced_run = CliRunner().invoke(cli, ["--base-url", url, *args], catch_exceptions=False)
        impatient = CliRunner().invoke(cli, ["--base-url", url, *args, "--rate-limit-retries", "0"])
    assert paced_run.exit_code == 0, paced_run.output
    assert "Rate limited by the target:" in paced_run.output and "waited out" in paced_run.output
    assert impatient.exit_code in (1, 2) and "429" in impatient.output
