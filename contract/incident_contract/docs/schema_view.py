"""Renders JSON Schemas (as OpenAPI 3.0 writes them) as readable type labels and property tables.

Named schemas link to their entry in the schema section of the reference page, so nothing is inlined
twice and recursive schemas cannot loop.
"""

from __future__ import annotations

from typing import Any

from incident_contract.docs.markup import Spec, esc, markdown, schema_anchor
from incident_contract.refs import ref_name

__all__ = ["constraint_notes", "properties_table", "schema_section", "type_label"]

_CONSTRAINTS = (
    ("minimum", "minimum"),
    ("maximum", "maximum"),
    ("minLength", "min length"),
    ("maxLength", "max length"),
    ("minItems", "min items"),
    ("maxItems", "max items"),
    ("pattern", "pattern"),
    ("default", "default"),
)


def type_label(schema: dict[str, Any]) -> str:
    """A one-line HTML type: a link for a named schema, 'array of X', 'string (date-time)', ..."""
    if "$ref" in schema:
        name = ref_name(str(schema["$ref"]))
        return f'<a class="schema-ref" href="#{esc(schema_anchor(name))}">{esc(name)}</a>'
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return "array of " + type_label(schema.get("items", {}))
    extra = schema.get("additionalProperties")
    if kind == "object" and isinstance(extra, dict) and "properties" not in schema:
        return "map of " + type_label(extra)
    label = esc(kind)
    if "format" in schema:
        label += f" ({esc(schema['format'])})"
    if schema.get("nullable"):
        label += " or null"
    return label


def constraint_notes(schema: dict[str, Any]) -> str:
    """Enum values and constraints of a schema (or of its array items) as a small line of text."""
    parts: list[str] = []
    target = schema.get("items", schema) if schema.get("type") == "array" else schema
    if "enum" in target:
        parts.append("one of " + ", ".join(f"<code>{esc(v)}</code>" for v in target["enum"]))
    for key, label in _CONSTRAINTS:
        if key in schema:
            parts.append(f"{label} <code>{esc(schema[key])}</code>")
    if schema.get("readOnly"):
        parts.append("read-only")
    return f'<p class="notes">{"; ".join(parts)}</p>' if parts else ""


def properties_table(schema: dict[str, Any]) -> str:
    """A table of an object schema's properties; nested inline objects get a nested table."""
    props: dict[str, Any] = schema.get("properties", {})
    if not props:
        return ""
    required = set(schema.get("required", []))
    rows = []
    for name, prop in props.items():
        nested = prop.get("items", prop) if prop.get("type") == "array" else prop
        inner = properties_table(nested) if "properties" in nested and "$ref" not in nested else ""
        rows.append(
            f"<tr><td><code>{esc(name)}</code></td><td>{type_label(prop)}</td>"
            f"<td>{'required' if name in required else 'optional'}</td>"
            f"<td>{markdown(prop.get('description'))}{constraint_notes(prop)}{inner}</td></tr>"
        )
    closed = (
        ' <span class="closed">no other properties</span>'
        if schema.get("additionalProperties") is False
        else ""
    )
    head = "<tr><th>property</th><th>type</th><th>presence</th><th>description</th></tr>"
    return f'<table class="properties">{head}{"".join(rows)}</table>{closed}'


def schema_section(spec: Spec) -> str:
    """Every named schema of components.schemas, each with a stable anchor."""
    parts = ['<section class="schemas" id="schemas"><h2>Schemas</h2>']
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        parts.append(
            f'<article class="schema" id="{esc(schema_anchor(name))}"><h3>{esc(name)}</h3>'
            f"<p>{type_label(schema) if 'properties' not in schema else 'object'}</p>"
            f"{markdown(schema.get('description'))}{constraint_notes(schema)}{properties_table(schema)}</article>"
        )
    parts.append("</section>")
    return "".join(parts)
