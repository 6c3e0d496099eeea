"""Runs the selected rules one after another and turns what each one finds into an Outcome.

A rule's check yields Failures and Notes; the runner collects them for that rule alone, times it, and
turns the ways a check can stop early into a status: RuleSkipped and an exhausted --max-creates budget
skip it (with the reason), a target that stops answering or a bug in the check is an error. Failures
found before a check stopped are kept: a rule that found a failure has failed, whatever came after.

A rule that fails or errors after --api-key was refused for a scope (403 missing_scope) gets that as its
`cause`, with the scopes the key lacks for it: the report puts it first, above the failures it explains.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping

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
from incident_conformance.target import MISSING_SCOPE, BudgetExhausted

__all__ = ["run_rule", "run_rules"]


def _cause(ctx: RunContext, rule: Rule, refused: int, outcome: Outcome) -> str:
    """Why the rule probably failed, when --api-key lacks a scope it needs; empty when that is not it."""
    lacking: list[str] = []
    if ctx.key_scopes is not None:
        lacking = sorted(rule.scopes(ctx.contract, ctx.settings is not None) - ctx.key_scopes)
    named = sum(MISSING_SCOPE in f.received for f in outcome.failures)  # answers Schemathesis got, too
    parts = []
    if refused or (lacking and named):
        parts.append(f"{refused or named} answer(s) to --api-key were 403 {MISSING_SCOPE}")
    if lacking:
        parts.append(f"by the contract's roles, --api-key lacks {', '.join(lacking)}, which this rule needs")
    return "; ".join(parts)


def run_rule(ctx: RunContext, rule: Rule, skip: str | None = None) -> Outcome:
    """Run one rule; `skip`, when given, is the reason it is skipped without running."""
    outcome = Outcome(rule, Status.PASSED)
    if rule.needs_viewer and ctx.viewer is None:
        outcome.status, outcome.reason = Status.SKIPPED, VIEWER_KEY_MISSING
        return outcome
    if rule.needs_creator and ctx.creator is None:
        outcome.status, outcome.reason = Status.SKIPPED, CREATOR_KEY_MISSING
        return outcome
    if skip is not None:
        outcome.status, outcome.reason = Status.SKIPPED, skip
        return outcome
    started = time.monotonic()
    refused = ctx.full.refused_for_scope
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
    if outcome.status in (Status.FAILED, Status.ERROR):
        outcome.cause = _cause(ctx, rule, ctx.full.refused_for_scope - refused, outcome)
    outcome.seconds = time.monotonic() - started
    return outcome


def run_rules(
    ctx: RunContext,
    rules: list[Rule],
    on_start: Callable[[Rule], None] = lambda _: None,
    on_done: Callable[[Outcome], None] = lambda _: None,
    skip: Mapping[str, str] | None = None,
) -> list[Outcome]:
    """Run the rules in order; `skip` maps the ids of rules not to run to the reason they are skipped."""
    outcomes = []
    for rule in rules:
        on_start(rule)
        outcome = run_rule(ctx, rule, (skip or {}).get(rule.id))
        on_done(outcome)
        outcomes.append(outcome)
    return outcomes
