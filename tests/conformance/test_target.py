"""The target: every exchange recorded and reproducible (key redacted), the create budget, the guard."""

from __future__ import annotations

import json

import httpx
import pytest

from incident_conformance.target import REDACTED, Budget, BudgetExhausted, curl_command
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
