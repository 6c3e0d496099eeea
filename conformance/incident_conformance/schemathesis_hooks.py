"""What the suite does to Schemathesis' requests: keep creates recognisable and settings writes safe.

Every generated create gets `mode: test` and the name prefix, every edit keeps the prefix, and every
incident created counts against --max-creates. Every request Schemathesis sends goes through the run's
Pacer (a 429 with Retry-After is waited out, see pacing.py), and when the contract sets `x-max-url-bytes`,
generated cases whose URL is longer are left out: a server may refuse those before the API runs (uvicorn's
plain-text 400 past about 80 KB of query), which says nothing about the API.

With --allow-settings-writes, severity creates get the name prefix too and are recorded in the run's
SettingsLedger, and a `before_call` hook, run just before each request is sent (every phase, stateful
included, whatever id a link or the dependency analysis supplied), aims every severity update and delete
at a severity the run created itself. A negative case may keep a random id (a 404 answer), never the id
of a severity that existed before the run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import schemathesis
import schemathesis.transport.requests as st_requests
from schemathesis import GenerationMode

from incident_conformance.context import CREATE, EDIT, REFERENCES, RunContext
from incident_conformance.contract import Contract
from incident_conformance.marks import NAME_PREFIX, TEST_MODE
from incident_conformance.rules import RuleSkipped
from incident_conformance.schemathesis_repro import request_url
from incident_conformance.settings import (
    SEVERITY_CREATE,
    SEVERITY_DELETE,
    SEVERITY_UPDATE,
    ProtectedSetting,
    SettingsLedger,
    prefixed_name,
)

__all__ = ["SeverityHooks", "fits_the_url_limit", "installed", "paced", "sends_its_negation"]

TEXT_FIELDS = ("name", "summary")  # free text a create may carry: no reference in them
LINKABLE_RESERVE = 50  # creates left of --max-creates below which generated creates stay as generated


class SeverityHooks:
    """What the hooks do to severity requests, kept apart so it can be tested alone."""

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


def _mark_generated(ctx: RunContext, op: str | None, body: Any) -> None:
    """Keep generated creates and edits recognisable: mode test and the name prefix."""
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


def sends_its_negation(case: Any) -> bool:
    """False for a negative case whose negation is lost on the way to the wire.

    Schemathesis 4.32 negates a query by giving a key (a deepObject key such as `status_category[not_in]`,
    or an undeclared one) an empty object or array; the HTTP client sends nothing for an empty value, so
    what reaches the server is valid (for example `created_at[gte]=3386-03-11&created_at[lte]=0233-04-19`
    once `incident_type[not_in]: []` was dropped), a correct server answers 200, and
    negative_data_rejection reports it. Such cases are left out; every other negative case is sent.
    """
    meta = getattr(case, "meta", None)
    if meta is None or meta.generation.mode != GenerationMode.NEGATIVE or not isinstance(case.query, dict):
        return True
    return not any(value in ({}, [], None) for value in case.query.values())


def fits_the_url_limit(ctx: RunContext, case: Any) -> bool:
    """False for a case whose URL (as sent, percent-encoded) is longer than the contract's x-max-url-bytes."""
    limit = ctx.contract.max_url_bytes
    if limit is None:
        return True
    try:
        url = request_url(ctx, case)
    except Exception:  # a case that cannot be serialised fails when sent, where Schemathesis reports it
        return True
    return len(url.encode()) <= limit


@contextlib.contextmanager
def paced(ctx: RunContext) -> Iterator[None]:
    """Send every Schemathesis request through the run's Pacer while inside.

    Schemathesis 4.32 (pinned) has no hook around sending, and retries only transport errors; its one
    function that sends a request, `transport.requests._request`, is wrapped for the run and restored after.
    """
    original = st_requests._request

    def send(session: Any, data: dict[str, Any], max_stream_events: int) -> Any:
        return ctx.full.pacer.send(
            lambda: original(session, data, max_stream_events),
            lambda response: int(response.status_code),
            lambda response: response.headers.get("Retry-After"),
        )

    st_requests._request = send
    try:
        yield
    finally:
        st_requests._request = original


def _linkable_create(ctx: RunContext, case: Any) -> None:
    """Make a generated valid create one the target accepts, so the links from its answer can be followed.

    Generated reference ids name nothing on the target, so such creates are 422 and a stateful run never
    gets past them. For a positive create (while --max-creates leaves room), keep the required fields
    (references filled with ids the target lists), the enums and the text fields, and drop the other
    optional fields (references all of them, or objects holding references).
    """
    body = case.body
    meta = getattr(case, "meta", None)
    positive = meta is not None and meta.generation.mode == GenerationMode.POSITIVE
    if not positive or not isinstance(body, dict) or ctx.full.budget.remaining < LINKABLE_RESERVE:
        return
    keep = set(ctx.contract.required_fields(CREATE)) | {e.field for e in ctx.contract.body_enums(CREATE)}
    for name in list(body):
        if name not in keep and name not in TEXT_FIELDS:
            del body[name]
    for name in REFERENCES:
        if name in body:
            with contextlib.suppress(RuleSkipped):  # the target lists none: the create stays a 422
                body[name] = ctx.reference(name)


@contextlib.contextmanager
def installed(
    ctx: RunContext, schema: Any, on_created: Callable[[], None], *, linkable_creates: bool = False
) -> Iterator[None]:
    """Register the run's hooks on `schema` (and, scoped to it, the global `before_call`) while inside.

    `linkable_creates`: make valid generated creates succeed (see `_linkable_create`); for stateful runs.
    """
    ledger = ctx.settings
    severities = SeverityHooks(ctx.contract, ledger, ctx.run_id) if ledger is not None else None
    endpoints = {(op.method, op.path): op.id for op in ctx.contract.ops.values()}

    def operation_of(case: Any) -> str | None:
        return endpoints.get((case.operation.method.upper(), case.operation.path))

    @schema.hook  # type: ignore[untyped-decorator]
    def filter_case(context: Any, case: Any) -> bool:
        return sends_its_negation(case) and fits_the_url_limit(ctx, case)

    @schema.hook  # type: ignore[untyped-decorator]
    def map_case(context: Any, case: Any) -> Any:
        op = operation_of(case)
        if linkable_creates and op == CREATE:
            _linkable_create(ctx, case)
        _mark_generated(ctx, op, case.body)
        if severities is not None:
            severities.prefix_name(op, case.body)
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

    @schema.hook  # type: ignore[untyped-decorator]
    def after_call(context: Any, case: Any, response: Any) -> None:
        replayed = response.headers.get("idempotent-replayed") in (["true"], "true")
        if operation_of(case) == CREATE and 200 <= response.status_code < 300 and not replayed:
            try:
                incident_id = response.json()["incident"]["id"]
            except (ValueError, KeyError, TypeError):
                return
            ctx.full.budget.record(str(incident_id))
            on_created()
        if severities is not None:
            severities.record(operation_of(case), case, response)

    # Schemathesis 4.32 dispatches `before_call` from its global hooks only: register it for this run,
    # scoped to this schema, and take it out again whatever happens.
    schemathesis.hook(before_call)
    try:
        with paced(ctx):
            yield
    finally:
        schemathesis.hooks.unregister(before_call)
