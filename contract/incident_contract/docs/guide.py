"""The guide page: the contract's own prose (``info.description``) split into its sections, plus tables
built from ``x-api-key-roles``, the operations' ``x-rbac-scopes`` and the shared error responses.

Nothing here states a rule of the contract: the text and the tables come from the document, so the guide
changes when the contract does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from incident_contract.access import role_scopes, roles_granting
from incident_contract.docs.markup import Spec, esc, markdown, slug
from incident_contract.facts import error_types
from incident_contract.operations import operations
from incident_contract.refs import resolve

__all__ = ["guide_sections"]

_ROLES_EXTENSION = "x-api-key-roles"


def _prose_sections(text: str) -> list[tuple[str, str]]:
    """Split Markdown at its level-2 headings: [(title, body)], the text before the first one titled ''."""
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in text.splitlines():
        if line.startswith("## "):
            sections.append((line[3:].strip(), []))
        else:
            sections[-1][1].append(line)
    return [(title, "\n".join(lines).strip()) for title, lines in sections if title or "".join(lines).strip()]


def _codes(names: Iterable[str]) -> str:
    return ", ".join(f"<code>{esc(name)}</code>" for name in names)


def _op_link(op_id: str) -> str:
    return f'<a href="index.html#{esc(slug(op_id))}">{esc(op_id)}</a>'


def _uses(spec: Spec, scope: str, needed_by: list[str]) -> str:
    """The operations that require a scope; for a scope none requires, those whose description names it
    (a scope such as incidents.view_private changes what an operation shows rather than allowing it)."""
    if needed_by:
        return ", ".join(_op_link(o) for o in needed_by)
    shown = [op.id for op in operations(spec).values() if scope in str(op.raw.get("description", ""))]
    if not shown:
        return "none"
    return "required by none; changes what these show: " + ", ".join(_op_link(o) for o in shown)


def _roles_table(spec: Spec) -> str:
    """Each role with its description and scopes, then each scope with its roles and operations."""
    roles = spec.get(_ROLES_EXTENSION, {})
    rows = "".join(
        f'<tr id="role-{esc(slug(name))}"><td><code class="role">{esc(name)}</code></td>'
        f"<td>{markdown(entry.get('description'))}</td>"
        f"<td>{_codes(entry.get('scopes', []))}</td></tr>"
        for name, entry in roles.items()
    )
    grants = role_scopes(spec)
    needed: dict[str, list[str]] = {}
    for op in operations(spec).values():
        for scope in op.scopes:
            needed.setdefault(scope, []).append(op.id)
    scope_rows = "".join(
        f"<tr><td><code>{esc(scope)}</code></td>"
        f"<td>{_codes(roles_granting(spec, scope)) or 'none'}</td>"
        f"<td>{_uses(spec, scope, needed.get(scope, []))}</td></tr>"
        for scope in sorted(set(needed).union(*grants.values()))
    )
    return (
        f"<p>From the <code>{_ROLES_EXTENSION}</code> extension of the contract.</p>"
        f'<table class="roles"><tr><th>role</th><th>description</th><th>scopes</th></tr>{rows}</table>'
        '<table class="scopes-table"><tr><th>scope (<code>x-rbac-scopes</code>)</th><th>granted by</th>'
        f"<th>operations that need it</th></tr>{scope_rows}</table>"
    )


def _error_responses(spec: Spec) -> str:
    """Each error status of `x-error-types`: its type, the shared response and what that says."""
    rows = []
    responses: dict[str, Any] = spec.get("components", {}).get("responses", {})
    for status, kind in error_types(spec).items():
        name = spec["x-error-types"][str(status)].get("response")
        response = resolve(spec, responses[name]) if name in responses else {}
        rows.append(
            f"<tr><td>{status}</td><td><code>{esc(kind)}</code></td>"
            f"<td>{f'<code>{esc(name)}</code>' if name else ''}</td>"
            f"<td>{markdown(response.get('description'))}</td></tr>"
        )
    head = "<tr><th>status</th><th>type</th><th>response</th><th>description</th></tr>"
    return (
        "<p>From the <code>x-error-types</code> extension of the contract.</p>"
        f'<table class="error-responses">{head}{"".join(rows)}</table>'
    )


def guide_sections(spec: Spec) -> list[tuple[str, str, str]]:
    """[(anchor, title, html)] for the guide page, in reading order."""
    out: list[tuple[str, str, str]] = []
    roles_placed = False
    for title, body in _prose_sections(spec.get("info", {}).get("description", "")):
        anchor = slug(title) or "introduction"
        out.append((anchor, title or "Introduction", markdown(body)))
        if not roles_placed and _ROLES_EXTENSION in body and _ROLES_EXTENSION in spec:
            out.append(("roles-and-scopes", "Roles and scopes", _roles_table(spec)))
            roles_placed = True
    if not roles_placed and _ROLES_EXTENSION in spec:
        out.append(("roles-and-scopes", "Roles and scopes", _roles_table(spec)))
    if "x-error-types" in spec:
        out.append(("error-responses", "Error types", _error_responses(spec)))
    return out
