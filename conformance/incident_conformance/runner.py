"""Runs the selected rules one after another and turns what each one finds into an Outcome.

A rule's check yields Failures and Notes; the runner collects them for that rule alone, times it, and
turns the ways a check can stop early into a status: RuleSkipped and an exhausted --max-creates budget
skip it (with the reason), a target that stops answering or a bug in the check is an error. Failures
found before a check stopped are kept: a rule that found a failure has failed, whatever came after.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable

import httpx

from incident_conformance.context import RunContext
from incident_conformance.rules import (
    CREATOR_KEY_MISSING,
    VIEWER_KEY_MISSING,
    Failure,
    Outcome,
    Rule,
    RuleSkipped,
    Status,
)
from incident_conformance.target import BudgetExhausted

__all__ = ["run_rule", "run_rules"]


def run_rule(ctx: RunContext, rule: Rule) -> Outcome:
    outcome = Outcome(rule, Status.PASSED)
    if rule.needs_viewer and ctx.viewer is None:
        outcome.status, outcome.reason = Status.SKIPPED, VIEWER_KEY_MISSING
        return outcome
    if rule.needs_creator and ctx.creator is None:
        outcome.status, outcome.reason = Status.SKIPPED, CREATOR_KEY_MISSING
        return outcome
    started = time.monotonic()
    try:
        for finding in rule.check(ctx):
            if isinstance(finding, Failure):
                outcome.failures.append(finding)
            else:
                outcome.notes.append(finding.text)
    except (RuleSkipped, BudgetExhausted) as exc:
        outcome.status, outcome.reason = Status.SKIPPED, str(exc)
    except httpx.HTTPError as exc:
        outcome.status, outcome.reason = Status.ERROR, f"the target stopped answering: {exc!r}"
    except Exception as exc:  # a bug in a check, or an answer so odd the check could not read it
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}"
        outcome.status, outcome.reason = Status.ERROR, f"{type(exc).__name__}: {exc} (at {where})"
    if outcome.failures:
        outcome.status = Status.FAILED
    outcome.seconds = time.monotonic() - started
    return outcome


def run_rules(
    ctx: RunContext,
    rules: list[Rule],
    on_start: Callable[[Rule], None] = lambda _: None,
    on_done: Callable[[Outcome], None] = lambda _: None,
) -> list[Outcome]:
    outcomes = []
    for rule in rules:
        on_start(rule)
        outcome = run_rule(ctx, rule)
        on_done(outcome)
        outcomes.append(outcome)
    return outcomes
