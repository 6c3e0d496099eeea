"""RES: the generic rules of every resource the contract declares (its top-level `x-resources`).

The declarations say which operations form a resource, the envelope of its answers and the fields that
reference other resources; these rules follow from them alone, so a newly declared resource is checked
without touching this file:
- RES-1: every object a list shows is shown alike by the resource's show, and an unknown id is 404;
- RES-2: a created object is answered with the create's documented status, shows as created and is listed;
- RES-3: an update is what show answers afterwards;
- RES-4: a deleted object is 404, and deleting it again is 404;
- RES-5: an unknown id in a reference field (a create body's, or a list filter's) is 422 naming the field.
Resources with a behaviour of their own (incidents) have rules of their own and are left out here.

Creates, updates and deletes change organisation settings: RES-2 to RES-5 write only with
--allow-settings-writes (without it they note what they left out), name what they create with the
conformance prefix, and delete it again; they only ever update or delete what they created.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from incident_conformance.context import RunContext
from incident_conformance.contract import Contract
from incident_conformance.rules import Finding, Level, Note, expect, found, rule
from incident_conformance.settings import prefixed_name
from incident_conformance.target import Exchange
from incident_contract.refs import resolve
from incident_contract.resources import Resource, declared

UNKNOWN_ID = "conformance-unknown-id"
Json = dict[str, Any]


def plain(contract: Contract, *roles: str) -> list[Resource]:
    """The declared resources served from their declaration that have all of these operations, on paths
    with no parent (`/v2/schedules/{schedule_id}/replicas` needs a parent these rules cannot choose)."""
    return [
        r
        for r in declared(contract.spec).values()
        if r.behaviour is None
        and all(role in r.operations for role in roles)
        and not any(_parents(contract, op) for op in r.operations.values())
        and all(contract.checked(op) for op in r.operations.values())
    ]


def _parents(contract: Contract, op: str) -> list[str]:
    names = [str(p["name"]) for p in contract.ops[op].parameters if p.get("in") == "path"]
    return names[:-1] if contract.ops[op].path.endswith("}") else names


def checked(ctx: RunContext, *roles: str) -> list[Resource]:
    """`plain` resources of the families this run checks, whose operations it may send to this target."""
    return [
        r
        for r in plain(ctx.contract, *roles)
        if all(ctx.checks(r.operations[x]) and ctx.may_write(r.operations[x]) for x in roles)
    ]


def _calls(*roles: str, referring: bool = False) -> Any:
    """The operations a writing rule calls: those of `roles` for every resource it checks, the delete
    that takes back what it made, and the lists that supply reference ids; none without settings writes."""

    def calls(contract: Contract, settings_writes: bool) -> list[str]:
        if not settings_writes:
            return []
        chosen: list[str] = []
        for r in plain(contract, *roles):
            if referring and not r.references:
                continue
            # the delete that takes back what a create made; none for RES-5, whose creates an honest target
            # refuses (what a target makes anyway is deleted, best effort)
            cleanup = () if referring else ("delete",)
            chosen += [r.operations[x] for x in (*roles, *cleanup) if x in r.operations]
            chosen += _reference_lists(contract, r)
        return chosen

    return calls


def _reference_lists(contract: Contract, resource: Resource) -> list[str]:
    resources = declared(contract.spec)
    found = [resources[ref.resource].operations.get("list") for ref in resource.references.values()]
    return [op for op in found if op]


def _one(exchange: Exchange, key: str) -> Json:
    data = exchange.json()
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _many(exchange: Exchange, key: str) -> list[Json]:
    data = exchange.json()
    value = data.get(key) if isinstance(data, dict) else None
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _list(ctx: RunContext, resource: Resource, like: Json | None = None) -> Exchange:
    """The resource's list: its largest page, and each required query parameter filled in: with the value
    `like` holds (the options of one custom field), else a reference with an object that existed before
    the run, else its example."""
    op = resource.operations["list"]
    params: Json = {}
    for param in ctx.contract.ops[op].parameters:
        name = str(param["name"])
        if param.get("in") != "query":
            continue
        if name == "page_size":
            params[name] = param.get("schema", {}).get("maximum", 25)
        elif param.get("required"):
            value = (like or {}).get(name)
            if value is None:
                value = (
                    _reference(ctx, resource, name) if name in resource.references else param.get("example")
                )
            if value is not None:
                params[name] = value
    return ctx.full.request("GET", ctx.path(op), params=params or None)


def _show(ctx: RunContext, resource: Resource, object_id: str) -> Exchange:
    op = resource.operations["show"]
    return ctx.full.request("GET", ctx.path(op, id=object_id))


def _reference(ctx: RunContext, resource: Resource, field_name: str) -> str | None:
    """An id of an object that existed before the run, for a reference field."""
    target = declared(ctx.contract.spec)[resource.references[field_name].resource]
    if "list" not in target.operations:
        return None
    ours = set(ctx.settings.created) if ctx.settings is not None else set()
    for item in _many(_list(ctx, target), target.many):
        if str(item.get("id")) not in ours and not str(item.get("name", "")).startswith("[conformance]"):
            return str(item["id"])
    return None


def _body(ctx: RunContext, resource: Resource, role: str, label: str) -> Json | None:
    """A valid body for a create or update: the required fields, strings prefixed and unique per call; on
    the mock, a body whose required fields cannot all be made so is the operation's documented example
    (which names the mock's own fixtures), its unique fields made unique."""
    made = _required_body(ctx, resource, role, label)
    if made is not None or not ctx.on_mock:
        return made
    media = ctx.contract.ops[resource.operations[role]].raw.get("requestBody", {}).get("content", {})
    example = media.get("application/json", {}).get("example")
    if not isinstance(example, dict):
        return None
    body = copy.deepcopy(example)
    for key in resource.unique:
        if isinstance(body.get(key), str):
            body[key] = prefixed_name(f"{label} {ctx.idempotency_key(resource.name)}", 50)
    return body


def _required_body(ctx: RunContext, resource: Resource, role: str, label: str) -> Json | None:
    op = resource.operations[role]
    schema = ctx.contract.body_schema(op) or {}
    body: Json = {}
    for name in schema.get("required", []):
        prop = resolve(ctx.contract.spec, schema.get("properties", {}).get(name, {}))
        if name in resource.references:
            value = _reference(ctx, resource, name)
            if value is None:
                return None
            body[name] = value
        elif "enum" in prop:
            body[name] = prop["enum"][0]
        elif prop.get("type") == "string":
            body[name] = prefixed_name(f"{label} {ctx.idempotency_key(resource.name)}", prop.get("maxLength"))
        elif prop.get("type") == "integer":
            body[name] = max(1, int(prop.get("minimum", 1)))
        elif prop.get("type") == "boolean":
            body[name] = False
        else:
            return None
    return body


def _matches(sent: Json, got: Json, resource: Resource | None = None) -> bool:
    """The answer holds the fields sent (those its schema answers: `assignee_id` may answer as `assignee`)."""
    answered = set(resource.properties) if resource is not None and resource.properties else None
    return all(got.get(k) == v for k, v in sent.items() if answered is None or k in answered)


class Made:
    """What a create made, deleted again when the rule is done (best effort)."""

    def __init__(self, ctx: RunContext, resource: Resource) -> None:
        self.ctx, self.resource = ctx, resource
        self.ids: list[str] = []

    def create(self, label: str) -> tuple[Json | None, Exchange | None, Json]:
        body = _body(self.ctx, self.resource, "create", label)
        if body is None:
            return None, None, {}
        op = self.resource.operations["create"]
        exchange = self.ctx.full.request("POST", self.ctx.path(op), json_body=body)
        if self.ctx.settings is not None:
            self.ctx.settings.note_exchange(op, exchange)
        made = _one(exchange, self.resource.one)
        if 200 <= exchange.status < 300 and isinstance(made.get("id"), str):
            self.ids.append(made["id"])
        return body, exchange, made

    def delete(self, object_id: str) -> Exchange:
        op = self.resource.operations["delete"]
        exchange = self.ctx.full.request("DELETE", self.ctx.path(op, id=object_id))
        if self.ctx.settings is not None:
            self.ctx.settings.note_exchange(op, exchange, object_id)
        if 200 <= exchange.status < 300 and object_id in self.ids:
            self.ids.remove(object_id)
        return exchange

    def __enter__(self) -> Made:
        return self

    def __exit__(self, *exc: object) -> None:
        if "delete" in self.resource.operations:
            for object_id in list(self.ids):
                self.delete(object_id)


def _writes(ctx: RunContext, resources: list[Resource]) -> Iterator[Finding] | None:
    if not resources:
        return iter([Note("no declared resource has these operations")])
    if not ctx.options.allow_settings_writes:
        names = ", ".join(r.name for r in resources)
        return iter([Note(f"not checked: creates {names} (pass --allow-settings-writes)")])
    return None


def _created(ctx: RunContext, made: Made, label: str) -> Iterator[Finding | Json]:
    """Create one object; yields a failure, or the object made."""
    resource = made.resource
    body, exchange, obj = made.create(label)
    if exchange is None:
        yield Note(f"{resource.name}: no valid create body could be made (a reference with nothing to name)")
        return
    status = ctx.contract.success_status(resource.operations["create"])
    if failure := expect(exchange.status == status and bool(obj.get("id")), f"{resource.name} create",
                         f"{status} with {resource.one}.id", exchange.describe(), exchange.curl):  # fmt: skip
        yield failure
        return
    sent = _matches(body or {}, obj, resource)
    yield from found(expect(sent, f"{resource.name} create", f"the fields sent: {body}", str(obj)[:300],
                            exchange.curl))  # fmt: skip
    yield obj


@rule(
    "RES-1",
    Level.MUST,
    "listed_objects_show_as_listed",
    "For every declared resource with a list and a show: each listed object is shown alike by its id, and "
    "an id the organisation does not have is 404.",
    calls=lambda contract, _: [
        r.operations[x] for r in plain(contract, "list", "show") for x in ("list", "show")
    ],
)
def listed_show(ctx: RunContext) -> Iterator[Finding]:
    for resource in checked(ctx, "list", "show"):
        listed = _list(ctx, resource)
        if failure := expect(
            listed.status == 200, f"{resource.name} list", "200", listed.describe(), listed.curl
        ):
            yield failure
            continue
        for item in _many(listed, resource.many)[:5]:
            shown = _show(ctx, resource, str(item.get("id")))
            yield from found(expect(shown.status == 200 and _one(shown, resource.one) == item,
                                    f"{resource.name} show {item.get('id')}", f"200 with {item}"[:300],
                                    shown.describe(), shown.curl))  # fmt: skip
        missing = _show(ctx, resource, UNKNOWN_ID)
        yield from found(ctx.expect_error(missing, f"{resource.name} show of an unknown id", 404))


@rule(
    "RES-2",
    Level.MUST,
    "created_objects_show_and_list",
    "For every declared resource with a create: the create answers its documented status with the fields "
    "sent, show answers the same object, and the list contains it.",
    calls=_calls("create", "show", "list"),
)
def created_show_and_list(ctx: RunContext) -> Iterator[Finding]:
    resources = checked(ctx, "create", "show", "list")
    if (skipped := _writes(ctx, resources)) is not None:
        yield from skipped
        return
    for resource in resources:
        with Made(ctx, resource) as made:
            obj = None
            for item in _created(ctx, made, "round trip"):
                if isinstance(item, dict):
                    obj = item
                else:
                    yield item
            if obj is None:
                continue
            shown = _show(ctx, resource, obj["id"])
            yield from found(expect(shown.status == 200 and _one(shown, resource.one) == obj,
                                    f"{resource.name} show after create", f"200 with {obj}"[:300],
                                    shown.describe(), shown.curl))  # fmt: skip
            listed = _list(ctx, resource, obj)
            ids = [i.get("id") for i in _many(listed, resource.many)]
            yield from found(expect(obj["id"] in ids, f"{resource.name} list after create",
                                    f"{obj['id']} among the listed", f"{len(ids)} listed, not it",
                                    listed.curl))  # fmt: skip


@rule(
    "RES-3",
    Level.MUST,
    "updates_show",
    "For every declared resource with an update: show answers what the update answered, the fields sent "
    "among them.",
    calls=_calls("create", "update", "show"),
)
def updates_show(ctx: RunContext) -> Iterator[Finding]:
    resources = checked(ctx, "create", "update", "show")
    if (skipped := _writes(ctx, resources)) is not None:
        yield from skipped
        return
    for resource in resources:
        with Made(ctx, resource) as made:
            obj = next((i for i in _created(ctx, made, "update") if isinstance(i, dict)), None)
            body = _body(ctx, resource, "update", "updated")
            if obj is None or body is None:
                yield Note(f"{resource.name}: nothing to update")
                continue
            op = resource.operations["update"]
            answer = ctx.full.request(ctx.contract.method(op), ctx.path(op, id=obj["id"]), json_body=body)
            if ctx.settings is not None:
                ctx.settings.note_exchange(op, answer, obj["id"])
            status = ctx.contract.success_status(op)
            updated = _one(answer, resource.one)
            ok = answer.status == status and _matches(body, updated, resource)
            if failure := expect(ok, f"{resource.name} update", f"{status} with {body}"[:300],
                                 answer.describe(), answer.curl):  # fmt: skip
                yield failure
                continue
            shown = _show(ctx, resource, obj["id"])
            yield from found(expect(shown.status == 200 and _one(shown, resource.one) == updated,
                                    f"{resource.name} show after update", f"200 with {updated}"[:300],
                                    shown.describe(), shown.curl))  # fmt: skip


@rule(
    "RES-4",
    Level.MUST,
    "deleted_objects_are_404",
    "For every declared resource with a delete: the delete answers its documented status, then show and a "
    "second delete of the same id are 404.",
    calls=_calls("create", "delete", "show"),
)
def deleted_404(ctx: RunContext) -> Iterator[Finding]:
    resources = checked(ctx, "create", "delete", "show")
    if (skipped := _writes(ctx, resources)) is not None:
        yield from skipped
        return
    for resource in resources:
        with Made(ctx, resource) as made:
            obj = next((i for i in _created(ctx, made, "delete") if isinstance(i, dict)), None)
            if obj is None:
                yield Note(f"{resource.name}: nothing to delete")
                continue
            status = ctx.contract.success_status(resource.operations["delete"])
            gone = made.delete(obj["id"])
            if failure := expect(gone.status == status, f"{resource.name} delete", str(status),
                                 gone.describe(), gone.curl):  # fmt: skip
                yield failure
                continue
            shown = _show(ctx, resource, obj["id"])
            yield from found(ctx.expect_error(shown, f"{resource.name} show after delete", 404))
            again = made.delete(obj["id"])
            yield from found(ctx.expect_error(again, f"{resource.name} second delete", 404))


def _filter_checks(ctx: RunContext) -> Iterator[Finding]:
    for resource in checked(ctx, "list"):
        op = resource.operations["list"]
        query = {p["name"] for p in ctx.contract.ops[op].parameters if p.get("in") == "query"}
        for name in resource.filters:
            if name in resource.references and name in query:
                answer = ctx.full.request("GET", ctx.path(op), params={name: UNKNOWN_ID})
                title = f"{resource.name} list with an unknown {name}"
                yield from found(ctx.expect_error(answer, title, 422, field_name=name))


@rule(
    "RES-5",
    Level.MUST,
    "unknown_references_are_422",
    "An id the organisation does not have, in a declared reference field of a create body or in a list "
    "filter on a reference, is 422 validation_error naming the field; nothing is created.",
    calls=lambda contract, writes: [
        *(
            r.operations["list"]
            for r in declared(contract.spec).values()
            if r.behaviour is None and r.filters and "list" in r.operations
        ),
        *(_calls("create", referring=True)(contract, writes)),
    ],
)
def unknown_references(ctx: RunContext) -> Iterator[Finding]:
    yield from _filter_checks(ctx)
    resources = [r for r in checked(ctx, "create") if r.references]
    if not resources or not ctx.options.allow_settings_writes:
        if resources:
            yield Note("creates with unknown references not checked (pass --allow-settings-writes)")
        return
    for resource in resources:
        with Made(ctx, resource) as made:
            base = _body(ctx, resource, "create", "reference") or {}
            for name in resource.references:
                body = {**base, name: UNKNOWN_ID}
                op = resource.operations["create"]
                answer = ctx.full.request("POST", ctx.path(op), json_body=body)
                if ctx.settings is not None:
                    ctx.settings.note_exchange(op, answer)
                made_id = _one(answer, resource.one).get("id")
                if isinstance(made_id, str):
                    made.ids.append(made_id)
                yield from found(ctx.expect_error(answer, f"{resource.name} create with an unknown {name}",
                                                  422, field_name=name))  # fmt: skip
