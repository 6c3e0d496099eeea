"""SCHEMA: Schemathesis' built-in checks over every operation, stateful runs through the links, and a guard.

The guard exists because a Schemathesis run whose authentication silently failed passes: every request
gets 401 and every check is content. Here that run fails.
"""

from __future__ import annotations

from incident_conformance import schemathesis_run
from incident_conformance.context import RunContext
from incident_conformance.rules import Level, rule

STATEFUL = "stateful"


def _report(ctx: RunContext, stateful: bool) -> None:
    result = schemathesis_run.run(ctx)
    ctx.notes.extend(result.notes)
    for phase, failures in result.failures.items():
        if (phase == STATEFUL) == stateful:
            ctx.failures.extend(failures[:25])


@rule(
    "SCHEMA-1",
    Level.MUST,
    "every_operation_passes_the_schemathesis_checks",
    "Schemathesis 4.32 (examples, coverage and fuzzing phases, every built-in check: no 5xx, documented "
    "status codes, content types, headers and response schemas, valid data accepted, invalid data "
    "rejected, auth not ignored, ...) finds nothing on any operation.",
    slow=True,
)
def built_in_checks(ctx: RunContext) -> None:
    _report(ctx, stateful=False)


@rule(
    "SCHEMA-2",
    Level.MUST,
    "linked_call_sequences_pass_the_schemathesis_checks",
    "Schemathesis' stateful phase, chaining calls through the contract's links (create -> show, "
    "create -> edit, list -> show), finds nothing.",
    slow=True,
)
def stateful(ctx: RunContext) -> None:
    _report(ctx, stateful=True)


@rule(
    "SCHEMA-3",
    Level.MUST,
    "schemathesis_run_was_authenticated",
    "Guard: the Schemathesis run reached every operation it was given, no operation answered only 401, and "
    "at least one request succeeded, so a run whose authentication silently failed cannot pass.",
    slow=True,
)
def authenticated(ctx: RunContext) -> None:
    result = schemathesis_run.run(ctx)
    for label in sorted(result.expected_labels):
        codes = result.statuses.get(label)
        if not ctx.check(bool(codes), label, "requests from Schemathesis", "none were sent"):
            continue
        assert codes is not None
        ctx.check(
            set(codes) != {401}, label, "at least one answer other than 401", f"only 401s ({codes[401]})"
        )
    successes = sum(n for codes in result.statuses.values() for status, n in codes.items() if status < 300)
    ctx.check(successes > 0, "the whole run", "some 2xx answers", "no 2xx answer at all")
