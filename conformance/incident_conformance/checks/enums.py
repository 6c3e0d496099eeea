"""ENUM: closed enums are closed. Values outside them are 422 naming the field; every listed value works.

The enums are read from the contract: top-level enum fields of the create body and enum-valued query
parameters of the list operations. Outside values are case variants, padded and empty strings,
non-strings, and strings Hypothesis generates.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from incident_conformance.context import CREATE, CREATING, CUSTOM_FIELDS, RunContext
from incident_conformance.contract import Contract
from incident_conformance.marks import TEST_MODE
from incident_conformance.rules import Finding, Level, expect, rule


def _calls(contract: Contract, settings_writes: bool) -> list[str]:
    """The create, the lists with enum-valued query parameters, and what fills in their required ones."""
    lists = [op for op in contract.paginated() if contract.query_enums(op)]
    fields = any("custom_field_id" in contract.required_query(op) for op in lists)
    return [*CREATING, *lists, *([CUSTOM_FIELDS] if fields else [])]


def outside_values(ctx: RunContext, values: tuple[Any, ...], *, strings_only: bool = False) -> list[Any]:
    """Values not in an enum: the classic mistakes first, then Hypothesis' own."""
    strs = [v for v in values if isinstance(v, str)]
    found: list[Any] = []
    for v in strs[:2]:
        found += [v.upper(), v.title(), f" {v}", f"{v} ", f"{v}\n"]
    found += [""]
    if not strings_only:
        found += [1, True, None, list(strs[:1]), {}]
    generated: list[Any] = []
    strategy: st.SearchStrategy[Any] = st.text(max_size=24)
    if not strings_only:
        strategy = st.one_of(
            strategy, st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans()
        )

    @settings(max_examples=25 if ctx.options.thorough else 6, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @seed(ctx.options.seed)
    @given(strategy)
    def draw(value: Any) -> None:
        generated.append(value)

    draw()
    unique: list[Any] = []
    for value in found + generated:
        if value not in values and not any(value == u and type(value) is type(u) for u in unique):
            unique.append(value)
    return unique


@rule(
    "ENUM-1",
    Level.MUST,
    "value_outside_closed_enum_is_rejected",
    "For every closed enum of the create body (visibility, mode, ...), a value outside it (case variants, "
    "whitespace, empty, non-strings, generated strings) is 422 validation_error naming the field, and "
    "creates nothing; for every enum-valued query parameter, 422 naming the parameter.",
    calls=_calls,
)
def outside_rejected(ctx: RunContext) -> Iterator[Finding]:
    before = ctx.total()
    for enum in ctx.contract.body_enums(CREATE):
        for value in outside_values(ctx, enum.values):
            answer = ctx.send_create(ctx.create_payload("enum", **{enum.field: value}))
            title = f"create with {enum.field}={value!r}"
            if failure := ctx.expect_error(answer, title, 422, "invalid_value", enum.field):
                yield failure
    after = ctx.total()
    if failure := expect(before == after, "test-mode incident total after rejected creates", f"{before}",
                         f"{after}"):  # fmt: skip
        yield failure
    for op in ctx.contract.paginated():
        for query in ctx.contract.query_enums(op):
            base = query.param.split("[", 1)[0]
            for value in outside_values(ctx, query.values, strings_only=True)[:8]:
                params = _required_query(ctx, op) | {query.param: value}
                answer = ctx.full.request("GET", ctx.path(op), params=params)
                title = f"{op} with {query.param}={value!r}"
                if failure := ctx.expect_error(answer, title, 422, "invalid_value"):
                    yield failure
                    continue
                fields = {(e.get("source") or {}).get("field") for e in answer.json()["errors"]}
                named = bool(fields & {base, query.param})
                if failure := expect(named, title, f"naming {base}", f"naming {fields}", answer.curl):
                    yield failure


def _required_query(ctx: RunContext, op: str) -> dict[str, Any]:
    """Valid values for an operation's required query parameters (custom_field_id of the options list)."""
    params: dict[str, Any] = {}
    for name in ctx.contract.required_query(op):
        if name == "custom_field_id":
            fields = ctx.full.request("GET", ctx.path(CUSTOM_FIELDS)).json() or {}
            params[name] = next((f["id"] for f in fields.get("custom_fields", [])), "x")
    return params


@rule(
    "ENUM-2",
    Level.MUST,
    "every_enum_value_is_accepted",
    "Every value a closed enum lists is accepted: each create-body enum value (mode only as test, so that "
    "the suite never creates a real incident) and each query-parameter enum value.",
    calls=_calls,
)
def listed_accepted(ctx: RunContext) -> Iterator[Finding]:
    for enum in ctx.contract.body_enums(CREATE):
        values = [TEST_MODE] if enum.field == "mode" else list(enum.values)
        for value in values:
            answer, incident = ctx.create("enum-accepted", **{enum.field: value})
            if failure := expect(
                answer.status == ctx.contract.success_status(CREATE) and incident.get(enum.field) == value,
                f"create with {enum.field}={value!r}",
                f"{ctx.contract.success_status(CREATE)} with {enum.field} {value!r}",
                answer.describe(),
                answer.curl,
            ):
                yield failure
    for op in ctx.contract.paginated():
        for query in ctx.contract.query_enums(op):
            for value in query.values:
                answer = ctx.full.request(
                    "GET", ctx.path(op), params=_required_query(ctx, op) | {query.param: value}
                )
                title = f"{op} with {query.param}={value!r}"
                if failure := expect(answer.status == 200, title, "200", answer.describe(), answer.curl):
                    yield failure
