"""Workflows V2: a workflow's configuration as a client sends it, stored and answered as WorkflowV2.

A client names things (a trigger, a condition's subject and operation, a step, a bound reference); the
answer carries each with a label for people. The labels are derived from the names (`incident.created`
-> "Incident created"), which is what a mock can know. `version` starts at 1 and counts the updates;
`private_incident_scope` and the deprecated `include_private_incidents` must agree when both are sent.
The list and the delete are the engine's (x-resources `workflows`; deleting a workflow deletes its runs).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incident_mock.domain.errors import ValidationFailed
from incident_mock.engine.context import Ctx, Reply
from incident_mock.resources.automation.saving import Json

__all__ = ["OPERATIONS"]

TABLE = "workflows"
DEFAULT_RETURNS: Json = {"type": "String", "array": False}
# WorkflowV2 fields copied as sent, when sent
PLAIN = (
    "name",
    "folder",
    "shortform",
    "owning_team_ids",
    "runs_on_incident_modes",
    "continue_on_step_error",
    "runs_on_incidents",
    "include_private_escalations",
    "state",
    "delay",
    "auto_run_mode",
)


def label(name: str) -> str:
    """A label for people from a name or reference: `incident.custom_field` -> "Incident custom field"."""
    words = name.replace(".", " ").replace("_", " ").split()
    return " ".join(words).capitalize() if words else name


def _value(sent: Json) -> Json:
    out: Json = {"label": sent.get("literal") or label(sent.get("reference", "")) or "Empty"}
    out.update((k, sent[k]) for k in ("literal", "reference") if k in sent)
    return out


def binding(sent: Json) -> Json:
    out: Json = {}
    if "value" in sent:
        out["value"] = _value(sent["value"])
    if "array_value" in sent:
        out["array_value"] = [_value(v) for v in sent["array_value"]]
    return out


def condition_groups(sent: list[Json]) -> list[Json]:
    return [
        {
            "conditions": [
                {
                    "subject": {"label": label(c["subject"]), "reference": c["subject"]},
                    "operation": {"label": label(c["operation"]), "value": c["operation"]},
                    "param_bindings": [binding(b) for b in c["param_bindings"]],
                }
                for c in group["conditions"]
            ]
        }
        for group in sent
    ]


def _operation(sent: Json) -> Json:
    kind = sent["operation_type"]
    out: Json = {"operation_type": kind, "returns": DEFAULT_RETURNS}
    for key in ("parse", "cast", "branches"):
        if key in sent:
            out["returns"] = sent[key]["returns"]
    if "navigate" in sent:
        ref = sent["navigate"]["reference"]
        out["navigate"] = {"reference": ref, "reference_label": label(ref)}
    if "filter" in sent:
        out["filter"] = {"condition_groups": condition_groups(sent["filter"]["condition_groups"])}
    if "parse" in sent:
        out["parse"] = sent["parse"]
    if "cast" in sent:
        out["cast"] = sent["cast"]
    if "concatenate" in sent:
        ref = sent["concatenate"]["reference"]
        out["concatenate"] = {"reference": ref, "reference_label": label(ref)}
    if "branches" in sent:
        out["branches"] = {
            "returns": sent["branches"]["returns"],
            "branches": [
                {"condition_groups": condition_groups(b["condition_groups"]), "result": binding(b["result"])}
                for b in sent["branches"]["branches"]
            ],
        }
    return out


def expression(sent: Json) -> Json:
    operations = [_operation(o) for o in sent["operations"]]
    out: Json = {
        "label": sent["label"],
        "reference": sent["reference"],
        "root_reference": sent["root_reference"],
        "operations": operations,
        "returns": operations[-1]["returns"] if operations else DEFAULT_RETURNS,
    }
    if "else_branch" in sent:
        out["else_branch"] = {"result": binding(sent["else_branch"]["result"])}
    return out


def step(sent: Json) -> Json:
    out: Json = {
        "id": sent["id"],
        "name": sent["name"],
        "label": label(sent["name"]),
        "param_bindings": [binding(b) for b in sent["param_bindings"]],
    }
    if "for_each" in sent:
        out["for_each"] = sent["for_each"]
    return out


def form_field(ctx: Ctx, sent: Json) -> Json:
    return {
        "id": sent.get("id") or ctx.store.ids.ulid(),
        "array": sent.get("array", False),
        "required": sent.get("required", False),
        **{k: sent[k] for k in ("key", "title", "type", "description") if k in sent},
    }


def _scope(body: Json, current: Json | None) -> tuple[str, bool]:
    """(private_incident_scope, include_private_incidents): the scope decides; the deprecated flag may be
    sent alone (true -> all, false -> none) or with the scope when they agree."""
    scope = body.get("private_incident_scope")
    flag = body.get("include_private_incidents")
    if scope is None:
        if flag is not None:
            scope = "all" if flag else "none"
        else:
            scope = current["private_incident_scope"] if current is not None else "none"
    elif flag is not None and flag != (scope != "none"):
        raise ValidationFailed.invalid(
            "include_private_incidents", f"contradicts private_incident_scope {scope!r}"
        )
    return scope, scope != "none"


def build(ctx: Ctx, body: Json, current: Json | None) -> Json:
    """The stored workflow: the answer's shape, plus the annotations its management_meta answers."""
    scope, include = _scope(body, current)
    row: Json = dict(current) if current is not None else {"id": ctx.store.ids.ulid(), "version": 0}
    if current is None:
        row["trigger"] = {"name": body["trigger"], "label": label(body["trigger"])}
        row.setdefault("include_private_escalations", False)
        row.setdefault("state", "active")
        row.setdefault("auto_run_mode", "run_automatically")
    row.update((k, body[k]) for k in PLAIN if k in body)
    row["once_for"] = [
        {"key": k, "label": label(k), "type": "String", "array": False} for k in body["once_for"]
    ]
    row["condition_groups"] = condition_groups(body["condition_groups"])
    row["steps"] = [step(s) for s in body["steps"]]
    row["expressions"] = [expression(e) for e in body["expressions"]]
    if "form_fields" in body:
        row["form_fields"] = [form_field(ctx, f) for f in body["form_fields"]]
    row["private_incident_scope"], row["include_private_incidents"] = scope, include
    annotations: Json = body["annotations"] if "annotations" in body else row.get("annotations", {})
    row["annotations"] = dict(annotations)
    row["version"] += 1
    return row


def answer(ctx: Ctx, row: Json) -> Json:
    """The workflow in its schema, and its management_meta from the annotations kept with it."""
    workflow = ctx.store.answer(TABLE, row)
    annotations = row.get("annotations", {})
    managed_by = (
        "terraform" if any(k.startswith("incident.io/terraform") for k in annotations) else "dashboard"
    )
    return {"workflow": workflow, "management_meta": {"annotations": annotations, "managed_by": managed_by}}


def create(ctx: Ctx, body: Json) -> Reply:
    return answer(ctx, ctx.store.put(TABLE, build(ctx, body, None))), 201


def show(ctx: Ctx, id: str, skip_step_upgrades: bool | None = None) -> Reply:
    return answer(ctx, ctx.store.get(TABLE, id)), 200


def update(ctx: Ctx, id: str, body: Json) -> Reply:
    with ctx.store.lock:
        current = ctx.store.get(TABLE, id)
        return answer(ctx, ctx.store.put(TABLE, build(ctx, body, current))), 200


OPERATIONS: dict[str, Callable[..., Any]] = {
    "Workflows V2#CreateWorkflow": create,
    "Workflows V2#ShowWorkflow": show,
    "Workflows V2#UpdateWorkflow": update,
}
