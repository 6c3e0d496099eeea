"""The rule registry: stable IDs, a MUST/SHOULD level, a name that states the rule, and its check.

Each family module registers its rules with `@rule(...)`; the registry keeps them in registration
order, which is also the order they run in. IDs never change meaning: a report read next month must
mean what it meant today.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from incident_conformance.context import RunContext
from incident_conformance.findings import Failure, Finding, Note, RuleSkipped, expect, found

__all__ = [
    "API",
    "CREATOR_KEY_MISSING",
    "REGISTRY",
    "VIEWER_KEY_MISSING",
    "WEBHOOK",
    "Check",
    "Failure",
    "Finding",
    "Level",
    "Note",
    "Outcome",
    "Rule",
    "RuleSkipped",
    "Status",
    "expect",
    "found",
    "rule",
    "select",
]


# The run a rule belongs to: `api` rules run in `incident-conformance`, `webhook` rules judge the deliveries
# of `incident-conformance webhooks`. --list-rules shows both.
API, WEBHOOK = "api", "webhook"


class Level(StrEnum):
    MUST = "MUST"
    SHOULD = "SHOULD"


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"  # the rule itself could not finish (for example the target stopped answering)


# A rule's check: yields what it finds, so a rule is a function from the run's context to its findings.
Check = Callable[[RunContext], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    id: str
    level: Level
    name: str
    family: str
    summary: str
    check: Check
    needs_viewer: bool = False  # the runner skips it (with the reason) when no --viewer-key is given
    needs_creator: bool = False  # the same for --creator-key
    group: str = API  # which run it belongs to (GROUPS)


@dataclass
class Outcome:
    rule: Rule
    status: Status
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)
    reason: str = ""  # why it was skipped or errored
    notes: list[str] = field(default_factory=list)


VIEWER_KEY_MISSING = "needs --viewer-key (a key holding only the viewer role)"
CREATOR_KEY_MISSING = (
    "not checked: needs --creator-key (a key that may create incidents but not see private ones)"
)
REGISTRY: dict[str, Rule] = {}
# Families run in this order: cheap and fundamental first, Schemathesis last.
FAMILIES = ("AUTH", "REQUIRED", "ENUM", "IDEMP", "VIS", "PAGE", "ERR", "SCHEMA", "WEBHOOK")
GROUPS = {"WEBHOOK": WEBHOOK}


def _order(item: Rule) -> tuple[int, int]:
    family = FAMILIES.index(item.family) if item.family in FAMILIES else len(FAMILIES)
    return family, int(item.id.rsplit("-", 1)[1])


def rule(
    rule_id: str,
    level: Level,
    name: str,
    summary: str,
    *,
    needs_viewer: bool = False,
    needs_creator: bool = False,
) -> Callable[[Check], Check]:
    """Register a check as a rule. The family is the ID's prefix (`AUTH-1` belongs to AUTH)."""
    if rule_id.rsplit("-", 1)[0] not in FAMILIES:
        raise ValueError(f"unknown family in {rule_id}")

    def register(check: Check) -> Check:
        if rule_id in REGISTRY:
            raise ValueError(f"duplicate rule id {rule_id}")
        family = rule_id.rsplit("-", 1)[0]
        REGISTRY[rule_id] = Rule(rule_id, level, name, family, summary, check, needs_viewer, needs_creator,
                                 GROUPS.get(family, API))  # fmt: skip
        return check

    return register


def _matches(item: Rule, patterns: Iterable[str]) -> bool:
    return any(
        fnmatch.fnmatchcase(item.id.upper(), p.upper()) or fnmatch.fnmatchcase(item.name, p) for p in patterns
    )


def select(include: Iterable[str] = (), exclude: Iterable[str] = (), group: str | None = None) -> list[Rule]:
    """Rules whose ID (or name) matches any include pattern (all when none) and no exclude pattern.

    `group` keeps only the rules of one run (API or WEBHOOK); None keeps every group.

    Patterns are fnmatch globs, case-insensitive on IDs, and may be comma-separated: `AUTH-*,IDEMP-2`.
    """
    inc = [p.strip() for chunk in include for p in chunk.split(",") if p.strip()]
    exc = [p.strip() for chunk in exclude for p in chunk.split(",") if p.strip()]
    chosen = [r for r in REGISTRY.values() if group in (None, r.group)]
    chosen = [r for r in chosen if (not inc or _matches(r, inc)) and not _matches(r, exc)]
    return sorted(chosen, key=_order)
