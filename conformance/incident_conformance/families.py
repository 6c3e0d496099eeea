"""Which families of operations a run checks: a family is one of the contract's tags.

The contract marks the tags every run covers (`x-always-checked`: the incidents and the settings they
are made of) and the tags whose writes could lock out, page or alert a real organisation
(`x-writes-on-mock-only`: API keys, IP allowlists, status pages, workflows...). A quick run checks the
always-checked families and a sample of the others, drawn from the run's seed (so `--seed` repeats it); a
thorough run checks them all; `--family` (repeatable) names the families to check instead.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from incident_conformance.contract import Contract

__all__ = ["QUICK_SAMPLE", "UnknownFamily", "chosen"]

QUICK_SAMPLE = 4  # families a quick run samples besides the always-checked ones


class UnknownFamily(ValueError):
    """--family named a tag the contract lacks."""


def chosen(contract: Contract, profile: str, seed: int, named: Iterable[str] = ()) -> frozenset[str]:
    """The families a run checks (see the module's docstring)."""
    known = set(contract.families)
    named = tuple(named)
    if named:
        unknown = sorted({n for n in named if n not in known})
        if unknown:
            raise UnknownFamily(f"--family {', '.join(unknown)}: the contract's families are {sorted(known)}")
        return frozenset(named)
    if profile == "thorough":
        return frozenset(known)
    others = sorted(known - contract.always_checked)
    sample = random.Random(seed).sample(others, min(QUICK_SAMPLE, len(others)))
    return frozenset(contract.always_checked & known) | frozenset(sample)
