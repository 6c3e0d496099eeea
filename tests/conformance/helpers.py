"""A RunContext for module tests: the packaged contract, and targets over httpx.MockTransport (no server)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from incident_conformance.context import Options, RunContext
from incident_conformance.contract import Contract
from incident_conformance.target import Budget, Target
from incident_contract.document import load_spec

Handler = Callable[[httpx.Request], httpx.Response]


def offline_target(handler: Handler, key: str = "k", budget: Budget | None = None) -> Target:
    target = Target("http://target.invalid", key, budget=budget or Budget(500))
    target.close()
    target.client = httpx.Client(transport=httpx.MockTransport(handler), base_url="http://target.invalid")
    return target


def offline_context(
    handler: Handler = lambda _: httpx.Response(200, json={}), *, viewer: bool = False
) -> RunContext:
    full = offline_target(handler)
    return RunContext(Contract(load_spec()), full, full.with_key("v") if viewer else None, Options(seed=1))


def core_families() -> list[str]:
    """`--family` for each family every run checks (`x-always-checked`): a run over what the suite's own
    rules were written for, whatever families the contract grows."""
    from incident_conformance.contract import Contract
    from incident_contract.document import load_spec

    args: list[str] = []
    for name in sorted(Contract(load_spec()).always_checked):
        args += ["--family", name]
    return args
