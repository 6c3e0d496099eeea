"""The contract's resources, as its top-level `x-resources` declares them.

Each entry declares one resource once; the mock serves it, the conformance suite derives its generic
rules from it and the docs render it, all from this one reading:
- `kind`: what one is called in messages ("severity": `No severity with id ...`);
- `schema`: the component schema of one object; `fixtures`: the mock's fixtures table that seeds it;
- `envelope`: the keys an answer wraps one object (`one`) and a list (`many`) in;
- `operations`: role -> operationId, the roles being `list`, `create`, `show`, `update`, `delete`. Each
  operation's success status is the one its own `responses` document (`Operation.success_status`);
- `fills`: the fields the server fills, and how: `id` (a new id), `now` (the time of the create),
  `touched` (the time of every write), `next` (one above the highest value held, when the body leaves it
  out);
- `order`: the fields a list is sorted by (none: the order the objects were created in);
- `unique`: fields no two objects share (strings ignoring case);
- `references`: field -> {resource, on_delete}: an unknown id is 422 on that field; deleting a
  referenced object is refused (`refuse`, 422 on `id`) or takes the referring objects with it
  (`cascade`);
- `filters`: list query parameters that keep the objects whose field of that name equals the value
  (a filter on a reference field is 422 for an unknown id);
- `pagination`: `after` for a paginated list (`page_size`, `after`, and `pagination_meta` in the answer);
- `cap`: the mock's option bounding how many one organisation holds (`max_rows` when not given);
- `behaviour`: the resource has a behaviour module in the mock, which serves the operations listed.

The fields a client writes are the properties of the create (or update) operation's body schema.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from incident_contract.document import Spec, load_spec
from incident_contract.operations import Operation, operations

__all__ = ["ROLES", "Reference", "Resource", "declared", "packaged", "schema_of"]

Json = dict[str, Any]
ROLES = ("list", "create", "show", "update", "delete")
FILLS = ("id", "now", "touched", "next")
ON_DELETE = ("refuse", "cascade")


@dataclass(frozen=True)
class Reference:
    resource: str  # the referenced resource's key in x-resources
    on_delete: str  # refuse | cascade


@dataclass(frozen=True)
class Resource:
    name: str  # its key in x-resources, e.g. "severities"
    kind: str
    schema: str
    fixtures: str
    one: str
    many: str
    operations: dict[str, str]  # role -> operationId
    fills: dict[str, str]
    order: tuple[str, ...]
    unique: tuple[str, ...]
    references: dict[str, Reference]
    filters: tuple[str, ...]
    pagination: str | None
    cap: str
    behaviour: str | None
    writable: tuple[str, ...]  # the fields a client writes, from the create/update body schemas
    raw: Json

    @property
    def label(self) -> str:
        """Its name for people: "custom field options"."""
        return self.name.replace("_", " ")

    def operation(self, spec: Spec, role: str) -> Operation:
        return operations(spec)[self.operations[role]]


def _writable(spec: Spec, ops: dict[str, str]) -> tuple[str, ...]:
    found: list[str] = []
    for role in ("create", "update"):
        if role in ops:
            schema = operations(spec)[ops[role]].body_schema or {}
            found += [f for f in schema.get("properties", {}) if f not in found]
    return tuple(found)


def _check(spec: Spec, name: str, entry: Json, names: set[str]) -> None:
    known = operations(spec)
    schemas = spec.get("components", {}).get("schemas", {})
    where = f"x-resources.{name}"
    if entry["schema"] not in schemas:
        raise ValueError(f"{where}.schema: no schema {entry['schema']!r}")
    for role, opid in entry.get("operations", {}).items():
        if role not in ROLES:
            raise ValueError(f"{where}.operations: {role!r} is not one of {ROLES}")
        if opid not in known:
            raise ValueError(f"{where}.operations.{role}: no operation {opid!r}")
    for field, how in entry.get("fills", {}).items():
        if how not in FILLS:
            raise ValueError(f"{where}.fills.{field}: {how!r} is not one of {FILLS}")
    for field, ref in entry.get("references", {}).items():
        if ref["resource"] not in names or ref.get("on_delete", "refuse") not in ON_DELETE:
            raise ValueError(f"{where}.references.{field}: {ref!r}")


_MEMO: dict[int, tuple[Spec, dict[str, Resource]]] = {}


def declared(spec: Spec) -> dict[str, Resource]:
    """name -> Resource, in document order; a declaration naming what the contract lacks is a ValueError.

    Memoised per document, like `operations`: the mock asks for every store it builds."""
    hit = _MEMO.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    found = _read(spec)
    _MEMO[id(spec)] = (spec, found)
    return found


def _read(spec: Spec) -> dict[str, Resource]:
    entries: dict[str, Json] = spec.get("x-resources", {})
    found = {}
    for name, entry in entries.items():
        _check(spec, name, entry, set(entries))
        ops = dict(entry.get("operations", {}))
        envelope = entry.get("envelope", {})
        found[name] = Resource(
            name=name,
            kind=entry["kind"],
            schema=entry["schema"],
            fixtures=entry.get("fixtures", name),
            one=envelope.get("one", ""),
            many=envelope.get("many", name),
            operations=ops,
            fills=dict(entry.get("fills", {})),
            order=tuple(entry.get("order", ())),
            unique=tuple(entry.get("unique", ())),
            references={
                field: Reference(ref["resource"], ref.get("on_delete", "refuse"))
                for field, ref in entry.get("references", {}).items()
            },
            filters=tuple(entry.get("filters", ())),
            pagination=entry.get("pagination"),
            cap=entry.get("cap", "max_rows"),
            behaviour=entry.get("behaviour"),
            writable=_writable(spec, ops),
            raw=entry,
        )
    return found


@functools.cache
def packaged() -> dict[str, Resource]:
    """The declarations of the packaged contract, read once."""
    return declared(load_spec())


def schema_of(spec: Spec) -> dict[str, str]:
    """fixtures table -> the schema each of its objects must match, for every declared resource the mock
    seeds from a table of its own (a resource with a behaviour module seeds itself)."""
    return {r.fixtures: r.schema for r in declared(spec).values() if r.behaviour is None}
