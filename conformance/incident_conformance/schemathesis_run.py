"""One Schemathesis 4.32 run over the contract, shared by the SCHEMA rules.

All built-in checks over every operation (examples, coverage and fuzzing phases) and stateful runs
through the contract's links. Creates are kept safe: hooks force `mode: test` and the name prefix on
every generated create and edit, settings writes are left out unless allowed, and every incident it
creates counts against --max-creates.

With --allow-settings-writes, severity creates get the name prefix too and are recorded in the run's
SettingsLedger, and a `before_call` hook, run just before each request is sent (every phase, stateful
included, whatever id a link or the dependency analysis supplied), aims every severity update and delete
at a severity the run created itself. A negative case may keep a random id (a 404 answer), never the id
of a severity that existed before the run.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from incident_conformance.context import CREATE, EDIT, NAME_PREFIX, TEST_MODE, RunContext
from incident_conformance.contract import Contract
from incident_conformance.rules import Failure, RuleSkipped
from incident_conformance.settings import (
    SEVERITY_CREATE,
    SEVERITY_DELETE,
    SEVERITY_UPDATE,
    ProtectedSetting,
    SettingsLedger,
    prefixed_name,
)
from incident_conformance.target import REDACTED

__all__ = ["SchemaRun", "SeverityHooks", "run"]

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


class SeverityHooks:
    """What the Schemathesis hooks do to severity requests, kept apart so it can be tested alone."""

    def __init__(self, contract: Contract, ledger: SettingsLedger, run_id: str) -> None:
        self.ledger = ledger
        self.run_id = run_id
        self.validators = {op: contract.body_validator(op) for op in (SEVERITY_CREATE, SEVERITY_UPDATE)}

    def prefix_name(self, operation_id: str | None, body: Any) -> None:
        """Give a generated severity name the prefix, unless that would make a body meant to fail valid."""
        if operation_id not in self.validators or not isinstance(body, dict):
            return
        name = body.get("name")
        if not isinstance(name, str) or name.startswith(NAME_PREFIX):
            return
        validator = self.validators[operation_id]
        valid = validator is None or validator.is_valid(body)
        for candidate in (prefixed_name(name, self.ledger.name_limit), prefixed_name(name, None)):
            if validator is None or validator.is_valid({**body, "name": candidate}) == valid:
                body["name"] = candidate
                return

    def aim(self, operation_id: str | None, case: Any) -> None:
        """Point a severity update or delete at one of the run's own severities."""
        if operation_id not in (SEVERITY_UPDATE, SEVERITY_DELETE):
            return
        params = case.path_parameters
        current = params.get("id")
        if not self.ledger.owns(current):
            meta = getattr(case, "meta", None)
            negative = meta is not None and meta.generation.mode == GenerationMode.NEGATIVE
            if not negative or current is None or self.ledger.is_protected(current):
                spare = self.ledger.spare()
                params["id"] = spare if spare is not None else f"conformance-missing-{self.run_id}"
        if self.ledger.is_protected(params.get("id")):  # cannot happen; if it ever does, send nothing
            raise ProtectedSetting(f"refused {operation_id} on {params.get('id')!r}: it existed before")

    def record(self, operation_id: str | None, case: Any, response: Any) -> None:
        if operation_id == SEVERITY_CREATE:
            try:
                body = response.json()
            except ValueError:
                return
            self.ledger.note_created(response.status_code, body)
        elif operation_id in (SEVERITY_UPDATE, SEVERITY_DELETE):
            self.ledger.note_write(operation_id, case.path_parameters.get("id"), response.status_code)


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
    ledger = ctx.settings if ctx.options.allow_settings_writes else None
    excluded = [] if ledger is not None else ctx.contract.settings_writes()
    if excluded:
        why = "no severity snapshot" if ctx.options.allow_settings_writes else "no --allow-settings-writes"
        result.notes.append(f"settings writes left out ({why}): {', '.join(excluded)}")
    severities = SeverityHooks(ctx.contract, ledger, ctx.run_id) if ledger is not None else None
    reserve = PROFILES[ctx.options.profile]["examples"] * 3  # generated creates mostly name unknown ids
    if ctx.full.budget.remaining < reserve:
        excluded.append(CREATE)
        result.notes.append(f"{CREATE} left out: fewer than {reserve} creates left of --max-creates")
    endpoints = {(m, p): op for op, (m, p, _) in ctx.contract.ops.items()}
    result.expected_labels = {f"{m} {p}" for op, (m, p, _) in ctx.contract.ops.items() if op not in excluded}

    # Schemathesis rewrites parts of the document in place (links among them): give it its own copy.
    schema = schemathesis.openapi.from_dict(copy.deepcopy(ctx.contract.spec), config=_config(ctx, excluded))
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
        if severities is not None:
            severities.prefix_name(op, body)
        return case

    def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
        """At send time (every phase): prefixed severity names, updates and deletes on our own severities."""
        if severities is None or case.operation.schema is not schema:
            return
        op = operation_of(case)
        severities.prefix_name(op, case.body)
        severities.aim(op, case)
        if op in (CREATE, EDIT) and isinstance(case.body, dict):
            # An incident that uses one of the run's severities would keep it from being deleted at the end.
            inner = case.body.get("incident")
            for holder in (case.body, inner if isinstance(inner, dict) else {}):
                if holder.get("severity_id") in severities.ledger.created:
                    with contextlib.suppress(RuleSkipped):  # no other severity: leave it, cleanup reports it
                        holder["severity_id"] = ctx.reference("severity_id")

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
        if severities is not None:
            severities.record(operation_of(case), case, response)

    # Schemathesis 4.32 dispatches `before_call` from its global hooks only: register it for this run,
    # scoped to this schema, and take it out again whatever happens.
    schemathesis.hook(before_call)
    try:
        _execute(schema, result)
    finally:
        schemathesis.hooks.unregister(before_call)
    result.seconds = time.monotonic() - started
    return result


def _execute(schema: Any, result: SchemaRun) -> None:
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
