"""Families: which of the contract's tags a run checks (incident_conformance.families)."""

from __future__ import annotations

import pytest

from incident_conformance.contract import Contract
from incident_conformance.families import QUICK_SAMPLE, UnknownFamily, chosen
from incident_contract.document import load_spec
from tests.widgets import widget_spec


@pytest.fixture(scope="module")
def contract() -> Contract:
    spec = widget_spec()
    for extra in ("Gadgets", "Gizmos", "Doohickeys", "Sprockets", "Cogs"):  # more families than a sample
        spec["tags"].append({"name": extra, "description": extra})
        op = spec["paths"]["/v1/widgets"]["get"]
        spec["paths"][f"/v1/{extra.lower()}"] = {
            "get": {**op, "operationId": f"{extra}#List", "tags": [extra]}
        }
    return Contract(spec)


def test_every_operation_has_one_family_and_the_always_checked_ones_are_the_contracts() -> None:
    real = Contract(load_spec())
    assert sum(len(ops) for ops in real.families.values()) == len(real.ops)
    assert "Incidents" in real.always_checked and real.always_checked <= set(real.families)


def test_quick_checks_the_always_checked_families_and_a_sample_drawn_from_the_seed(
    contract: Contract,
) -> None:
    others = set(contract.families) - contract.always_checked
    first, again, other_seed = (chosen(contract, "quick", seed) for seed in (1, 1, 2))
    assert first == again  # the seed repeats the sample
    assert contract.always_checked <= first
    assert len(first - contract.always_checked) == QUICK_SAMPLE < len(others)
    assert any(chosen(contract, "quick", s) != first for s in range(2, 40)), other_seed


def test_thorough_checks_every_family_and_named_families_are_exactly_those(contract: Contract) -> None:
    assert chosen(contract, "thorough", 1) == set(contract.families)
    assert chosen(contract, "quick", 1, ["Widgets", "Cogs"]) == {"Widgets", "Cogs"}
    with pytest.raises(UnknownFamily, match="Catalogue"):
        chosen(contract, "quick", 1, ["Catalogue"])
