"""Schemathesis 4 over the whole contract, in-process against a fresh mock with response validation on.

The always-checked families (the contract's tags marked `x-always-checked`: incidents and the settings they
are made of) get one thorough run; every other family a shorter run of its own, in a fresh mock, so the
runs spread over the test workers and one family's deletes do not empty another's tables.

One engine run, the same one the CLI makes: the examples, coverage, fuzzing and stateful phases (the
stateful phase follows the contract's links: create -> show/edit, list -> show, severity create ->
show/update/delete), every built-in check, authenticated with `mock-key-full` through the config's
headers. The test asserts zero failures and, run-wide, that every operation of the contract answered
a 2xx at least once: a run whose requests all bounced off auth or validation would otherwise pass.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import CHECKS
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from incident_contract.document import load_spec
from incident_contract.operations import operations
from incident_mock.app import create_app

SEED = 20260101
MAX_EXAMPLES = 20  # per operation and phase, for the always-checked families
FAMILY_EXAMPLES = 2  # per operation and phase, for each other family
SPEC = load_spec()
ALWAYS = sorted(str(t["name"]) for t in SPEC["tags"] if t.get("x-always-checked"))
# Alert Routes run on their examples only: generating their nested condition and expression bodies takes
# Schemathesis minutes on two cores even at two examples (tests/mock/test_alerts.py covers their behaviour).
SLOW = {"Alert Routes"}
FAMILIES = sorted({str(op.raw["tags"][0]) for op in operations(SPEC).values()} - set(ALWAYS) - SLOW)
MAX_STEPS = 40  # stateful steps per scenario
# These need a second key or a declared resource relationship to have anything to check, so they may
# legitimately never run; every other built-in check must have run at least once.
OPTIONAL_CHECKS = {"object_level_authorization", "ensure_resource_availability"}


@dataclass
class Run:
    cases: Counter[str] = field(default_factory=Counter)  # phase -> cases
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))  # label -> codes
    checks_run: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def config(
    examples: int = MAX_EXAMPLES, coverage: bool = True, ignored_auth: bool = True, generated: bool = True
) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": "Bearer mock-key-full"},
            "suppress-health-check": ["all"],
            "generation": {"max-examples": examples, "deterministic": True, "database": "none"},
            "phases": {
                "stateful": {"max-steps": MAX_STEPS, "enabled": generated},
                "coverage": {"enabled": coverage and generated},
                "fuzzing": {"enabled": generated},
            },
            "checks": {
                # A schema-valid request is not always an acceptable one: an id that does not exist is a
                # 404 in a path and a 422 in a body or a filter (openapi.yaml: references are checked;
                # unknown `after` cursors, duplicate severity names and deleting a severity in use are
                # 422 too). Schemathesis cannot know which ids exist, so 422 joins the expected statuses.
                "positive_data_acceptance": {"expected-statuses": ["2XX", "401", "403", "404", "422"]},
                "ignored_auth": {"enabled": ignored_auth},
                # Deprecated versions are served over the same objects as their successors: a role
                # deleted through /v1 is rightly 404 through /v2, which this check takes for a lost create.
                "ensure_resource_availability": {"enabled": False},
            },
            # Keep reproductions readable (the default masks every field named like `key`, the
            # idempotency key included) while still masking credentials.
            "output": {
                "sanitization": {
                    "keys-to-sanitize": ["authorization", "proxy-authorization", "cookie", "set-cookie"],
                    "sensitive-markers": ["authorization", "password", "secret", "token"],
                }
            },
        }
    )


# Authenticated by an alert source's token, which may travel as the `token` query parameter: Schemathesis'
# ignored_auth check strips headers only, so a request it thinks unauthenticated still carries the token.
TOKEN_FAMILIES = {"Alert Events", "Heartbeats"}


def run_schemathesis(families: list[str], examples: int = MAX_EXAMPLES, coverage: bool = True) -> Run:
    """One run over these families, in a fresh mock (destructive deletes are fine). The coverage phase, which
    walks every boundary of every schema (thousands of cases for a workflow's nested bodies), runs for the
    always-checked families only."""
    app = create_app(validate_responses=True)
    settings = config(examples, coverage, ignored_auth=not TOKEN_FAMILIES & set(families))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=settings)
    return execute(schema.include(tag=families))


def execute(schema: Any) -> Run:
    """Run every phase over a loaded schema, collecting each check's failures once."""
    run = Run()
    seen: set[tuple[str, str, str]] = set()
    started = time.monotonic()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            record(event, run, seen)
        elif isinstance(event, events.NonFatalError):
            run.failures.append(
                f"{event.label}: could not be tested: {type(event.value).__name__}: {event.value}"
            )
        elif isinstance(event, events.FatalError):
            raise event.exception
        elif isinstance(event, events.Interrupted):
            pytest.fail("the Schemathesis run was interrupted")
    run.seconds = time.monotonic() - started
    return run


def record(event: events.ScenarioFinished, run: Run, seen: set[tuple[str, str, str]]) -> None:
    recorder = event.recorder
    run.cases[str(event.phase.value)] += len(recorder.cases)
    for case_id, interaction in recorder.interactions.items():
        node = recorder.cases.get(case_id)
        if interaction.response is not None and node is not None:
            operation = node.value.operation
            run.statuses[f"{operation.method.upper()} {operation.path}"][
                interaction.response.status_code
            ] += 1
    for case_id, checks in recorder.checks.items():
        for check in checks:
            run.checks_run.add(check.name)
            if check.failure_info is None:
                continue
            failure = check.failure_info.failure
            node = recorder.cases.get(case_id)
            label = node.value.operation.label if node else recorder.label
            if (label, check.name, failure.title) in seen:
                continue
            seen.add((label, check.name, failure.title))
            run.failures.append(
                f"[{event.phase.value}] {label}: {check.name}: {failure.title}\n"
                f"{failure.message}\n{check.failure_info.code_sample}"
            )


@pytest.fixture(scope="module")
def schemathesis_run() -> Run:
    run = run_schemathesis(ALWAYS)
    total = sum(run.cases.values())
    print(f"\nSchemathesis: {total} cases in {run.seconds:.1f} s ({dict(run.cases)})")
    return run


def labels(families: list[str]) -> set[str]:
    """The contract's operations of these families, labelled as Schemathesis reports them."""
    return {f"{op.method} {op.path}" for op in operations(SPEC).values() if op.raw["tags"][0] in families}


@pytest.mark.parametrize("family", FAMILIES)
def test_each_other_family_has_no_failure_and_no_server_error(family: str) -> None:
    """Each family's operations are all called, and no check fails. (Every operation's documented success
    is shown through the official SDK in test_sdk_every_operation.py; a family of one operation has no
    links for the stateful phase to follow, which is not a failure.)"""
    run = run_schemathesis([family], FAMILY_EXAMPLES, coverage=False)
    failures = [f for f in run.failures if "NoLinksFound" not in f]
    assert not failures, "\n\n".join(failures)
    assert not {label: dict(c) for label, c in run.statuses.items() if any(s >= 500 for s in c)}
    assert labels([family]) - set(run.statuses) == set(), "never called"


@pytest.mark.parametrize("family", sorted(SLOW))
def test_each_slow_family_passes_every_check(family: str) -> None:
    """The families whose bodies are too slow to generate: their writes on the documented examples (and
    Schemathesis' variations of them), their reads and deletes generated as any family's. Every operation
    called, one at least with a 2xx, no check failing, no 5xx."""
    app = create_app(validate_responses=True)
    statuses: dict[str, Counter[int]] = defaultdict(Counter)
    for generated, methods in ((False, ["POST", "PUT"]), (True, ["GET", "DELETE"])):
        settings = config(FAMILY_EXAMPLES, coverage=False, generated=generated)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=settings)
        run = execute(schema.include(tag=[family], method=methods))
        assert not [f for f in run.failures if "NoLinksFound" not in f], "\n\n".join(run.failures)
        for label, codes in run.statuses.items():
            statuses[label].update(codes)
    assert labels([family]) - set(statuses) == set(), "never called"
    assert not {label: dict(c) for label, c in statuses.items() if any(s >= 500 for s in c)}
    assert all(any(200 <= s < 300 for s in statuses[label]) for label in labels([family]))


def test_schemathesis_finds_no_failures(schemathesis_run: Run) -> None:
    assert not schemathesis_run.failures, "\n\n".join(schemathesis_run.failures)


def test_every_phase_ran_cases(schemathesis_run: Run) -> None:
    for phase in ("examples", "coverage", "fuzzing", "stateful"):
        assert schemathesis_run.cases[phase] > 0, f"the {phase} phase ran no cases"


def test_every_builtin_check_ran(schemathesis_run: Run) -> None:
    expected = {check.__name__ for check in CHECKS.get_all()} - OPTIONAL_CHECKS
    assert expected - schemathesis_run.checks_run == set()


def test_every_operation_reached_a_2xx(schemathesis_run: Run) -> None:
    """Labels come from the contract, not from Schemathesis, so a label mismatch fails instead of passing."""
    expected = labels(ALWAYS)
    assert expected and len(expected) + len(labels(FAMILIES)) + len(labels(sorted(SLOW))) == len(
        operations(SPEC)
    )
    missing = expected - set(schemathesis_run.statuses)
    assert not missing, f"never called: {sorted(missing)}"
    no_success = {
        label: dict(codes)
        for label, codes in schemathesis_run.statuses.items()
        if label in expected and not any(200 <= code < 300 for code in codes)
    }
    assert not no_success, f"no 2xx for: {no_success}"


def test_no_answer_was_a_server_error(schemathesis_run: Run) -> None:
    errors = {
        label: dict(codes)
        for label, codes in schemathesis_run.statuses.items()
        if any(c >= 500 for c in codes)
    }
    assert not errors
