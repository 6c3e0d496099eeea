"""SCHEMA-2's floor and SCHEMA-3's guard, judged on Schemathesis runs made up here (no Schemathesis run)."""

from __future__ import annotations

from collections import Counter

import pytest

from incident_conformance import schemathesis_run
from incident_conformance.checks import schema
from incident_conformance.rules import REGISTRY, Failure, select
from incident_conformance.runner import run_rules
from incident_conformance.schemathesis_run import STATEFUL, STATELESS, SchemaRun
from tests.conformance.helpers import offline_context

LINK = "POST /v2/incidents -> [200] ShowIncident -> GET /v2/incidents/{id}"
INFERRED = "GET /v1/severities -> [200] GetSeverityV1 -> GET /v1/severities/{id}"


def failures_of(rule_id: str, run: SchemaRun) -> list[Failure]:
    ctx = offline_context()
    ctx.cache[f"schemathesis:{','.join(run.phases)}"] = run  # the rule reads the cached run
    return [f for f in REGISTRY[rule_id].check(ctx) if isinstance(f, Failure)]


def stateful(scenarios: int, links: Counter[str], inferred: Counter[str]) -> SchemaRun:
    return SchemaRun(STATEFUL, scenarios=scenarios, links=links, inferred_links=inferred)


def test_schema_2_states_its_floor() -> None:
    summary = REGISTRY["SCHEMA-2"].summary
    assert f"at least {schema.MIN_SCENARIOS} scenarios" in summary
    assert f"at least {schema.MIN_LINKS} different links" in summary


def test_a_stateful_phase_that_met_the_floor_passes() -> None:
    run = stateful(schema.MIN_SCENARIOS, Counter({LINK: 2}), Counter({INFERRED: 1}))
    assert failures_of("SCHEMA-2", run) == []


@pytest.mark.parametrize(
    ("scenarios", "links", "inferred", "wanted"),
    [
        (schema.MIN_SCENARIOS - 1, Counter({LINK: 3}), Counter({INFERRED: 3}), "scenarios"),
        (schema.MIN_SCENARIOS, Counter({LINK: 9}), Counter(), "links followed"),
        (schema.MIN_SCENARIOS * 3, Counter(), Counter(), "links followed"),
    ],
)
def test_a_stateful_phase_below_the_floor_fails_even_when_it_found_nothing(
    scenarios: int, links: Counter[str], inferred: Counter[str], wanted: str
) -> None:
    (failure,) = failures_of("SCHEMA-2", stateful(scenarios, links, inferred))
    assert failure.title == "the stateful phase" and wanted in failure.expected


def test_schema_2_reports_what_schemathesis_found() -> None:
    run = stateful(10, Counter({LINK: 1}), Counter({INFERRED: 1}))
    run.failures.append(Failure("GET /v1/severities/{id}: Created resource not found", "x", "y"))
    assert [f.title for f in failures_of("SCHEMA-2", run)] == [
        "GET /v1/severities/{id}: Created resource not found"
    ]


def test_schema_3_fails_a_run_that_only_ever_got_401_or_never_reached_an_operation() -> None:
    run = SchemaRun(STATELESS, expected_labels={"GET /a", "GET /b", "GET /c"})
    run.statuses["GET /a"].update({200: 3, 401: 1})
    run.statuses["GET /b"].update({401: 5})
    titles = {f.title: f.received for f in failures_of("SCHEMA-3", run)}
    assert titles == {"GET /b": "only 401s (5)", "GET /c": "none were sent"}
    all_401 = SchemaRun(STATELESS, expected_labels={"GET /b"})
    all_401.statuses["GET /b"].update({401: 5})
    assert {f.title for f in failures_of("SCHEMA-3", all_401)} == {"GET /b", "the whole run"}


def test_each_schema_rule_starts_only_the_phases_it_needs_and_schema_3_shares_schema_1s_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[tuple[str, ...]] = []

    def execute(ctx: object, schema: object, result: SchemaRun) -> None:
        started.append(result.phases)
        result.scenarios, result.inferred_links = 9, Counter({LINK: 1, INFERRED: 1})

    monkeypatch.setattr(schemathesis_run, "_execute", execute)
    run_rules(offline_context(), select(["SCHEMA-2"]))
    assert started == [STATEFUL]
    started.clear()
    run_rules(offline_context(), select(["SCHEMA-3"]))
    assert started == [STATELESS]
    started.clear()
    run_rules(offline_context(), select(["SCHEMA-*"]))
    assert started == [STATELESS, STATEFUL]


def test_the_config_enables_exactly_the_phases_asked_for_and_bounds_them_by_examples_not_time() -> None:
    ctx = offline_context()
    for phases in (STATELESS, STATEFUL):
        project = schemathesis_run._config(ctx, phases, []).projects.default
        enabled = {name for name in schemathesis_run.PHASES if getattr(project.phases, name).enabled}
        assert enabled == set(phases) and project.max_time is None
    stateful = schemathesis_run._config(ctx, STATEFUL, []).projects.default.phases.stateful.generation
    quick = schemathesis_run.PROFILES["quick"]["examples"]
    assert stateful.max_examples == quick * schemathesis_run.SCENARIOS_PER_EXAMPLE
    assert [mode.value for mode in stateful.modes] == ["positive"]
