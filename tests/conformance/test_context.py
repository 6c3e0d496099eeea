"""What a rule sees: valid create bodies built from the contract, references from the target, error judging."""

from __future__ import annotations

import httpx
import pytest

from incident_conformance.findings import RuleSkipped
from incident_conformance.marks import NAME_PREFIX, TEST_MODE
from incident_conformance.target import Exchange
from tests.conformance.helpers import offline_context

SEVERITIES = {
    "severities": [{"id": "OURS", "name": f"{NAME_PREFIX} spare"}, {"id": "THEIRS", "name": "Minor"}]
}


def test_a_create_payload_has_every_required_field_test_mode_and_the_prefix() -> None:
    ctx = offline_context(lambda request: httpx.Response(200, json=SEVERITIES))
    payload = ctx.create_payload("label", summary="s")
    required = ctx.contract.required_fields("Incidents V2#Create")
    assert set(required) <= set(payload) and payload["summary"] == "s"
    assert payload["severity_id"] == "THEIRS"  # never one the suite created (its name has the prefix)
    assert payload["mode"] == TEST_MODE and payload["name"] == f"{NAME_PREFIX} label"
    assert payload["idempotency_key"] != ctx.create_payload("label")["idempotency_key"]


def test_no_usable_reference_skips_the_rule_with_the_reason() -> None:
    ctx = offline_context(lambda request: httpx.Response(200, json={"severities": []}))
    with pytest.raises(RuleSkipped, match="severities"):
        ctx.create_payload("label")


def exchange(status: int, body: bytes) -> Exchange:
    return Exchange("GET", "http://t/x", {}, None, status, httpx.Headers(), body)


def test_expect_error_wants_the_status_the_contracts_type_and_the_code_and_field() -> None:
    ctx = offline_context()
    good = b'{"type": "validation_error", "errors": [{"code": "is_required", "source": {"field": "name"}}]}'
    assert ctx.expect_error(exchange(422, good), "t", 422, "is_required", "name") is None
    wrong_field = ctx.expect_error(exchange(422, good), "t", 422, "is_required", "visibility")
    assert (
        wrong_field is not None
        and wrong_field.expected == "422 validation_error with code is_required naming visibility"
    )
    assert ctx.expect_error(exchange(400, good), "t", 422) is not None
    assert ctx.expect_error(exchange(404, b"not json"), "t", 404) is not None


def test_the_viewer_target_is_only_for_rules_that_declare_they_need_it() -> None:
    with pytest.raises(RuntimeError):
        offline_context().viewer_target()
    assert offline_context(viewer=True).viewer_target().key == "v"
