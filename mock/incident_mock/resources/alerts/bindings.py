"""Route and source configuration as written (payloads) turned into what the API answers, and the
conditions a route applies to an alert.

A binding value written as `{literal}` or `{reference}` is answered with a `label` (the literal, else the
reference); a condition written as `{subject, operation, param_bindings}` with strings is answered with
`subject: {label, reference}` and `operation: {label, value}`; an expression or expression operation
without `returns` is answered with a plain string result. Subjects and operators outside the ones listed
here are 422, naming the field and the value, so a route never holds a condition the mock cannot apply.
"""

from __future__ import annotations

from typing import Any

from incident_mock.domain.errors import ValidationFailed

__all__ = ["OPERATORS", "answered", "literals", "matches", "subject_values"]

Json = dict[str, Any]
OPERATORS = ("is", "is_not", "one_of", "not_one_of", "contains", "does_not_contain", "starts_with",
             "is_set", "is_blank")  # fmt: skip
SUBJECTS = ("alert.title", "alert.description", "alert.source")
ATTRIBUTE = "alert.attributes."
RETURNS = {"type": "String", "array": False}


def _value(value: Json) -> Json:
    out = {k: value[k] for k in ("literal", "reference") if k in value}
    out["label"] = str(value.get("label") or value.get("literal") or value.get("reference") or "")
    return out


def _subject(subject: str, pointer: str) -> Json:
    if subject in SUBJECTS:
        return {"label": subject.removeprefix("alert.").capitalize(), "reference": subject}
    if subject.startswith(ATTRIBUTE) and len(subject) > len(ATTRIBUTE):
        return {"label": subject.removeprefix(ATTRIBUTE), "reference": subject}
    detail = f"unknown subject {subject[:100]!r}; use {', '.join(SUBJECTS)} or {ATTRIBUTE}<alert attribute id>"
    raise ValidationFailed.invalid("subject", detail, pointer)


def _operation(operation: str, pointer: str) -> Json:
    if operation not in OPERATORS:
        detail = f"unsupported operator {operation[:100]!r}; the mock applies {', '.join(OPERATORS)}"
        raise ValidationFailed.invalid("operation", detail, pointer)
    return {"label": operation.replace("_", " "), "value": operation}


def answered(node: Any, pointer: str = "") -> Any:
    """A written configuration as answered (see the module's docstring); the pointer locates a 422."""
    if isinstance(node, list):
        return [answered(item, f"{pointer}/{i}") for i, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    if node and set(node) <= {"literal", "reference", "label"} and ("literal" in node or "reference" in node):
        return _value(node)
    out = {k: answered(v, f"{pointer}/{k}") for k, v in node.items()}
    if isinstance(node.get("subject"), str) and "operation" in node:
        out["subject"] = _subject(node["subject"], f"{pointer}/subject")
    if isinstance(node.get("operation"), str) and "subject" in node:
        out["operation"] = _operation(node["operation"], f"{pointer}/operation")
    if ("operation_type" in node or "root_reference" in node) and "returns" not in node:
        out["returns"] = dict(RETURNS)
    return out


def literals(bindings: list[Json]) -> list[str]:
    """The literal values of a condition's parameter bindings."""
    found: list[str] = []
    for binding in bindings:
        for value in [binding.get("value") or {}, *(binding.get("array_value") or [])]:
            if isinstance(value, dict) and value.get("literal") is not None:
                found.append(str(value["literal"]))
    return found


def subject_values(alert: Json, reference: str) -> list[str]:
    """What a subject (or a grouping key) reads from an alert: its values, empty when unset."""
    if reference == "alert.title":
        return [alert["title"]]
    if reference == "alert.description":
        return [alert["description"]] if alert.get("description") else []
    if reference == "alert.source":
        return [alert["alert_source_id"]]
    if reference.startswith(ATTRIBUTE):
        wanted = reference.removeprefix(ATTRIBUTE)
        for entry in alert.get("attributes", []):
            if entry["attribute"]["id"] == wanted:
                values = [entry.get("value") or {}, *(entry.get("array_value") or [])]
                return [str(v["literal"]) for v in values if v.get("literal") is not None]
    return []


def _holds(condition: Json, alert: Json) -> bool:
    values = subject_values(alert, condition["subject"]["reference"])
    params = literals(condition.get("param_bindings", []))
    op = condition["operation"]["value"]
    if op == "is_set":
        return any(v != "" for v in values)
    if op == "is_blank":
        return not any(v != "" for v in values)
    if op in ("is", "one_of"):
        return any(v in params for v in values)
    if op in ("is_not", "not_one_of"):
        return not any(v in params for v in values)
    if op == "contains":
        return any(p in v for v in values for p in params)
    if op == "does_not_contain":
        return not any(p in v for v in values for p in params)
    return any(v.startswith(p) for v in values for p in params)  # starts_with


def matches(groups: list[Json] | None, alert: Json) -> bool:
    """Condition groups (as answered) hold for an alert: none at all, or any group whose every condition
    holds."""
    if not groups:
        return True
    return any(all(_holds(c, alert) for c in group.get("conditions", [])) for group in groups)
