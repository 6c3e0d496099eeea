"""Schemathesis 4.32 runs over the contract: one per group of phases, each for the rule that needs it.

SCHEMA-1 runs the examples, coverage and fuzzing phases (every built-in check over every operation);
SCHEMA-2 runs only the stateful phase (call sequences through the contract's links); SCHEMA-3 reads
the statuses of SCHEMA-1's run. Each run is cached per RunContext and phases, so a rule that shares
another's run does not run it twice, and each rule pays (and reports the time) for the run it starts.

Runs are bounded by examples: `max-examples` per operation (and stateful scenarios) from the profile or
--schema-max-examples, with the run's seed. Schemathesis' `max-time` is not a cap: with it, fuzzing and
stateful phases cycle until the time is spent. It is only set when the user asks (--schema-max-time).
"""

from __future__ import annotations

import copy
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from incident_conformance import schemathesis_hooks
from incident_conformance.context import CREATE, EDIT, RunContext
from incident_conformance.contract import Contract
from incident_conformance.rules import Failure
from incident_conformance.schemathesis_repro import credential_sent, reproduce, sanitization
from incident_conformance.settings import SEVERITY_CREATE, SEVERITY_DELETE, SEVERITY_UPDATE
from incident_conformance.target import names_missing_scope

__all__ = ["PHASES", "PROFILES", "SCENARIOS_PER_EXAMPLE", "STATEFUL", "STATELESS", "SchemaRun", "run"]

STATELESS = ("examples", "coverage", "fuzzing")
STATEFUL = ("stateful",)
PHASES = (*STATELESS, *STATEFUL)
# A stateful scenario costs about what one example costs over every operation's unit phases, and one
# scenario follows few links: run several per example, so SCHEMA-2 meets its floor on a quick profile.
SCENARIOS_PER_EXAMPLE = 5
# The writes the suite keeps to what the run made, off the mock: test-mode incidents and its own severities.
GUARDED_WRITES = frozenset({CREATE, EDIT, SEVERITY_CREATE, SEVERITY_UPDATE, SEVERITY_DELETE})
PROFILES = {  # examples per operation (and stateful scenarios), steps per stateful scenario
    "quick": {"examples": 6, "steps": 6},
    "thorough": {"examples": 60, "steps": 40},
}


@dataclass
class SchemaRun:
    """What one Schemathesis run found and did."""

    phases: tuple[str, ...]
    failures: list[Failure] = field(default_factory=list)
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))  # label -> codes
    expected_labels: set[str] = field(default_factory=set)  # the operations it was given
    refused_for_scope: int = 0  # answers 403 missing_scope: the key lacks an operation's scope
    scenarios: int = 0  # scenarios finished (a stateful scenario is one chain of calls)
    links: Counter[str] = field(
        default_factory=Counter
    )  # contract link -> 2xx answers to calls made through it
    inferred_links: Counter[str] = field(default_factory=Counter)  # the same for links Schemathesis inferred
    created: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def max_examples(ctx: RunContext) -> int:
    return ctx.options.schema_max_examples or PROFILES[ctx.options.profile]["examples"]


def _config(ctx: RunContext, phases: tuple[str, ...], excluded: list[str]) -> SchemathesisConfig:
    profile = PROFILES[ctx.options.profile]
    lenient = [op.id for op in ctx.contract.ops.values() if op.parameters or op.body_schema is not None]
    timing = {"max-time": ctx.options.schema_max_time} if ctx.options.schema_max_time else {}
    phase_config: dict[str, Any] = {name: {"enabled": name in phases} for name in PHASES}
    # Chains are for valid data: a negative step ends its chain, and the unit phases already send negatives.
    stateful = {"max-examples": max_examples(ctx) * SCENARIOS_PER_EXAMPLE, "mode": "positive"}
    phase_config["stateful"].update({"max-steps": profile["steps"], "generation": stateful})
    return SchemathesisConfig.from_dict({
        "seed": ctx.options.seed,
        **timing,
        "suppress-health-check": ["all"],
        "headers": {**ctx.full.headers, "Authorization": f"Bearer {ctx.full.key}"},
        "tls-verify": ctx.options.ca_bundle or True,
        "request-timeout": 30,
        "generation": {"max-examples": max_examples(ctx), "database": "none"},
        "phases": phase_config,
        "output": {"sanitization": sanitization(ctx)},
        "operations": [
            *({"include-operation-id": op, "enabled": False} for op in excluded),
            # A schema-valid request can still name an id that does not exist: 404 for path ids and 422
            # for unknown references in bodies and filters are contract answers, not rejections of valid
            # data, so positive_data_acceptance accepts them on operations that take parameters or bodies.
            *({"include-operation-id": op,
               "checks": {"positive_data_acceptance": {"expected-statuses": ["2XX", "404", "422"]}}}
              for op in lenient if op not in excluded),
        ],
    })  # fmt: skip


SEVERITY_WRITES = (SEVERITY_CREATE, SEVERITY_UPDATE, SEVERITY_DELETE)


def operations(contract: Contract, settings_writes: bool) -> list[str]:
    """The operations Schemathesis is given, of the families the run checks: every one but the settings
    writes, unless those are allowed; even then only the severities' writes, which the run's hooks aim at
    severities of its own (the other settings writes could change what the organisation had: the RES rules
    check them on objects they made).
    Never those an alert source's token authenticates (not the suite's API key).

    (CREATE too, which a run left with few creates of --max-creates leaves out.)
    """
    guarded = set(SEVERITY_WRITES) if settings_writes else set()
    left_out = set(contract.settings_writes()) - guarded
    left_out |= set(contract.by_source_token())
    return [op for op in contract.ops if op not in left_out and contract.checked(op)]


def _unguarded_write(contract: Contract, op: str) -> bool:
    """A write the settings ledger does not keep to the run's own objects: every write but the incident
    creates and edits (test mode, counted) and the severity writes (the ledger's)."""
    return contract.method(op) != "GET" and op not in GUARDED_WRITES


def run(ctx: RunContext, phases: tuple[str, ...]) -> SchemaRun:
    """Run Schemathesis' `phases` once per RunContext; later callers get the cached result."""
    key = f"schemathesis:{','.join(phases)}"
    cached = ctx.cache.get(key)
    if isinstance(cached, SchemaRun):
        return cached
    result = SchemaRun(phases)
    ctx.cache[key] = result
    started = time.monotonic()
    given = operations(ctx.contract, ctx.settings is not None)  # what SCHEMA-* declare they call
    excluded = [op for op in ctx.contract.ops if op not in given]
    by_token = [op for op in excluded if op in ctx.contract.by_source_token() and ctx.checks(op)]
    writes = [op for op in excluded if op not in ctx.contract.by_source_token() and ctx.checks(op)]
    if writes:
        why = "the RES rules check them" if ctx.settings is not None else "no --allow-settings-writes"
        result.notes.append(f"settings writes left out ({why}): {', '.join(writes)}")
    if by_token:
        result.notes.append(f"left out, authenticated by an alert source's token: {', '.join(by_token)}")
    unchosen = [op for op in ctx.contract.ops if not ctx.checks(op)]
    if unchosen:
        result.notes.append(f"{len(unchosen)} operations of families this run does not check left out")
    guarded = [op for op in given if ctx.checks(op) and not ctx.may_write(op)]
    if guarded:
        result.notes.append(f"writes that run only against the mock left out: {', '.join(guarded)}")
    unowned = [
        op
        for op in given
        if ctx.checks(op) and ctx.may_write(op) and not ctx.on_mock and _unguarded_write(ctx.contract, op)
    ]
    if unowned:
        result.notes.append(
            "writes left out, since off the mock nothing keeps them to objects the run made: "
            + ", ".join(unowned)
        )
    excluded += [*guarded, *unowned]
    reserve = max_examples(ctx) * 3  # generated creates mostly name unknown ids
    if ctx.full.budget.remaining < reserve:
        excluded.append(CREATE)
        result.notes.append(f"{CREATE} left out: fewer than {reserve} creates left of --max-creates")
    result.expected_labels = {
        f"{op.method} {op.path}" for op in ctx.contract.ops.values() if op.id not in excluded
    }

    # Schemathesis rewrites parts of the document in place (links among them): give it its own copy.
    schema = schemathesis.openapi.from_dict(
        copy.deepcopy(ctx.contract.spec), config=_config(ctx, phases, excluded)
    )
    schema.config.update(base_url=ctx.full.base_url)

    def created() -> None:
        result.created += 1

    with schemathesis_hooks.installed(ctx, schema, created, linkable_creates="stateful" in phases):
        _execute(ctx, schema, result)
    ctx.full.refused_for_scope += result.refused_for_scope  # the rule that ran it failed for want of a scope
    result.seconds = time.monotonic() - started
    return result


def _execute(ctx: RunContext, schema: Any, result: SchemaRun) -> None:
    seen: set[tuple[str, str, str]] = set()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            result.scenarios += 1
            _collect(ctx, event, result, seen)
        elif isinstance(event, events.NonFatalError):
            result.failures.append(Failure(
                f"Schemathesis could not test {event.label}", "the operation to be tested",
                f"{type(event.value).__name__}: {str(event.value)[:300]}"))  # fmt: skip
        elif isinstance(event, events.FatalError):
            raise RuntimeError(f"Schemathesis stopped: {event.exception}")


def _collect(
    ctx: RunContext, event: events.ScenarioFinished, result: SchemaRun, seen: set[tuple[str, str, str]]
) -> None:
    recorder = event.recorder
    for case_id, interaction in recorder.interactions.items():
        node = recorder.cases.get(case_id)
        if interaction.response is None or node is None:
            continue
        operation = node.value.operation
        result.statuses[f"{operation.method.upper()} {operation.path}"][interaction.response.status_code] += 1
        if interaction.response.status_code == 403 and names_missing_scope(interaction.response.content):
            result.refused_for_scope += 1
        if (
            node.transition is not None
            and node.is_transition_applied
            and interaction.response.status_code < 300
        ):
            links = result.inferred_links if node.transition.is_inferred else result.links
            links[node.transition.id] += 1
    for case_id, checks in recorder.checks.items():
        for check in checks:
            info = check.failure_info
            if info is None:
                continue
            failure = info.failure
            node = recorder.cases.get(case_id)
            label = (
                f"{node.value.operation.method.upper()} {node.value.operation.path}"
                if node
                else recorder.label
            )
            key = (label, check.name, failure.title)
            if key in seen:
                continue
            seen.add(key)
            # The request the failure is about: a probe of its own (ignored_auth's), or the checked case.
            sent = recorder.cases.get(failure.case_id) if failure.case_id else None
            shown = sent or node
            result.failures.append(Failure(
                f"{label}: {failure.title} ({check.name})",
                f"the {check.name.replace('_', ' ')} check to pass",
                "\n".join(filter(None, [str(failure.message or failure.title)[:600],
                                         credential_sent(ctx, shown.value if shown else None, failure)])),
                (reproduce(ctx, shown.value, failure) if shown else None) or info.code_sample))  # fmt: skip
