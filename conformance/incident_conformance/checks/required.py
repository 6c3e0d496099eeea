"""REQUIRED: leaving out a field the contract requires is 422 is_required naming it, and changes nothing.

The fields come from each request body's `required` list in the contract.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from incident_conformance.context import CREATE, CREATING, EDIT, LIST, SHOW, RunContext
from incident_conformance.contract import Contract
from incident_conformance.marks import NAME_PREFIX
from incident_conformance.rules import Finding, Level, Note, RuleSkipped, expect, found, rule

Body = dict[str, Any]


Bodies = dict[str, tuple[Callable[[], Body], str | None]]


def _calls(contract: Contract, settings_writes: bool) -> list[str]:
    """What REQUIRED-1 calls: create and edit, and the settings writes with a body when they are allowed."""
    writes = [op for op in contract.settings_writes() if contract.body_schema(op) is not None]
    return [*CREATING, EDIT, *(writes if settings_writes else ())]


def _bodies(ctx: RunContext) -> Iterator[Bodies | Note]:
    """Operation -> (a valid body, the id to put in the path), and Notes on what is left out.

    Settings writes only when allowed.
    """
    out: Bodies = {
        CREATE: (lambda: ctx.create_payload("required"), None),
    }
    incident = ctx.create_ok("required-edit-target")
    out[EDIT] = (lambda: {"incident": {"name": f"{NAME_PREFIX} renamed"}, "notify_incident_channel": False},
                 incident["id"])  # fmt: skip
    if ctx.settings is not None:
        ledger = ctx.settings
        for op in ctx.contract.settings_writes():
            if ctx.contract.body_schema(op) is None:
                continue
            # Updates only ever go to a severity this run created (the ledger's spare), never an existing one.
            takes_id = "{id}" in ctx.contract.ops[op].path
            target = ledger.spare() if takes_id else None
            if target is None and takes_id:
                yield Note(f"{op} not checked: could not create a severity of the run's own")
                continue
            out[op] = (lambda: {"name": ledger.name(f"required {ctx.run_id}"), "description": "conformance"},
                       target)  # fmt: skip
    else:
        yield Note("settings writes not checked (pass --allow-settings-writes)")
    yield out


@rule(
    "REQUIRED-1",
    Level.MUST,
    "missing_required_field_is_rejected_with_is_required",
    "For every required field of every request body (read from the contract), a request without it is "
    "422 validation_error with code is_required and source {field, pointer: /<field>}.",
    calls=_calls,
)
def missing_field(ctx: RunContext) -> Iterator[Finding]:
    bodies: Bodies = {}
    for item in _bodies(ctx):
        if isinstance(item, Note):
            yield item
        else:
            bodies = item
    for operation_id, (valid, object_id) in bodies.items():
        for name in ctx.contract.required_fields(operation_id):
            body = valid()
            body.pop(name, None)
            path = ctx.path(operation_id, id=object_id or "x")
            answer = ctx.full.request(ctx.contract.method(operation_id), path, json_body=body)
            if operation_id == CREATE:
                ctx.full.note_created(answer)
            if ctx.settings is not None and operation_id in ctx.contract.settings_writes():
                ctx.settings.note_exchange(operation_id, answer, object_id)  # a broken target may write
            title = f"{operation_id} without {name}"
            if failure := ctx.expect_error(answer, title, 422, "is_required", name):
                yield failure
                continue
            entries = [e for e in answer.json()["errors"] if (e.get("source") or {}).get("field") == name]
            pointer = (entries[0].get("source") or {}).get("pointer")
            want, got = f"pointer /{name}", f"pointer {pointer!r}"
            yield from found(expect(pointer == f"/{name}", title, want, got, answer.curl))


@rule(
    "REQUIRED-2",
    Level.MUST,
    "create_without_required_field_creates_nothing",
    "A create rejected for a missing required field leaves no incident behind (the test-mode total is "
    "unchanged), and an edit rejected for one leaves the incident unchanged. Skipped, with the reason, where "
    "a successful create does not raise the total by one (a stateless server): an unchanged total would "
    "prove nothing.",
    calls=(*CREATING, EDIT, SHOW, LIST),
)
def nothing_created(ctx: RunContext) -> Iterator[Finding]:
    before = ctx.total()
    incident = ctx.create_ok("required-unchanged")
    after_create = ctx.total()
    # An unchanged count proves nothing where a create does not change it either (a stateless server's
    # count is a constant). That count is then not this rule's to judge (IDEMP-3 and VIS-3 judge it), and
    # the rule cannot tell whether a rejected create wrote anything: it is skipped, and says why.
    if before is None or after_create != before + 1:
        raise RuleSkipped(
            f"cannot tell: a successful create moved the test-mode total_record_count from {before} to "
            f"{after_create}, not by one, so an unchanged count after rejected creates would prove nothing"
        )
    for name in ctx.contract.required_fields(CREATE):
        body = ctx.create_payload("required-nothing")
        body.pop(name)
        ctx.full.note_created(ctx.full.request(ctx.contract.method(CREATE), ctx.path(CREATE), json_body=body))
    total = ctx.total()
    yield from found(expect(
        total == after_create,
        "test-mode incident total after rejected creates",
        f"{after_create} (unchanged)",
        f"{total} (was {before} before one valid create)",
    ))  # fmt: skip
    for name in ctx.contract.required_fields(EDIT):
        edit: Body = {
            "incident": {"name": f"{NAME_PREFIX} should not apply"},
            "notify_incident_channel": False,
        }
        edit.pop(name)
        ctx.full.request("POST", ctx.path(EDIT, id=incident["id"]), json_body=edit)
    shown = ctx.full.request("GET", ctx.path(SHOW, id=incident["id"]))
    name_now = ((shown.json() or {}).get("incident") or {}).get("name")
    yield from found(expect(
        name_now == incident.get("name"),
        "incident after rejected edits",
        f"name {incident.get('name')!r}",
        f"name {name_now!r}",
        shown.curl,
    ))  # fmt: skip
