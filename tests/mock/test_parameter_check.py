"""Parameter checks: the compiled check never accepts what jsonschema refuses, on every parameter of the
contract and of the control plane; values are typed and refused as before; the checks of an operation
are built once, not per request."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incident_contract.document import load_control_spec, load_spec
from incident_contract.operations import operations
from incident_contract.refs import resolve
from incident_mock.domain.errors import ValidationFailed
from incident_mock.domain.param_check import ParamCheck
from incident_mock.http.connexion_internals import QueryValidator


def _parameters() -> list[dict[str, Any]]:
    found = [p for op in operations(load_spec()).values() for p in op.parameters]
    control = load_control_spec()
    for item in control["paths"].values():
        for key, op in item.items():
            listed = op if key == "parameters" else op.get("parameters", [])
            found += [resolve(control, p) for p in listed]
    return [p for p in found if p.get("style") != "deepObject"]


PARAMETERS = _parameters()
EDGES = ["", " ", "0", "1", "-1", "25", "250", "251", "599", "600", " 5", "1_0", "\u0663", "9" * 30,
         "all", "any", "ALL", "created_at_newest_first", "x" * 100, "x" * 101, "\ud800", "é"]  # fmt: skip


@pytest.mark.parametrize("param", PARAMETERS, ids=lambda p: f"{p['in']}:{p['name']}")
@settings(max_examples=60, deadline=None)
@given(raw=st.one_of(st.sampled_from(EDGES), st.text(max_size=30), st.integers().map(str)))
def test_the_compiled_check_never_accepts_what_jsonschema_refuses(param: dict[str, Any], raw: str) -> None:
    check = ParamCheck.of(param)
    value: Any = (
        int(raw) if check.integer and raw.lstrip("-").isascii() and raw.lstrip("-").isdigit() else raw
    )
    try:
        fast = check.fast.is_valid(value)
    except ValueError:  # a lone surrogate: the check hands it to jsonschema
        return
    if fast:
        assert check.slow.is_valid(value), (param["name"], value)


def test_a_value_is_typed_and_a_bad_one_is_refused_naming_the_parameter() -> None:
    page_size = next(p for p in PARAMETERS if p["name"] == "page_size")
    check = ParamCheck.of(page_size)
    assert check("25") == 25
    for bad in ("0", "251", " 5", "1_0", "\u0663", "x"):
        with pytest.raises(ValidationFailed) as caught:
            check(bad)
        assert caught.value.errors[0]["source"]["field"] == "page_size"


def test_a_lone_surrogate_is_checked_by_jsonschema_not_refused_by_the_compiled_check() -> None:
    check = ParamCheck.of({"name": "id", "in": "path", "required": True, "schema": {"type": "string"}})
    assert check("\ud800") == "\ud800"  # jsonschema accepts it; the compiled check could not read it


def test_an_operations_checks_are_built_once_for_all_its_requests() -> None:
    bound = QueryValidator.bound(load_spec())
    parameters = list(operations(load_spec())["Incidents V2#List"].parameters)
    first, second = bound(parameters, None), bound(parameters, None)
    assert first.plan is second.plan
    assert bound.plans is not QueryValidator.plans  # each app's validator keeps its own
    assert {c.name for c in first.plan.checks} == {"page_size", "after", "sort_by", "filter_mode"}
