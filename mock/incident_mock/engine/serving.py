"""Serving the declared resources: one handler per declared operation, made from its declaration.

`serve` answers operationId -> handler for every operation of the contract: a declared resource's
operations are served by the engine (list, create, show, update, delete on the store's tables), unless
the resource names a behaviour module, whose `OPERATIONS` table serves them instead. It refuses (a
`ServingError`, so the mock does not start) a contract operation that nothing serves, an operation two
behaviour modules claim or that a behaviour module and a plain declaration both serve, and a behaviour
module serving an operation the contract lacks.

Each handler's signature names the operation's parameters it takes (the path id, the filters, `page_size`
and `after`, `body`), so dispatch passes exactly those; the status of a success is the one the operation's
own `responses` document.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from incident_contract.document import Spec
from incident_contract.operations import Operation, operations
from incident_contract.resources import Resource, declared
from incident_mock.domain import errors
from incident_mock.domain.errors import NotFound
from incident_mock.engine.context import Ctx, Json, Reply

__all__ = ["Handler", "ServingError", "serve"]

Handler = Callable[..., Any]


class ServingError(ValueError):
    """The contract and the mock's code do not match: some operation is served by nothing, or twice."""


def _signature(handler: Handler, names: list[str]) -> Handler:
    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Ctx)]
    params += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY) for n in names]
    handler.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return handler


def _path(op: Operation, with_id: bool) -> tuple[str, tuple[str, ...]]:
    """The operation's path parameters: the object's id (the last one, when `with_id`) and the parents'
    (every other one, matching the stored field of its name)."""
    found = [str(p["name"]) for p in op.parameters if p["in"] == "path"]
    if not with_id:
        return "", tuple(found)
    if not found:
        raise ServingError(f"{op.id}: a declared operation on one object takes its id as a path parameter")
    return found[-1], tuple(found[:-1])


def _parents_exist(ctx: Ctx, resource: Resource, given: Mapping[str, str]) -> None:
    """A path naming a parent that does not exist (a declared reference) is 404, as one naming no object."""
    for field, value in given.items():
        ref = resource.references.get(field)
        if ref is not None and not ctx.store.holds(ref.resource, value):
            raise NotFound(errors.NOT_FOUND.format(kind=ctx.store.resources[ref.resource].kind, id=value))


def _actor(ctx: Ctx) -> Json:
    return {"api_key": {"id": ctx.key.id, "name": ctx.key.name}}


def _announce(ctx: Ctx, resource: Resource, change: str, row: Json, answered: Json) -> None:
    """Send the event the declaration names for this change, if any (a private incident's: the id only)."""
    event = resource.webhooks.get(change)
    if event is None or ctx.events is None:
        return
    payload = answered
    if "{visibility}" in event:
        incident = row.get("incident_id")
        visibility = (ctx.store.visibility_of(incident) if isinstance(incident, str) else None) or "public"
        event = event.format(visibility=visibility)
        if visibility == "private":
            payload = {"id": row["id"]}
    ctx.events.announce(event, payload)


def _list(resource: Resource, op: Operation) -> Handler:
    name, many, status = resource.name, resource.many, op.success_status
    _, parents = _path(op, with_id=False)
    query = {p["name"] for p in op.parameters if p["in"] == "query"}
    filters = tuple(f for f in resource.filters if f in query)
    paginated = resource.pagination is not None and "page_size" in query

    def handler(ctx: Ctx, **kw: Any) -> Reply:
        _parents_exist(ctx, resource, {p: kw[p] for p in parents})
        chosen = {f: kw[f] for f in (*parents, *filters) if kw[f] is not None}
        if not paginated:
            rows = ctx.store.listing(name, chosen)[0] if chosen else ctx.store.rows(name)
            return {many: [ctx.store.answer(name, r) for r in rows]}, status
        page_size = kw["page_size"]
        rows, after = ctx.store.listing(name, chosen, page_size, kw["after"])
        meta: Json = {"page_size": page_size, **({"after": after} if after else {})}
        return {many: [ctx.store.answer(name, r) for r in rows], "pagination_meta": meta}, status

    return _signature(handler, [*parents, *filters, *(["page_size", "after"] if paginated else [])])


def _show(resource: Resource, op: Operation) -> Handler:
    name, one, status = resource.name, resource.one, op.success_status
    key, parents = _path(op, with_id=True)

    def handler(ctx: Ctx, **kw: str) -> Reply:
        row = ctx.store.get(name, kw[key], {p: kw[p] for p in parents})
        return {one: ctx.store.answer(name, row)}, status

    return _signature(handler, [key, *parents])


def _create(resource: Resource, op: Operation) -> Handler:
    name, one, status = resource.name, resource.one, op.success_status
    _, parents = _path(op, with_id=False)

    def handler(ctx: Ctx, body: Json, **kw: str) -> Reply:
        _parents_exist(ctx, resource, {p: kw[p] for p in parents})
        row = ctx.store.create(name, body, actor=_actor(ctx), fixed={p: kw[p] for p in parents})
        answered = ctx.store.answer(name, row)
        _announce(ctx, resource, "create", row, answered)
        return {one: answered}, status

    return _signature(handler, [*parents, "body"])


def _update(resource: Resource, op: Operation) -> Handler:
    name, one, status = resource.name, resource.one, op.success_status
    key, parents = _path(op, with_id=True)

    def handler(ctx: Ctx, body: Json, **kw: str) -> Reply:
        row = ctx.store.update(name, kw[key], body, actor=_actor(ctx), fixed={p: kw[p] for p in parents})
        answered = ctx.store.answer(name, row)
        _announce(ctx, resource, "update", row, answered)
        return {one: answered}, status

    return _signature(handler, [key, *parents, "body"])


def _delete(resource: Resource, op: Operation) -> Handler:
    name, status = resource.name, op.success_status
    key, parents = _path(op, with_id=True)

    def handler(ctx: Ctx, **kw: str) -> Reply:
        gone = ctx.store.delete(name, kw[key], {p: kw[p] for p in parents})
        if resource.webhooks.get("delete"):
            _announce(ctx, resource, "delete", gone, ctx.store.answer(name, gone))
        return None, status

    return _signature(handler, [key, *parents])


MAKERS: dict[str, Callable[[Resource, Operation], Handler]] = {
    "list": _list,
    "show": _show,
    "create": _create,
    "update": _update,
    "delete": _delete,
}


def serve(spec: Spec, behaviours: Mapping[str, Mapping[str, Handler]]) -> dict[str, Handler]:
    """operationId -> its handler, for every operation of the contract (see the module's docstring).

    `behaviours` maps each behaviour module's name to its OPERATIONS (operationId -> handler)."""
    ops = operations(spec)
    resources = declared(spec)
    problems: list[str] = []
    served: dict[str, Handler] = {}
    owner: dict[str, str] = {}
    for module, table in behaviours.items():
        for opid, handler in table.items():
            if opid not in ops:
                problems.append(f"behaviour module {module!r} serves {opid!r}, which the contract lacks")
            elif opid in owner:
                problems.append(f"{opid!r} is served by both {owner[opid]!r} and {module!r}")
            else:
                served[opid], owner[opid] = handler, module
    for resource in resources.values():
        for role, opid in resource.operations.items():
            if resource.behaviour is not None:
                if owner.get(opid) != resource.behaviour:
                    problems.append(
                        f"x-resources.{resource.name} names behaviour {resource.behaviour!r}, "
                        f"which does not serve {opid!r}"
                    )
            elif opid in owner:
                problems.append(
                    f"{opid!r} is declared in x-resources.{resource.name} and served by {owner[opid]!r}"
                )
            elif opid in served:
                problems.append(f"{opid!r} is declared by two resources")
            else:
                try:
                    served[opid] = MAKERS[role](resource, ops[opid])
                except ServingError as exc:
                    problems.append(str(exc))
                owner[opid] = f"x-resources.{resource.name}"
    problems += [f"no declaration or behaviour module serves {opid!r}" for opid in ops if opid not in served]
    if problems:
        raise ServingError("; ".join(problems))
    return {opid: served[opid] for opid in ops}
