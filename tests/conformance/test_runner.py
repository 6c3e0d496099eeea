"""The runner: each rule's findings are its own, and every way a check can stop becomes a status."""

from __future__ import annotations

from collections.abc import Iterator

import httpx

from incident_conformance.context import RunContext
from incident_conformance.rules import (
    CREATOR_KEY_MISSING,
    VIEWER_KEY_MISSING,
    Failure,
    Finding,
    Level,
    Note,
    Rule,
    RuleSkipped,
    Status,
)
from incident_conformance.runner import run_rule, run_rules
from incident_conformance.target import BudgetExhausted
from tests.conformance.helpers import offline_context

BROKEN = Failure("title", "expected", "received")


def make(check: object, *, needs_viewer: bool = False) -> Rule:
    return Rule("ERR-9", Level.MUST, "a_rule", "ERR", "summary", check, needs_viewer)  # type: ignore[arg-type]


def test_a_rule_that_finds_nothing_passes_and_keeps_its_notes() -> None:
    def check(ctx: RunContext) -> Iterator[Finding]:
        yield Note("left something out")

    outcome = run_rule(offline_context(), make(check))
    assert (outcome.status, outcome.failures, outcome.notes) == (Status.PASSED, [], ["left something out"])


def test_failures_make_the_rule_fail_and_stay_with_that_rule() -> None:
    def failing(ctx: RunContext) -> Iterator[Finding]:
        yield BROKEN
        yield Note("n")

    def passing(ctx: RunContext) -> Iterator[Finding]:
        return iter(())

    ctx = offline_context()
    first, second = run_rules(ctx, [make(failing), make(passing)])
    assert first.status is Status.FAILED and first.failures == [BROKEN] and first.notes == ["n"]
    assert second.status is Status.PASSED and second.failures == [] and second.notes == []


def test_a_list_is_a_check_result_too() -> None:
    outcome = run_rule(offline_context(), make(lambda ctx: [BROKEN, BROKEN]))
    assert outcome.status is Status.FAILED and len(outcome.failures) == 2


def test_skips_keep_their_reason_but_not_over_a_failure_already_found() -> None:
    def skipped(ctx: RunContext) -> Iterator[Finding]:
        raise RuleSkipped("cannot here")
        yield BROKEN

    def failed_then_skipped(ctx: RunContext) -> Iterator[Finding]:
        yield BROKEN
        raise BudgetExhausted("--max-creates 3 reached")

    ctx = offline_context()
    outcome = run_rule(ctx, make(skipped))
    assert (outcome.status, outcome.reason) == (Status.SKIPPED, "cannot here")
    outcome = run_rule(ctx, make(failed_then_skipped))
    assert outcome.status is Status.FAILED and "--max-creates" in outcome.reason


def test_a_target_that_stops_answering_or_a_broken_check_is_an_error() -> None:
    def unreachable(ctx: RunContext) -> Iterator[Finding]:
        raise httpx.ConnectError("refused")
        yield BROKEN

    def buggy(ctx: RunContext) -> Iterator[Finding]:
        yield from [][1:]
        raise KeyError("incident")

    ctx = offline_context()
    outcome = run_rule(ctx, make(unreachable))
    assert outcome.status is Status.ERROR and "stopped answering" in outcome.reason
    outcome = run_rule(ctx, make(buggy))
    assert (
        outcome.status is Status.ERROR and "KeyError" in outcome.reason and "test_runner.py" in outcome.reason
    )


def test_a_viewer_rule_without_a_viewer_key_is_skipped_before_it_runs() -> None:
    called = []

    def check(ctx: RunContext) -> Iterator[Finding]:
        called.append(ctx)
        yield BROKEN

    outcome = run_rule(offline_context(), make(check, needs_viewer=True))
    assert (outcome.status, outcome.reason, called) == (Status.SKIPPED, VIEWER_KEY_MISSING, [])
    assert run_rule(offline_context(viewer=True), make(check, needs_viewer=True)).status is Status.FAILED


def test_a_creator_rule_without_a_creator_key_is_not_checked_and_says_so() -> None:
    called = []

    def check(ctx: RunContext) -> Iterator[Finding]:
        called.append(ctx)
        yield BROKEN

    rule = Rule("IDEMP-9", Level.MUST, "a_rule", "IDEMP", "summary", check, needs_creator=True)  # type: ignore[arg-type]
    outcome = run_rule(offline_context(), rule)
    assert (outcome.status, outcome.reason, called) == (Status.SKIPPED, CREATOR_KEY_MISSING, [])
    assert outcome.reason.startswith("not checked: needs --creator-key")
    ctx = offline_context()
    ctx.creator = ctx.full.with_key("c")
    assert run_rule(ctx, rule).status is Status.FAILED and called


def test_callbacks_see_each_rule_start_and_finish_in_order() -> None:
    events: list[str] = []
    rules = [make(lambda ctx: []), make(lambda ctx: [BROKEN])]
    run_rules(offline_context(), rules, lambda r: events.append("start"), lambda o: events.append(o.status))
    assert events == ["start", Status.PASSED, "start", Status.FAILED]
