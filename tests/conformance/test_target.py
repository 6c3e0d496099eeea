"""The target: every exchange recorded and reproducible (key redacted), the create budget, the guard."""

from __future__ import annotations

import json

import httpx
import pytest

from incident_conformance.target import (
    REDACTED,
    Budget,
    BudgetExhausted,
    curl_command,
    looks_secret,
    redact_headers,
)
from tests.conformance.helpers import offline_target


def test_curl_redacts_the_key_but_shows_body_values_as_sent() -> None:
    line = curl_command("POST", "http://h/v2/incidents", {"Authorization": "Bearer secret-1", "X-A": "b"},
                        b'{"idempotency_key": "conformance-abc-1"}')  # fmt: skip
    assert "secret-1" not in line and f"Bearer {REDACTED}" in line and "conformance-abc-1" in line
    assert len(curl_command("POST", "http://h", {}, b"x" * 5000)) < 200  # big bodies are summarised


def test_each_request_records_what_was_sent_and_authorization_none_sends_none() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(422, json={"type": "validation_error", "errors": [
            {"code": "is_required", "source": {"field": "severity_id"}}]})  # fmt: skip

    target = offline_target(answer, key="secret-key-123")
    exchange = target.request("POST", "/v2/incidents", json_body={"a": 1})
    assert seen[0].headers["authorization"] == "Bearer secret-key-123"
    assert json.loads(exchange.request_body or b"") == {"a": 1} and exchange.status == 422
    assert exchange.describe() == "422 validation_error is_required(severity_id)"
    assert "secret-key-123" not in exchange.curl
    target.request("GET", "/v1/identity", authorization=None)
    assert "authorization" not in seen[1].headers and target.count == 2


def test_the_budget_refuses_a_create_that_would_exceed_it_and_counts_only_new_incidents() -> None:
    replayed = {"idempotent-replayed": "true"}
    answers = iter([httpx.Response(200, json={"incident": {"id": "I1"}}),
                    httpx.Response(200, json={"incident": {"id": "I1"}}, headers=replayed),
                    httpx.Response(422, json={})])  # fmt: skip
    budget = Budget(2)
    target = offline_target(lambda request: next(answers), budget=budget)
    for _ in range(2):
        target.create_incident({"idempotency_key": "k"}, "/v2/incidents")
    assert budget.created == ["I1"] and budget.remaining == 1
    with pytest.raises(BudgetExhausted):
        budget.reserve(2)
    target.create_incident({}, "/v2/incidents")
    assert budget.created == ["I1"]


def test_a_guard_refuses_before_anything_is_sent_and_other_keys_share_it() -> None:
    sent: list[str] = []
    target = offline_target(lambda request: sent.append(request.url.path) or httpx.Response(200))

    def guard(method: str, path: str) -> None:
        if method == "DELETE":
            raise PermissionError(path)

    target.guard = guard
    viewer = target.with_key("v")
    with pytest.raises(PermissionError):
        viewer.request("DELETE", "/v1/severities/X")
    assert sent == [] and viewer.budget is target.budget


def test_extra_headers_go_on_every_request_and_secret_looking_ones_are_redacted() -> None:
    seen: list[httpx.Request] = []
    target = offline_target(lambda request: seen.append(request) or httpx.Response(200))
    target.headers = {"X-Tenant": "acme", "X-Api-Token": "sekrit-1", "Cookie": "session=s2"}
    exchange = target.with_key("other-key").request("GET", "/v1/identity")
    assert seen[0].headers["x-tenant"] == "acme" and seen[0].headers["x-api-token"] == "sekrit-1"
    line = exchange.curl
    assert "X-Tenant: acme" in line and f"X-Api-Token: {REDACTED}" in line and f"Cookie: {REDACTED}" in line
    assert "sekrit-1" not in line and "s2" not in line and "other-key" not in line


def test_a_credential_the_suite_made_up_is_shown_and_the_key_never() -> None:
    target = offline_target(lambda request: httpx.Response(401), key="secret-key-9")
    assert (
        "Bearer conformance-bad-token"
        in target.request("GET", "/", authorization="Bearer conformance-bad-token").curl
    )
    own = target.request("GET", "/", authorization="Bearer secret-key-9").curl
    assert "secret-key-9" not in own and f"Bearer {REDACTED}" in own
    assert looks_secret("X-API-Key") and looks_secret("Proxy-Authorization") and not looks_secret("X-Tenant")
    assert redact_headers({"Authorization": "Bearer k", "X-Token": "a b"}) == {
        "Authorization": f"Bearer {REDACTED}", "X-Token": REDACTED}  # fmt: skip
