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
  out), `actor` (the calling API key, as an actor: `{"api_key": {"id", "name"}}`), `version` (1 on create,
  one more on every update);
- `defaults`: field -> the value a create whose body leaves the field out gets;
- `embeds`: field -> {from, resource}: the answer's field is the object of `resource` whose id the stored
  field `from` holds (left out while `from` is unset);
- `table`: another resource whose objects this one shares (a deprecated version served over its
  successor's state): reads and writes go to that table, answered in this resource's own schema;
- `webhooks`: create/update/delete -> the event type each sends (`x-webhooks`); `{visibility}` in it is
  `public` or `private`, after the incident the object's `incident_id` names (a private one's message
  carries the object's id only);
- `order`: the fields a list is sorted by (none: the order the objects were created in);
- `unique`: fields no two objects share (strings ignoring case);
- `references`: field -> {resource, on_delete}: an unknown id is 422 on that field; deleting a
  referenced object is refused (`refuse`, 422 on `id`) or takes the referring objects with it
  (`cascade`);
- `filters`: list query parameters that keep the objects whose field of that name equals the value
  (a filter on a reference field is 422 for an unknown id);
- `pagination`: `after` for a paginated list (`page_size`, `after`, and `pagination_meta` in the answer);
- `cap`: the mock's option bounding how many one organisation holds (`max_rows` when not given);
- `behaviour`: the resource has a behaviour module in the mock, which serves the operations listed;
- `storage`: where its objects live: `engine` (a table of the engine's store, seeded from `fixtures`: the
  default without a behaviour, and what a behaviour serving its operations over the engine's table
  declares) or `behaviour` (the behaviour module keeps them itself and seeds itself: the default with
  one).

The fields a client writes are the properties of the create (or update) operation's body schema. An
answer holds the schema's properties only (a stored field it lacks, such as `assignee_id`, is not
answered), and a required property the object lacks is answered with the schema's least value for it
(`blank`). Path parameters other than the object's id (`/v2/schedules/{schedule_id}/replicas/{id}`) name
stored fields of the same name: a list keeps the objects holding the value, a create stores it, and an
object holding another value is not found.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import Any

from incident_contract.document import Spec, load_spec
from incident_contract.operations import Operation, operations

__all__ = ["ROLES", "Embed", "Reference", "Resource", "blank_of", "declared", "packaged", "schema_of"]

Json = dict[str, Any]
ROLES = ("list", "create", "show", "update", "delete")
FILLS = ("id", "now", "touched", "next", "actor", "version")
ON_DELETE = ("refuse", "cascade")
STORAGE = ("engine", "behaviour")


@dataclass(frozen=True)
class Reference:
    resource: str  # the referenced resource's key in x-resources
    on_delete: str  # refuse | cascade


@dataclass(frozen=True)
class Embed:
    source: str  # the stored field holding the id
    resource: str  # the declared resource the id names


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
    table: str = ""  # where its objects live: its own name, or the resource it shares them with
    defaults: Json = field(default_factory=dict)
    embeds: dict[str, Embed] = field(default_factory=dict)
    webhooks: dict[str, str] = field(default_factory=dict)  # create | update | delete -> event type
    properties: tuple[str, ...] = ()  # the schema's properties: what an answer holds (none: all)
    blank: Json = field(default_factory=dict)  # required property -> its least value
    storage: str = "engine"  # engine: a table of the engine's store; behaviour: the behaviour's own

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
    for filled, how in entry.get("fills", {}).items():
        if how not in FILLS:
            raise ValueError(f"{where}.fills.{filled}: {how!r} is not one of {FILLS}")
    for name_, ref in entry.get("references", {}).items():
        if ref["resource"] not in names or ref.get("on_delete", "refuse") not in ON_DELETE:
            raise ValueError(f"{where}.references.{name_}: {ref!r}")
    for name_, embed in entry.get("embeds", {}).items():
        if embed["resource"] not in names or not isinstance(embed.get("from"), str):
            raise ValueError(f"{where}.embeds.{name_}: {embed!r}")
    if entry.get("storage", "engine") not in STORAGE:
        raise ValueError(f"{where}.storage: {entry['storage']!r} is not one of {STORAGE}")
    if entry.get("table", name) not in names:
        raise ValueError(f"{where}.table: no resource {entry['table']!r}")
    events = {key[len("/x-webhooks/") :] for key in spec.get("x-webhooks", {})}
    for change, event in entry.get("webhooks", {}).items():
        named = {event.format(visibility=v) for v in ("public", "private")}
        if change not in ("create", "update", "delete") or not named <= events:
            raise ValueError(f"{where}.webhooks.{change}: {event!r} is not an event of x-webhooks")


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
            table=entry.get("table", name),
            storage=entry.get("storage", "behaviour" if entry.get("behaviour") else "engine"),
            defaults=dict(entry.get("defaults", {})),
            embeds={k: Embed(e["from"], e["resource"]) for k, e in entry.get("embeds", {}).items()},
            webhooks=dict(entry.get("webhooks", {})),
            properties=tuple(_schema(spec, entry["schema"]).get("properties", {})),
            blank={
                k: blank_of(spec, s)
                for k, s in _schema(spec, entry["schema"]).get("properties", {}).items()
                if k in _schema(spec, entry["schema"]).get("required", ())
            },
        )
    for name, resource in found.items():  # a view with no writes of its own writes what its table's do
        if resource.table != name and not resource.writable:
            found[name] = replace(resource, writable=found[resource.table].writable)
    return found


def _schema(spec: Spec, name: str) -> Json:
    found: Json = spec["components"]["schemas"][name]
    return found


def blank_of(spec: Spec, schema: Json, depth: int = 0) -> Any:
    """The least value a schema allows: its first enum value, an empty string (or `minLength` spaces), the
    minimum number, false, an empty (or `minItems`-long) array, an object of its required properties."""
    while "$ref" in schema:
        schema = _schema(spec, schema["$ref"].rsplit("/", 1)[-1])
    for key in ("allOf", "oneOf", "anyOf"):
        if key in schema:
            parts = [blank_of(spec, part, depth + 1) for part in schema[key]]
            merged = {k: v for part in parts if isinstance(part, dict) for k, v in part.items()}
            return merged if key == "allOf" or all(isinstance(p, dict) for p in parts) else parts[0]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "string":
        if schema.get("format") == "date-time":
            return "1970-01-01T00:00:00Z"
        return " " * int(schema.get("minLength", 0))
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    if kind == "array":
        count = int(schema.get("minItems", 0))
        return [blank_of(spec, schema.get("items", {}), depth + 1) for _ in range(count)] if depth < 8 else []
    required = schema.get("required", ())
    props = schema.get("properties", {})
    return {k: blank_of(spec, props[k], depth + 1) for k in required if k in props} if depth < 8 else {}


@functools.cache
def packaged() -> dict[str, Resource]:
    """The declarations of the packaged contract, read once."""
    return declared(load_spec())


def schema_of(spec: Spec) -> dict[str, str]:
    """fixtures table -> the schema each of its objects must match, for every declared resource the mock
    seeds from a table of its own (a behaviour module keeping its objects itself seeds itself)."""
    return {
        r.fixtures: r.schema for r in declared(spec).values() if r.storage == "engine" and r.table == r.name
    }
