"""What the suite does to Schemathesis' cases before they are sent (the severity hooks: test_settings)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from schemathesis import GenerationMode

from incident_conformance.marks import NAME_PREFIX, TEST_MODE
from incident_conformance.schemathesis_hooks import _linkable_create, _mark_generated, sends_its_negation
from tests.conformance.helpers import offline_context


def case(query: Any = None, body: Any = None, mode: GenerationMode = GenerationMode.NEGATIVE) -> Any:
    meta = SimpleNamespace(generation=SimpleNamespace(mode=mode))
    return SimpleNamespace(query=query, body=body, meta=meta)


@pytest.mark.parametrize("empty", [{}, [], None])
def test_a_negative_case_whose_negation_would_vanish_on_the_wire_is_left_out(empty: Any) -> None:
    # What once failed negative_data_rejection on the clean mock: the valid keys were all that was sent.
    query = {"created_at[gte]": "3386-03-11", "created_at[lte]": "0233-04-19", "incident_type[not_in]": empty}
    assert not sends_its_negation(case(query))
    assert sends_its_negation(case(query, mode=GenerationMode.POSITIVE))  # an empty filter is just no filter


def test_other_negative_cases_are_sent() -> None:
    assert sends_its_negation(case({"created_at[gte]": "not a date"}))
    assert sends_its_negation(case(None)) and sends_its_negation(SimpleNamespace(query={"a": {}}, meta=None))


def test_generated_creates_are_test_mode_and_prefixed_and_invalid_modes_stay_invalid() -> None:
    ctx = offline_context()
    body: dict[str, Any] = {"name": "x", "mode": "standard"}
    _mark_generated(ctx, "Incidents V2#Create", body)
    assert body == {"name": f"{NAME_PREFIX} x", "mode": TEST_MODE}
    invalid: dict[str, Any] = {"mode": "STANDARD"}
    _mark_generated(ctx, "Incidents V2#Create", invalid)
    assert invalid["mode"] == "STANDARD" and invalid["name"] == f"{NAME_PREFIX} generated"
    edit: dict[str, Any] = {"incident": {"name": "y"}}
    _mark_generated(ctx, "Incidents V2#Edit", edit)
    assert edit["incident"]["name"] == f"{NAME_PREFIX} y"


def test_a_linkable_create_keeps_what_the_target_can_accept() -> None:
    import httpx

    severities = {"severities": [{"id": "SEV-1", "name": "Minor"}]}
    ctx = offline_context(lambda request: httpx.Response(200, json=severities))
    generated = {"idempotency_key": "k", "visibility": "public", "severity_id": "random", "summary": "s",
                 "incident_type_id": "random", "custom_field_entries": [{"custom_field_id": "random"}]}  # fmt: skip
    positive = case(body=dict(generated), mode=GenerationMode.POSITIVE)
    _linkable_create(ctx, positive)
    assert positive.body == {
        "idempotency_key": "k",
        "visibility": "public",
        "severity_id": "SEV-1",
        "summary": "s",
    }
    negative = case(body=dict(generated))
    _linkable_create(ctx, negative)
    assert negative.body == generated


def test_cases_whose_url_exceeds_the_contract_s_x_max_url_bytes_are_left_out() -> None:
    import copy

    import schemathesis

    from incident_conformance.contract import Contract
    from incident_conformance.schemathesis_hooks import fits_the_url_limit
    from incident_conformance.schemathesis_repro import request_url

    ctx = offline_context()
    schema = schemathesis.openapi.from_dict(copy.deepcopy(ctx.contract.spec))
    listing = schema["/v2/incidents"]["GET"]
    short, long = (listing.Case(query={"status[one_of]": ["x" * n]}) for n in (10, 5000))
    if ctx.contract.max_url_bytes is None:  # the contract sets none: every case is sent
        assert fits_the_url_limit(ctx, long)
    limit = len(request_url(ctx, short).encode()) + 100
    ctx.contract = Contract({**ctx.contract.spec, "x-max-url-bytes": limit})
    assert ctx.contract.max_url_bytes == limit
    assert fits_the_url_limit(ctx, short) and not fits_the_url_limit(ctx, long)
    assert len(request_url(ctx, long).encode()) > limit > len(request_url(ctx, short).encode())
