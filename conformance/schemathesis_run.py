"""One Schemathesis 4.32 run over the contract, shared by the SCHEMA rules.

All built-in checks over every operation (examples, coverage and fuzzing phases) and stateful runs
through the contract's links. Creates are kept safe: hooks force `mode: test` and the name prefix on
every generated create and edit, settings writes are left out unless allowed, and every incident it
creates counts against --max-creates.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from conformance.context import CREATE, EDIT, NAME_PREFIX, TEST_MODE, RunContext
from conformance.rules import Failure
from conformance.target import REDACTED

__all__ = ["SchemaRun", "run"]

PROFILES = {  # max examples per operation, stateful steps, time cap in seconds
    "quick": {"examples": 6, "steps": 6, "max_time": 20},
    "thorough": {"examples": 60, "steps": 40, "max_time": 180},
}


@dataclass
class SchemaRun:
    failures: dict[str, list[Failure]] = field(default_factory=lambda: defaultdict(list))  # phase -> failures
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))  # label -> codes
    expected_labels: set[str] = field(default_factory=set)
    created: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


def _config(ctx: RunContext, excluded: list[str]) -> SchemathesisConfig:
    profile = PROFILES[ctx.options.profile]
    lenient = [op for op in ctx.contract.ops if ctx.contract.ops[op][2].get("parameters")
               or ctx.contract.body_schema(op) is not None]  # fmt: skip
    return SchemathesisConfig.from_dict({
        "seed": ctx.options.seed,
        "max-time": ctx.options.schema_max_time or profile["max_time"],
        "suppress-health-check": ["all"],
        "headers": {"Authorization": f"Bearer {ctx.full.key}"},
        "request-timeout": 30,
        "generation": {"max-examples": profile["examples"], "database": "none"},
        "phases": {"stateful": {"max-steps": profile["steps"]}},
        "output": {"sanitization": {"keys-to-sanitize": ["authorization", "proxy-authorization", "cookie"],
                                    "sensitive-markers": ["authorization", "password", "secret"]}},
        "operations": [
            *({"include-operation-id": op, "enabled": False} for op in excluded),
            # A schema-valid request can still name an id that does not exist: 404 for path ids and 422
            # for unknown references in bodies and filters are contract answers, not rejections of valid
            # data, so positive_data_acceptance accepts them on operations that take parameters or bodies.
            *({"include-operation-id": op,
               "checks": {"positive_data_acceptance": {"expected-statuses": ["2XX", "404", "422"]}}}
              for op in lenient if op not in excluded),
        ],
    })  # fmt: skip


def _curl(case: Any) -> str | None:
    try:
        return str(case.as_curl_command(headers={"Authorization": f"Bearer {REDACTED}"}))
    except Exception:  # a reproduction is a courtesy; never let it hide the failure itself
        return None


def run(ctx: RunContext) -> SchemaRun:
    """Run Schemathesis once per RunContext; later callers get the cached result."""
    cached = ctx.cache.get("schemathesis")
    if isinstance(cached, SchemaRun):
        return cached
    result = SchemaRun()
    ctx.cache["schemathesis"] = result
    started = time.monotonic()
    excluded = [] if ctx.options.allow_settings_writes else ctx.contract.settings_writes()
    if excluded:
        result.notes.append(f"settings writes left out (no --allow-settings-writes): {', '.join(excluded)}")
    reserve = PROFILES[ctx.options.profile]["examples"] * 3  # generated creates mostly name unknown ids
    if ctx.full.budget.remaining < reserve:
        excluded.append(CREATE)
        result.notes.append(f"{CREATE} left out: fewer than {reserve} creates left of --max-creates")
    endpoints = {(m, p): op for op, (m, p, _) in ctx.contract.ops.items()}
    result.expected_labels = {f"{m} {p}" for op, (m, p, _) in ctx.contract.ops.items() if op not in excluded}

    schema = schemathesis.openapi.from_dict(dict(ctx.contract.spec), config=_config(ctx, excluded))
    schema.config.update(base_url=ctx.full.base_url)

    def operation_of(case: Any) -> str | None:
        return endpoints.get((case.operation.method.upper(), case.operation.path))

    @schema.hook
    def map_case(context: Any, case: Any) -> Any:
        """Keep generated creates and edits recognisable: mode test and the name prefix."""
        op = operation_of(case)
        body = case.body
        if op == CREATE and isinstance(body, dict):
            modes = tuple(e for b in ctx.contract.body_enums(CREATE) if b.field == "mode" for e in b.values)
            if isinstance(body.get("mode"), str) and body["mode"] in modes:  # leave invalid values invalid
                body["mode"] = TEST_MODE
            body.setdefault("mode", TEST_MODE)
            body["name"] = (
                f"{NAME_PREFIX} {body['name']}"
                if isinstance(body.get("name"), str)
                else body.get("name", f"{NAME_PREFIX} generated")
            )
        if op == EDIT and isinstance(body, dict) and isinstance(body.get("incident"), dict):
            inner = body["incident"]
            if isinstance(inner.get("name"), str) and not inner["name"].startswith(NAME_PREFIX):
                inner["name"] = f"{NAME_PREFIX} {inner['name']}"
        return case

    @schema.hook
    def after_call(context: Any, case: Any, response: Any) -> None:
        replayed = response.headers.get("idempotent-replayed") in (["true"], "true")
        if operation_of(case) == CREATE and 200 <= response.status_code < 300 and not replayed:
            try:
                incident_id = response.json()["incident"]["id"]
            except (ValueError, KeyError, TypeError):
                return
            ctx.full.budget.record(str(incident_id))
            result.created += 1

    seen: set[tuple[str, str, str]] = set()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            _collect(event, result, seen)
        elif isinstance(event, events.NonFatalError):
            phase = str(event.phase.value) if event.phase else "examples"
            result.failures[phase].append(Failure(
                f"Schemathesis could not test {event.label}", "the operation to be tested",
                f"{type(event.value).__name__}: {str(event.value)[:300]}"))  # fmt: skip
        elif isinstance(event, events.FatalError):
            raise RuntimeError(f"Schemathesis stopped: {event.exception}")
    result.seconds = time.monotonic() - started
    return result


def _collect(event: events.ScenarioFinished, result: SchemaRun, seen: set[tuple[str, str, str]]) -> None:
    recorder = event.recorder
    phase = str(event.phase.value)
    for interaction in recorder.interactions.values():
        if interaction.response is not None:
            label = f"{interaction.request.method.upper()} {_template(recorder, interaction)}"
            result.statuses[label][interaction.response.status_code] += 1
    for case_id, checks in recorder.checks.items():
        for check in checks:
            info = check.failure_info
            if info is None:
                continue
            failure = info.failure
            node = recorder.cases.get(case_id)
            label = (
                f"{node.value.operation.method.upper()} {node.value.operation.path}"
                if node
                else recorder.label
            )
            key = (label, check.name, failure.title)
            if key in seen:
                continue
            seen.add(key)
            result.failures[phase].append(Failure(
                f"{label}: {failure.title} ({check.name})",
                f"the {check.name.replace('_', ' ')} check to pass",
                str(failure.message or failure.title)[:600],
                _curl(node.value) if node else info.code_sample))  # fmt: skip


def _template(recorder: Any, interaction: Any) -> str:
    """The path template of an interaction, found through the case that made it."""
    for case_id, recorded in recorder.interactions.items():
        if recorded is interaction and case_id in recorder.cases:
            return str(recorder.cases[case_id].value.operation.path)
    return "?"
