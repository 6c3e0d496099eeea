"""The resources page: each resource the contract declares in `x-resources`, rendered from its declaration.

One section per resource: the operations that form it (with the success status each one documents), the
envelope of its answers, the schema of one object, the fields the server fills, its order, uniqueness,
references (and what deleting a referenced object does), filters, pagination, the mock's cap and fixtures
table, and which resources refer to it. Nothing is written here by hand: a new declaration is a new section.
"""

from __future__ import annotations

from incident_contract.docs.markup import Spec, esc, schema_anchor, slug
from incident_contract.operations import operations
from incident_contract.resources import ROLES, Resource, declared

__all__ = ["PAGE", "has_resources", "resource_sections"]

PAGE = "resources.html"
FILLS = {
    "id": "a new id",
    "now": "the time of the create",
    "touched": "the time of every write",
    "next": "one above the highest held, when the body leaves it out",
    "actor": "the API key that created it",
    "version": "1 on create, one more on every update",
}
ON_DELETE = {"refuse": "deleting it is refused (422 on id)", "cascade": "deleting it deletes these too"}


def has_resources(spec: Spec) -> bool:
    return bool(spec.get("x-resources"))


def _code(text: str) -> str:
    return f"<code>{esc(text)}</code>"


def _rows(rows: list[tuple[str, str]]) -> str:
    return "<table>" + "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _operations(spec: Spec, resource: Resource) -> str:
    ops = operations(spec)
    out = ["<table><tr><th>role</th><th>operation</th><th>success</th></tr>"]
    for role in ROLES:
        if role in resource.operations:
            op = ops[resource.operations[role]]
            link = f'<a href="index.html#{esc(slug(op.id))}">{esc(op.method)} {esc(op.path)}</a>'
            out.append(f"<tr><td>{esc(role)}</td><td>{link}</td><td>{op.success_status}</td></tr>")
    out.append("</table>")
    return "".join(out) if resource.operations else "<p>No operations: seeded from the fixtures only.</p>"


def _section(spec: Spec, resource: Resource, all_resources: dict[str, Resource]) -> str:
    schema = f'<a href="index.html#{esc(schema_anchor(resource.schema))}">{esc(resource.schema)}</a>'
    envelope = ", ".join(_code(k) for k in (resource.one, resource.many) if k and resource.operations)
    rows: list[tuple[str, str]] = [("kind", esc(resource.kind)), ("schema", schema)]
    if envelope:
        rows.append(("envelope", envelope))
    if resource.behaviour:
        kept = "over the engine's table" if resource.storage == "engine" else "which keeps the objects itself"
        rows.append(
            ("behaviour", f"served by the mock's behaviour module {_code(resource.behaviour)}, {kept}")
        )
    if resource.table != resource.name:
        shared = f'<a href="#{esc(slug(resource.table))}">{esc(resource.table)}</a>'
        rows.append(("objects", f"the same objects as {shared}, answered in this schema"))
    if resource.writable:
        rows.append(("written by clients", ", ".join(_code(f) for f in resource.writable)))
    if resource.fills:
        rows.append(
            (
                "filled by the server",
                "; ".join(f"{_code(f)}: {esc(FILLS[h])}" for f, h in resource.fills.items()),
            )
        )
    if resource.defaults:
        rows.append(
            ("defaults", "; ".join(f"{_code(f)}: {_code(repr(v))}" for f, v in resource.defaults.items()))
        )
    for field, embed in resource.embeds.items():
        held = f'<a href="#{esc(slug(embed.resource))}">{esc(embed.resource)}</a>'
        rows.append((f"embeds {field}", f"the {held} object {_code(embed.source)} names"))
    if resource.webhooks:
        rows.append(("webhooks", "; ".join(f"{esc(c)}: {_code(e)}" for c, e in resource.webhooks.items())))
    rows.append(("order", ", ".join(_code(f) for f in resource.order) or "the order of creation"))
    if resource.unique:
        rows.append(("unique", ", ".join(_code(f) for f in resource.unique) + " (strings ignoring case)"))
    for field, ref in resource.references.items():
        target = all_resources[ref.resource]
        link = f'<a href="#{esc(slug(target.name))}">{esc(target.name)}</a>'
        rule = f"an unknown id is 422 on {_code(field)}; {esc(ON_DELETE[ref.on_delete])}"
        rows.append((f"reference {field}", f"{link}: {rule}"))
    referrers = [f"{_code(o.name + '.' + f)}" for o in all_resources.values() for f, r in o.references.items()
                 if r.resource == resource.name]  # fmt: skip
    if referrers:
        rows.append(("referred to by", ", ".join(referrers)))
    if resource.filters:
        rows.append(("list filters", ", ".join(_code(f) for f in resource.filters)))
    if resource.pagination:
        rows.append(("pagination", f"{_code('page_size')} and {_code('after')}; {_code('pagination_meta')}"))
    mock = f"fixtures table {_code(resource.fixtures)}"
    if resource.storage == "engine":
        mock += f"; at most {_code(resource.cap)} per sandbox (an option of the mock)"
    rows.append(("mock", mock))
    return _operations(spec, resource) + _rows(rows)


def resource_sections(spec: Spec) -> list[tuple[str, str, str]]:
    """(anchor, heading, html) for each declared resource, in document order."""
    found = declared(spec)
    return [(slug(r.name), r.name, _section(spec, r, found)) for r in found.values()]
