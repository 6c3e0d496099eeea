"""Escalation paths: creates and updates turn the nodes a client writes into the nodes the API answers.

A branch's conditions are written with strings (`subject`, `operation`, bindings of `literal` or
`reference`) and answered as objects with labels, so the path is stored in its answered shape; the
engine lists and shows it (x-resources). Nothing else about a path is checked: node ids, the nodes a
`repeat` names and the targets are the client's to keep consistent; a path nested more than
`MAX_NESTING` levels deep is 422.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from incident_mock.domain.errors import ValidationFailed
from incident_mock.engine.context import Ctx, Json, Reply
from incident_mock.resources.oncall.oncall_tables import put, remove

__all__ = ["OPERATIONS"]

MAX_DEPTH = 16  # branches within branches, as answered
# levels of JSON nesting in a path as written: room for MAX_DEPTH branches (three levels each) and their
# levels, and far from the depth past which an answer cannot be encoded
MAX_NESTING = 100
FIELDS = ("name", "team_ids", "repeat_config", "working_hours")


def _value(given: Json) -> Json:
    out: Json = {"label": str(given.get("literal") or given.get("reference") or "")}
    out.update((k, given[k]) for k in ("literal", "reference") if k in given)
    return out


def _binding(given: Json) -> Json:
    out: Json = {}
    if isinstance(given.get("value"), dict):
        out["value"] = _value(given["value"])
    if isinstance(given.get("array_value"), list):
        out["array_value"] = [_value(v) for v in given["array_value"] if isinstance(v, dict)]
    return out


def _condition(given: Any) -> Json:
    if not isinstance(given, dict):
        return {}
    subject, operation = str(given.get("subject", "")), str(given.get("operation", ""))
    return {
        "subject": {"label": subject, "reference": subject},
        "operation": {"label": operation, "value": operation},
        "param_bindings": [_binding(b) for b in given.get("param_bindings", []) if isinstance(b, dict)],
    }


def _node(given: Any, depth: int) -> Any:
    if not isinstance(given, dict):
        return given
    node = dict(given)
    branch = node.get("if_else")
    if isinstance(branch, dict) and depth < MAX_DEPTH:
        node["if_else"] = {
            "conditions": [_condition(c) for c in branch.get("conditions", [])],
            "then_path": [_node(n, depth + 1) for n in branch.get("then_path", [])],
            "else_path": [_node(n, depth + 1) for n in branch.get("else_path", [])],
        }
    return node


def _nesting(value: Any) -> int:
    """How deep lists and objects are nested in `value` (without recursing)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _row(body: Json, current: Json | None, new_id: str) -> Json:
    if _nesting(body.get("path")) > MAX_NESTING:
        raise ValidationFailed.invalid("path", f"is nested more than {MAX_NESTING} levels deep")
    row: Json = dict(current) if current is not None else {"id": new_id, "kind": "standalone", "team_ids": []}
    row.update((k, body[k]) for k in FIELDS if k in body)
    if "path" in body or current is None:
        row["path"] = [_node(n, 0) for n in body.get("path", [])]
    return row


def create(ctx: Ctx, body: Json) -> Reply:
    with ctx.store.lock:
        row = put(ctx.store, "escalation_paths", _row(body, None, ctx.store.ids.ulid()))
    return {"escalation_path": ctx.store.answer("escalation_paths", row)}, 201


def update(ctx: Ctx, id: str, body: Json) -> Reply:
    with ctx.store.lock:
        current = ctx.store.get("escalation_paths", id)
        row = put(ctx.store, "escalation_paths", _row(body, current, id))
    return {"escalation_path": ctx.store.answer("escalation_paths", row)}, 200


def destroy(ctx: Ctx, id: str) -> Reply:
    remove(ctx.store, "escalation_paths", id)
    return None, 204


OPERATIONS: dict[str, Callable[..., Reply]] = {
    "Escalations V2#CreatePath": create,
    "Escalations V2#UpdatePath": update,
    "Escalations V2#DestroyPath": destroy,
}
