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


def _path_id(op: Operation) -> str:
    found = [str(p["name"]) for p in op.parameters if p["in"] == "path"]
    if len(found) != 1:
        raise ServingError(f"{op.id}: a declared operation takes exactly one path parameter, the id")
    return found[0]


def _list(resource: Resource, op: Operation) -> Handler:
    name, many, status = resource.name, resource.many, op.success_status
    query = {p["name"] for p in op.parameters if p["in"] == "query"}
    filters = tuple(f for f in resource.filters if f in query)
    if resource.pagination is None and not filters:

        def plain(ctx: Ctx) -> Reply:
            return {many: ctx.store.rows(name)}, status

        return _signature(plain, [])

    def handler(ctx: Ctx, **kw: Any) -> Reply:
        chosen = {f: kw[f] for f in filters if kw[f] is not None}
        if resource.pagination is None:
            return {many: ctx.store.listing(name, chosen)[0]}, status
        page_size = kw["page_size"]
        rows, after = ctx.store.listing(name, chosen, page_size, kw["after"])
        meta: Json = {"page_size": page_size, **({"after": after} if after else {})}
        return {many: rows, "pagination_meta": meta}, status

    return _signature(handler, [*filters, *(["page_size", "after"] if resource.pagination else [])])


def _show(resource: Resource, op: Operation) -> Handler:
    name, one, status, key = resource.name, resource.one, op.success_status, _path_id(op)

    def handler(ctx: Ctx, **kw: str) -> Reply:
        return {one: ctx.store.get(name, kw[key])}, status

    return _signature(handler, [key])


def _create(resource: Resource, op: Operation) -> Handler:
    name, one, status = resource.name, resource.one, op.success_status

    def handler(ctx: Ctx, body: Json) -> Reply:
        return {one: ctx.store.create(name, body)}, status

    return _signature(handler, ["body"])


def _update(resource: Resource, op: Operation) -> Handler:
    name, one, status, key = resource.name, resource.one, op.success_status, _path_id(op)

    def handler(ctx: Ctx, body: Json, **kw: str) -> Reply:
        return {one: ctx.store.update(name, kw[key], body)}, status

    return _signature(handler, [key, "body"])


def _delete(resource: Resource, op: Operation) -> Handler:
    name, status, key = resource.name, op.success_status, _path_id(op)

    def handler(ctx: Ctx, **kw: str) -> Reply:
        ctx.store.delete(name, kw[key])
        return None, status

    return _signature(handler, [key])


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
