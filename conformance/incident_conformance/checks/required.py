"""REQUIRED: leaving out a field the contract requires is 422 is_required naming it, and changes nothing.

The fields come from each request body's `required` list in the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incident_conformance.context import CREATE, EDIT, NAME_PREFIX, RunContext
from incident_conformance.rules import Level, rule

Body = dict[str, Any]


def _bodies(ctx: RunContext) -> dict[str, tuple[Callable[[], Body], str | None]]:
    """Operation -> (a valid body, the id to put in the path). Settings writes only when allowed."""
    out: dict[str, tuple[Callable[[], Body], str | None]] = {
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
            target = ledger.spare() if "{id}" in ctx.contract.ops[op][1] else None
            if target is None and "{id}" in ctx.contract.ops[op][1]:
                ctx.notes.append(f"{op} not checked: could not create a severity of the run's own")
                continue
            out[op] = (lambda: {"name": ledger.name(f"required {ctx.run_id}"), "description": "conformance"},
                       target)  # fmt: skip
    else:
        ctx.notes.append("settings writes not checked (pass --allow-settings-writes)")
    return out


@rule(
    "REQUIRED-1",
    Level.MUST,
    "missing_required_field_is_rejected_with_is_required",
    "For every required field of every request body (read from the contract), a request without it is "
    "422 validation_error with code is_required and source {field, pointer: /<field>}.",
)
def missing_field(ctx: RunContext) -> None:
    for operation_id, (valid, object_id) in _bodies(ctx).items():
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
            if ctx.expect_error(answer, title, 422, "is_required", name):
                entries = [e for e in answer.json()["errors"] if (e.get("source") or {}).get("field") == name]
                pointer = (entries[0].get("source") or {}).get("pointer")
                ctx.check(pointer == f"/{name}", title, f"pointer /{name}", f"pointer {pointer!r}", answer)


@rule(
    "REQUIRED-2",
    Level.MUST,
    "create_without_required_field_creates_nothing",
    "A create rejected for a missing required field leaves no incident behind (the test-mode total is "
    "unchanged), and an edit rejected for one leaves the incident unchanged.",
)
def nothing_created(ctx: RunContext) -> None:
    before = ctx.total()
    incident = ctx.create_ok("required-unchanged")
    after_create = ctx.total()
    for name in ctx.contract.required_fields(CREATE):
        body = ctx.create_payload("required-nothing")
        body.pop(name)
        ctx.full.note_created(ctx.full.request("POST", ctx.path(CREATE), json_body=body))
    total = ctx.total()
    ctx.check(
        before is not None and total == after_create,
        "test-mode incident total after rejected creates",
        f"{after_create} (unchanged)",
        f"{total} (was {before} before one valid create)",
    )
    for name in ctx.contract.required_fields(EDIT):
        edit: Body = {
            "incident": {"name": f"{NAME_PREFIX} should not apply"},
            "notify_incident_channel": False,
        }
        edit.pop(name)
        ctx.full.request("POST", ctx.path(EDIT, id=incident["id"]), json_body=edit)
    shown = ctx.full.request("GET", ctx.path("Incidents V2#Show", id=incident["id"]))
    name_now = ((shown.json() or {}).get("incident") or {}).get("name")
    ctx.check(
        name_now == incident.get("name"),
        "incident after rejected edits",
        f"name {incident.get('name')!r}",
        f"name {name_now!r}",
        shown,
    )
