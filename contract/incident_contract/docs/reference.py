"""The reference part of the site: one <section class="operation"> per operation of the contract.

Each section shows method, path, summary, description, the scopes from ``x-rbac-scopes`` with the roles
of ``x-api-key-roles`` that grant them, parameters, request body, every response and every example.
"""

from __future__ import annotations

from typing import Any

from incident_contract.access import roles_granting
from incident_contract.docs.markup import Spec, esc, json_block, markdown, slug
from incident_contract.docs.schema_view import constraint_notes, properties_table, type_label
from incident_contract.operations import operations
from incident_contract.refs import resolve

__all__ = ["operation_section", "operations_by_tag", "parameters_table", "properties_of"]


def operations_by_tag(spec: Spec) -> dict[str, list[str]]:
    """Tag name -> operationIds, tags in document order, untagged operations last."""
    groups: dict[str, list[str]] = {tag["name"]: [] for tag in spec.get("tags", [])}
    for op_id, op in ((o.id, o.raw) for o in operations(spec).values()):
        groups.setdefault((op.get("tags") or ["Other"])[0], []).append(op_id)
    return {tag: ids for tag, ids in groups.items() if ids}


def _scopes(spec: Spec, op: dict[str, Any]) -> str:
    scopes: list[str] = op.get("x-rbac-scopes", [])
    security: list[dict[str, list[str]]] = op.get("security", spec.get("security")) or []
    schemes = sorted({name for requirement in security for name in requirement})
    auth = ", ".join(f"<code>{esc(name)}</code>" for name in schemes) or "none"
    if not scopes:
        if not security:
            who = " (no credentials needed)"
        elif "x-api-key-roles" in spec:  # a document with key roles: here any key will do
            who = " (any valid API key; no scope needed)"
        else:
            who = ""  # the scheme's own description says what it takes
        return f'<div class="scopes"><p>Authentication: {auth}{who}.</p></div>'
    items = []
    for scope in scopes:
        roles = ", ".join(f'<code class="role">{esc(r)}</code>' for r in roles_granting(spec, scope))
        items.append(f'<li><code class="scope">{esc(scope)}</code>, granted by {roles or "no role"}</li>')
    listing = "".join(items)
    return f'<div class="scopes"><p>Authentication: {auth}. Required scopes:</p><ul>{listing}</ul></div>'


def parameters_table(params: tuple[dict[str, Any], ...], title: str = "Parameters") -> str:
    """Parameters (resolved, as `Operation.parameters` holds them), one table row each, under `title`."""
    if not params:
        return ""
    rows = []
    for p in params:
        schema = p.get("schema", {})
        style = f" <small>({esc(p['style'])})</small>" if "style" in p else ""
        rows.append(
            f"<tr><td><code>{esc(p['name'])}</code></td><td>{esc(p['in'])}{style}</td>"
            f"<td>{'required' if p.get('required') else 'optional'}</td><td>{type_label(schema)}</td>"
            f"<td>{markdown(p.get('description'))}{constraint_notes(schema)}{properties_table(schema)}</td></tr>"
        )
    head = "<tr><th>name</th><th>in</th><th>presence</th><th>type</th><th>description</th></tr>"
    return f'<h4>{esc(title)}</h4><table class="parameters">{head}{"".join(rows)}</table>'


def _examples(spec: Spec, media: dict[str, Any]) -> str:
    out = []
    if "example" in media:
        out.append(json_block(media["example"]))
    for name, ex in media.get("examples", {}).items():
        ex = resolve(spec, ex)
        title = ex.get("summary") or name
        out.append(f'<p class="example-title">{esc(title)}</p>{json_block(ex.get("value"))}')
    return f'<div class="examples"><p>Example:</p>{"".join(out)}</div>' if out else ""


def properties_of(spec: Spec, schema: dict[str, Any]) -> str:
    """The property table of a schema, its `$ref`s followed."""
    return properties_table(resolve(spec, schema))


def _content(spec: Spec, content: dict[str, Any], inline_table: bool) -> str:
    parts = []
    for media_type, media in content.items():
        schema = media.get("schema", {})
        table = properties_of(spec, schema) if inline_table else ""
        parts.append(
            f'<p class="media"><code>{esc(media_type)}</code>: {type_label(schema)}</p>'
            f"{table}{_examples(spec, media)}"
        )
    return "".join(parts)


def _request_body(spec: Spec, op: dict[str, Any]) -> str:
    if "requestBody" not in op:
        return ""
    body = resolve(spec, op["requestBody"])
    presence = "required" if body.get("required") else "optional"
    return (
        f'<h4>Request body <small>({presence})</small></h4><div class="request-body">'
        f"{markdown(body.get('description'))}{_content(spec, body.get('content', {}), True)}</div>"
    )


def _responses(spec: Spec, op: dict[str, Any]) -> str:
    """Every status with its description; details (headers, schema, example) fold away, success open."""
    parts = ["<h4>Responses</h4>"]
    for status, raw in op.get("responses", {}).items():
        response = resolve(spec, raw)
        headers = "".join(
            f"<li><code>{esc(name)}</code>: {esc(resolve(spec, header).get('description', ''))}</li>"
            for name, header in response.get("headers", {}).items()
        )
        is_open = " open" if status.startswith("2") else ""
        summary = esc(response.get("description", "").split("\n")[0])
        parts.append(
            f'<details class="response" data-status="{esc(status)}"{is_open}><summary>'
            f'<span class="status">{esc(status)}</span> {summary}</summary>'
            f"{markdown(response.get('description'))}"
            f"{f'<p>Headers:</p><ul>{headers}</ul>' if headers else ''}"
            f"{_content(spec, response.get('content', {}), False)}</details>"
        )
    return "".join(parts)


def operation_section(spec: Spec, op_id: str) -> str:
    found = operations(spec)[op_id]
    method, path, op = found.method, found.path, found.raw
    return (
        f'<section class="operation" id="{esc(slug(op_id))}" data-operation-id="{esc(op_id)}">'
        f'<h3><span class="method method-{esc(method.lower())}">{esc(method)}</span> '
        f'<code class="path">{esc(path)}</code></h3>'
        f'<p class="summary">{esc(op.get("summary", ""))}</p>'
        f'<p class="operation-id">operationId <code>{esc(op_id)}</code></p>'
        f'<div class="description">{markdown(op.get("description"))}</div>'
        f"<h4>Scopes</h4>{_scopes(spec, op)}{parameters_table(found.parameters)}{_request_body(spec, op)}"
        f"{_responses(spec, op)}</section>"
    )
