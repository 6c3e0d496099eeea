"""The rule registry: stable IDs, a MUST/SHOULD level, a name that states the rule, and its check.

Each family module registers its rules with `@rule(...)`; the registry keeps them in registration
order, which is also the order they run in. A rule names the operations it calls with --api-key
(`calls`): the scopes it needs are theirs, read from the contract, so a run can measure the key first.
IDs never change meaning: a report read next month must mean what it meant today.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from incident_conformance.context import RunContext
from incident_conformance.contract import Contract
from incident_conformance.findings import Failure, Finding, Note, RuleSkipped, expect, found

__all__ = [
    "API",
    "CREATOR_KEY_MISSING",
    "REGISTRY",
    "VIEWER_KEY_MISSING",
    "WEBHOOK",
    "Calls",
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
# The operations a rule calls with --api-key: their ids, or a function of the contract and of whether
# settings writes are allowed (for the sets the contract decides, such as the paginated operations).
Calls = Iterable[str] | Callable[[Contract, bool], Iterable[str]]


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
    calls: Calls = ()  # the operations it calls with --api-key (requests with made-up keys not counted)
    extra_scopes: tuple[str, ...] = ()  # scopes it needs that no operation names (incidents.view_private)

    def operations(self, contract: Contract, settings_writes: bool = False) -> list[str]:
        """The operations the rule calls with --api-key, in the contract's order."""
        wanted = set(self.calls(contract, settings_writes) if callable(self.calls) else self.calls)
        unknown = wanted - set(contract.ops)
        if unknown:
            raise ValueError(f"{self.id} calls operations the contract does not have: {sorted(unknown)}")
        return [op for op in contract.ops if op in wanted]

    def scopes(self, contract: Contract, settings_writes: bool = False) -> frozenset[str]:
        """What --api-key needs for this rule: the x-rbac-scopes of the operations it calls, and more."""
        found = set(self.extra_scopes)
        for op in self.operations(contract, settings_writes):
            found.update(contract.scopes(op))
        return frozenset(found)


@dataclass
class Outcome:
    rule: Rule
    status: Status
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)
    reason: str = ""  # why it was skipped or errored
    cause: str = ""  # what probably made it fail, when the suite can tell (--api-key refused for a scope)
    notes: list[str] = field(default_factory=list)


VIEWER_KEY_MISSING = "needs --viewer-key (a key holding only the viewer role)"
CREATOR_KEY_MISSING = (
    "not checked: needs --creator-key (a key that may create incidents but not see private ones)"
)
REGISTRY: dict[str, Rule] = {}
# Families run in this order: cheap and fundamental first, Schemathesis last.
FAMILIES = ("AUTH", "REQUIRED", "ENUM", "IDEMP", "VIS", "PAGE", "ERR", "RES", "ALERT", "ROUTE", "ESC",
            "SCHED", "SCHEMA", "WEBHOOK")  # fmt: skip
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
    calls: Calls = (),
    extra_scopes: tuple[str, ...] = (),
) -> Callable[[Check], Check]:
    """Register a check as a rule. The family is the ID's prefix (`AUTH-1` belongs to AUTH).

    `calls` names the operations the check calls with --api-key: the scopes it needs are theirs
    (`Rule.scopes`), so a run can tell before it starts which rules the key cannot pass.
    """
    if rule_id.rsplit("-", 1)[0] not in FAMILIES:
        raise ValueError(f"unknown family in {rule_id}")
    if isinstance(calls, str):
        raise TypeError(f"{rule_id}: calls takes operation ids, not one id as a string")

    def register(check: Check) -> Check:
        if rule_id in REGISTRY:
            raise ValueError(f"duplicate rule id {rule_id}")
        family = rule_id.rsplit("-", 1)[0]
        REGISTRY[rule_id] = Rule(rule_id, level, name, family, summary, check, needs_viewer, needs_creator,
                                 GROUPS.get(family, API), calls if callable(calls) else tuple(calls),
                                 extra_scopes)  # fmt: skip
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
