"""SCHEMA: Schemathesis' built-in checks over every operation, stateful runs through the links, and a guard.

SCHEMA-1 runs the examples, coverage and fuzzing phases and SCHEMA-2 only the stateful phase, so each
rule runs (and is timed for) what it needs. The guard, SCHEMA-3, reads SCHEMA-1's run: a Schemathesis
run whose authentication silently failed passes (every request gets 401 and every check is content),
and here that run fails. SCHEMA-2 has its own floor: a stateful phase that ran too few scenarios, or
followed too few links, proves nothing, so it fails.
"""

from __future__ import annotations

from collections.abc import Iterator

from incident_conformance import schemathesis_run
from incident_conformance.context import RunContext
from incident_conformance.rules import Failure, Finding, Level, Note, expect, found, rule
from incident_conformance.schemathesis_run import STATEFUL, STATELESS, SchemaRun

MAX_FAILURES = 25  # per rule: the rest are the same bug seen again
MIN_SCENARIOS = 3  # stateful scenarios SCHEMA-2 needs to have run
MIN_LINKS = 2  # distinct links SCHEMA-2 needs to have followed to an answer


def _report(result: SchemaRun) -> Iterator[Finding]:
    yield from (Note(text) for text in result.notes)
    yield from result.failures[:MAX_FAILURES]


@rule(
    "SCHEMA-1",
    Level.MUST,
    "every_operation_passes_the_schemathesis_checks",
    "Schemathesis 4.32 (examples, coverage and fuzzing phases, every built-in check: no 5xx, documented "
    "status codes, content types, headers and response schemas, valid data accepted, invalid data "
    "rejected, auth not ignored, ...) finds nothing on any operation.",
    calls=schemathesis_run.operations,
)
def built_in_checks(ctx: RunContext) -> Iterator[Finding]:
    yield from _report(schemathesis_run.run(ctx, STATELESS))


@rule(
    "SCHEMA-2",
    Level.MUST,
    "linked_call_sequences_pass_the_schemathesis_checks",
    "Schemathesis' stateful phase, chaining calls through the contract's links and the links it infers, "
    "finds nothing, and means something: it ran at "
    f"least {MIN_SCENARIOS} scenarios and followed at least {MIN_LINKS} different links to a 2xx answer.",
    calls=schemathesis_run.operations,
)
def stateful(ctx: RunContext) -> Iterator[Finding]:
    result = schemathesis_run.run(ctx, STATEFUL)
    yield from _report(result)
    declared = ", ".join(f"{link} x{n}" for link, n in sorted(result.links.items())) or "none"
    inferred = ", ".join(f"{link} x{n}" for link, n in sorted(result.inferred_links.items())) or "none"
    yield Note(f"stateful phase: {result.scenarios} scenarios; links followed to a 2xx: {declared}")
    yield Note(f"links Schemathesis inferred, followed to a 2xx: {inferred}")
    links = len(result.links) + len(result.inferred_links)
    yield from found(
        expect(result.scenarios >= MIN_SCENARIOS, "the stateful phase", f"at least {MIN_SCENARIOS} scenarios",
               f"{result.scenarios} scenarios"),
        expect(links >= MIN_LINKS, "the stateful phase", f"at least {MIN_LINKS} links followed to a 2xx",
               f"{links}: {declared}; inferred: {inferred}"),
    )  # fmt: skip


@rule(
    "SCHEMA-3",
    Level.MUST,
    "schemathesis_run_was_authenticated",
    "Guard: the Schemathesis run reached every operation it was given, no operation answered only 401, and "
    "at least one request succeeded, so a run whose authentication silently failed cannot pass.",
    calls=schemathesis_run.operations,
)
def authenticated(ctx: RunContext) -> Iterator[Finding]:
    result = schemathesis_run.run(ctx, STATELESS)  # SCHEMA-1's run: already done when SCHEMA-1 ran first
    for label in sorted(result.expected_labels):
        codes = result.statuses.get(label)
        if not codes:
            yield Failure(label, "requests from Schemathesis", "none were sent")
        elif set(codes) == {401}:
            yield Failure(label, "at least one answer other than 401", f"only 401s ({codes[401]})")
    successes = sum(n for codes in result.statuses.values() for status, n in codes.items() if status < 300)
    yield from found(expect(successes > 0, "the whole run", "some 2xx answers", "no 2xx answer at all"))
