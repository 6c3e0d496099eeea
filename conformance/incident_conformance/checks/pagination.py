"""PAGE: cursor pagination. Walking `after` visits each record once, bounds hold, test incidents hide.

The paginated operations are the ones with an `after` parameter in the contract; page_size bounds come
from its schema (through the core's `page_size_bounds`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Generator, Iterator
from typing import Any

from incident_conformance.checks.resources import _reference
from incident_conformance.context import CREATING, CUSTOM_FIELDS, EDIT, LIST, RunContext
from incident_conformance.contract import Contract
from incident_conformance.marks import NAME_PREFIX, TEST_MODE
from incident_conformance.rules import Finding, Level, Note, expect, found, rule
from incident_conformance.target import Exchange
from incident_contract.refs import resolve
from incident_contract.resources import declared

OPTIONS = "Custom Field Options V1#List"


def items_key(ctx: RunContext, op: str) -> str:
    """The array member of an operation's success body (`incidents`, `custom_field_options`)."""
    props = ctx.contract.success_schema(op)["properties"]
    return str(next(k for k, v in props.items() if resolve(ctx.contract.spec, v).get("type") == "array"))


def base_params(ctx: RunContext, op: str) -> dict[str, Any]:
    if op == LIST:
        return {"mode[one_of]": TEST_MODE}
    params: dict[str, Any] = {}
    required = ctx.contract.required_query(op)
    if "custom_field_id" in required:
        fields = ctx.full.request("GET", ctx.path(CUSTOM_FIELDS)).json() or {}
        chosen = [f for f in fields.get("custom_fields", []) if "select" in str(f.get("field_type"))]
        params["custom_field_id"] = (chosen or fields.get("custom_fields") or [{"id": "x"}])[0]["id"]
    if "incident_id" in ctx.contract.required_query(op):  # a list of one incident's records: any incident
        listed = ctx.full.request("GET", ctx.path(LIST), params={"page_size": 1}).json() or {}
        params["incident_id"] = (listed.get("incidents") or [{"id": "x"}])[0]["id"]
    for param in ctx.contract.ops[op].parameters:  # any other: an object that existed, else its example
        name = str(param["name"])
        if param.get("in") == "query" and name in required and name not in params:
            value = existing(ctx, name) or param.get("example")
            if value is not None:
                params[name] = value
    return params


def filling(contract: Contract) -> list[str]:
    """The lists that supply the required query and path parameters of the paginated lists: those of the
    resources the parameters' names refer to (`catalog_type_id`: the catalog types' list)."""
    resources = declared(contract.spec)
    found: list[str] = []
    for op in contract.paginated():
        for param in contract.ops[op].parameters:
            if param.get("in") == "path" or (param.get("in") == "query" and param.get("required")):
                for resource in resources.values():
                    ref = resource.references.get(str(param["name"]))
                    listing = resources[ref.resource].operations.get("list") if ref else None
                    if listing and listing not in found:
                        found.append(listing)
    return found


def parents(ctx: RunContext, op: str) -> dict[str, str]:
    """The path parameters of a nested list (`/v2/schedules/{schedule_id}/replicas`): an object that existed
    before the run, else the parameter's example."""
    found: dict[str, str] = {}
    for param in ctx.contract.ops[op].parameters:
        if param.get("in") == "path":
            name = str(param["name"])
            found[name] = existing(ctx, name) or str(param.get("example", "x"))
    return found


def missing_parent(ctx: RunContext, op: str) -> str | None:
    """Why a list cannot be paged on this target: a parent it needs (a path parameter, or a required query
    parameter the declarations name as a reference) of which the target has none, such as the entries of a
    catalog type on a target with no catalog type. None when it can be."""
    required = ctx.contract.required_query(op)
    for param in ctx.contract.ops[op].parameters:
        name = str(param["name"])
        if param.get("in") == "path" or (param.get("in") == "query" and name in required):
            refers = [r for r in declared(ctx.contract.spec).values() if name in r.references]
            if refers and existing(ctx, name) is None:
                return (
                    f"{op} not paged: the target has no {refers[0].references[name].resource} for its {name}"
                )
    return None


def existing(ctx: RunContext, field: str) -> str | None:
    """An id of an object that existed before the run, of the resource a declared reference `field` names;
    looked up once a run (every page of a nested list's walk needs its parent)."""
    key = f"pagination:existing:{field}"
    if key not in ctx.cache:
        refers = [r for r in declared(ctx.contract.spec).values() if field in r.references]
        ctx.cache[key] = _reference(ctx, refers[0], field) if refers else None
    found: str | None = ctx.cache[key]
    return found


def page(ctx: RunContext, op: str, **params: Any) -> tuple[Exchange, list[dict[str, Any]], dict[str, Any]]:
    query = {k: v for k, v in (base_params(ctx, op) | params).items() if v is not None}
    answer = ctx.full.request("GET", ctx.path(op, **parents(ctx, op)), params=query)
    data = answer.json() if answer.status == 200 else None
    data = data if isinstance(data, dict) else {}
    return answer, list(data.get(items_key(ctx, op)) or []), dict(data.get("pagination_meta") or {})


def walk(
    ctx: RunContext,
    op: str,
    page_size: int,
    limit: int,
    during: Callable[[], None] | None = None,
    **params: Any,
) -> Generator[Finding, None, list[str]]:
    """Follow `after` to the last page, checking each page; returns the ids in visiting order."""
    seen: list[str] = []
    after = None
    for number in range(limit):
        answer, items, meta = page(ctx, op, page_size=page_size, after=after, **params)
        title = f"{op} page {number + 1}"
        if failure := expect(answer.status == 200, title, "200", answer.describe(), answer.curl):
            yield failure
            return seen
        seen += [str(i.get("id")) for i in items]
        yield from found(expect(len(items) <= page_size, f"{title} size", f"at most {page_size} records",
                                f"{len(items)} records", answer.curl))  # fmt: skip
        after = meta.get("after")
        if number == 0 and during is not None:
            during()
        if not after:
            return seen
        if failure := expect(bool(items), title, "records, since it has an after cursor",
                             "an empty page with an after cursor", answer.curl):  # fmt: skip
            yield failure
            return seen
    yield from found(
        expect(False, f"{op} walk", f"a last page (no after) within {limit} pages", "more pages")
    )
    return seen


def _day_before(timestamp: str) -> str | None:
    """The date before an RFC 3339 timestamp's date; None (no date filter) when it is not one."""
    try:
        day = dt.date.fromisoformat(timestamp[:10])
    except ValueError:
        return None
    return (day - dt.timedelta(days=1)).isoformat()


@rule(
    "PAGE-1",
    Level.MUST,
    "walking_after_visits_each_record_once",
    "Following pagination_meta.after visits every record that existed when the walk began exactly once, "
    "even while incidents are created and edited during the walk; the last page has no after.",
    calls=lambda contract, _: [*CREATING, EDIT, CUSTOM_FIELDS, *contract.paginated(), *filling(contract)],
)
def visits_once(ctx: RunContext) -> Iterator[Finding]:
    created = [ctx.create_ok(f"page-{n}") for n in range(8 if ctx.options.thorough else 5)]
    ours = [incident["id"] for incident in created]
    # Only recent incidents, so that the walk stays short on a deployment with years of test incidents;
    # recent by the target's clock (the day before its first created_at), never by ours.
    since = {"created_at[gte]": _day_before(str(created[0].get("created_at", "")))}
    total = page(ctx, LIST, page_size=1, **since)[2].get("total_record_count") or len(ours)
    _, largest, _ = ctx.contract.page_size_bounds(LIST)
    size = max(2, min(largest, math.ceil(int(total) / 40)))

    def meanwhile() -> None:
        ctx.create_ok("page-during")
        body = {"incident": {"name": f"{NAME_PREFIX} page edited"}, "notify_incident_channel": False}
        for incident_id in (ours[0], ours[-1]):
            ctx.full.request("POST", ctx.path(EDIT, id=incident_id), json_body=body)

    seen = yield from walk(ctx, LIST, size, math.ceil(int(total) / size) + 10, during=meanwhile, **since)
    repeated = sorted({i for i in seen if seen.count(i) > 1})
    missing = [i for i in ours if i not in seen]
    yield from found(
        expect(not repeated, "incident walk", "no incident twice", f"repeated: {repeated[:5]}"),
        expect(not missing, "incident walk", f"all {len(ours)} incidents created before the walk",
               f"missing: {missing}"),
    )  # fmt: skip
    for op in ctx.contract.paginated():
        if op == LIST:
            continue
        if reason := missing_parent(ctx, op):
            yield Note(reason)
            continue
        listed = yield from walk(ctx, op, 1, 1000)
        in_big_pages = yield from walk(ctx, op, ctx.contract.page_size_bounds(op)[1], 1000)
        yield from found(expect(
            sorted(listed) == sorted(in_big_pages), f"{op} walk with page_size=1",
            f"the {len(in_big_pages)} records of a walk with the largest pages, once each", f"{listed}",
        ))  # fmt: skip


@rule(
    "PAGE-2",
    Level.MUST,
    "page_size_outside_bounds_is_rejected",
    "page_size below the contract's minimum, above its maximum or not an integer is 422 invalid_value naming "
    "page_size; the minimum and maximum themselves are accepted and respected.",
    calls=lambda contract, _: [CUSTOM_FIELDS, *contract.paginated(), *filling(contract)],
)
def page_size_bounds(ctx: RunContext) -> Iterator[Finding]:
    for op in ctx.contract.paginated():
        if reason := missing_parent(ctx, op):
            yield Note(reason)
            continue
        low, high, _ = ctx.contract.page_size_bounds(op)
        for value in (low - 1, high + 1, "ten", "1.5"):
            answer, _, _ = page(ctx, op, page_size=value)
            title = f"{op} with page_size={value!r}"
            yield from found(ctx.expect_error(answer, title, 422, "invalid_value", "page_size"))
        for size in (low, high):
            answer, items, meta = page(ctx, op, page_size=size)
            ok = answer.status == 200 and len(items) <= size and meta.get("page_size") == size
            want = f"200 with at most {size} records and page_size {size}"
            got = f"{answer.describe()[:120]}, {len(items)} records, meta {meta}"
            yield from found(expect(ok, f"{op} with page_size={size}", want, got, answer.curl))


@rule(
    "PAGE-3",
    Level.MUST,
    "unknown_after_cursor_is_rejected",
    "An after value that is not the id of a listed record is 422 invalid_value naming after.",
    calls=lambda contract, _: [CUSTOM_FIELDS, *contract.paginated(), *filling(contract)],
)
def unknown_after(ctx: RunContext) -> Iterator[Finding]:
    for op in ctx.contract.paginated():
        if reason := missing_parent(ctx, op):
            yield Note(reason)
            continue
        answer, _, _ = page(ctx, op, after=f"conformance-unknown-{ctx.run_id}")
        yield from found(
            ctx.expect_error(answer, f"{op} with an unknown after", 422, "invalid_value", "after")
        )


@rule(
    "PAGE-4",
    Level.MUST,
    "test_mode_incidents_are_excluded_by_default",
    "Without mode[one_of], the incident list leaves out test-mode incidents; with mode[one_of]=test it "
    "includes them.",
    calls=(*CREATING, LIST),
)
def test_mode_hidden(ctx: RunContext) -> Iterator[Finding]:
    incident = ctx.create_ok("test-mode")
    default = ctx.full.request("GET", ctx.path(LIST), params={"page_size": 50})
    items = (default.json() or {}).get("incidents") or []
    modes = sorted({str(i.get("mode")) for i in items if isinstance(i, dict)})
    asked = ctx.list_incidents(page_size=50)
    ids = {i.get("id") for i in (asked.json() or {}).get("incidents") or []}
    hidden = incident["id"] not in {i.get("id") for i in items} and TEST_MODE not in modes
    listed = incident["id"] in ids
    yield from found(
        expect(default.status == 200 and hidden, "list without mode[one_of]", "no test-mode incidents",
               f"{default.status}, modes listed: {modes}", default.curl),
        expect(listed, "list with mode[one_of]=test", f"incident {incident['id']}", "not listed", asked.curl),
    )  # fmt: skip
