"""The incident-contract conformance suite: checks any server against openapi.yaml, rule by rule.

The public surface: the rule registry and its types (a rule is a function from a RunContext to the
Failures and Notes it finds, registered with `rule`), the runner, and what a rule sees (RunContext,
Contract, Target). `incident_conformance.checks` registers the rules when imported, and
`incident_conformance.cli` is the `incident-conformance` command. Names are imported on first use, so
the console script (`incident_conformance.launch`) can name a missing `[conformance]` extra before
anything imports httpx or Schemathesis. The suite imports the contract core, never the mock.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "REGISTRY",
    "Budget",
    "Contract",
    "Exchange",
    "Failure",
    "Finding",
    "Level",
    "Note",
    "Options",
    "Outcome",
    "Rule",
    "RuleSkipped",
    "RunContext",
    "Status",
    "Target",
    "__version__",
    "expect",
    "found",
    "rule",
    "run_rule",
    "run_rules",
    "select",
]

__version__ = "0.1.0"

_RULES = ("REGISTRY", "Failure", "Finding", "Level", "Note", "Outcome", "Rule", "RuleSkipped", "Status")
_HOMES = {
    **dict.fromkeys((*_RULES, "expect", "found", "rule", "select"), "incident_conformance.rules"),
    **dict.fromkeys(("run_rule", "run_rules"), "incident_conformance.runner"),
    **dict.fromkeys(("Options", "RunContext"), "incident_conformance.context"),
    "Contract": "incident_conformance.contract",
    **dict.fromkeys(("Budget", "Exchange", "Target"), "incident_conformance.target"),
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'incident_conformance' has no attribute {name!r}")
