"""The compiled pre-check and the jsonschema validator agree on every request body schema.

The mock answers a body the compiled validator accepts without asking jsonschema, so a body it accepted
that jsonschema rejects would slip through unvalidated. Generated bodies start from each schema's example
and break it in every way a client might.
"""

from __future__ import annotations

from typing import Any

import pytest
from connexion.json_schema import Draft4RequestValidator, resolve_refs
from hypothesis import given, settings
from hypothesis import strategies as st

from incident_contract.document import load_spec
from incident_contract.operations import operations
from incident_mock.domain.problems import FORMATS, fast_check

SPEC = resolve_refs(load_spec())
BODIES = sorted(
    op.raw["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    for op in operations(load_spec()).values()
    if "requestBody" in op.raw
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([2**31, 2**31 - 1, -(2**31), 2**63, 2**63 - 1, -(2**63), -(2**63) - 1, 0, -1]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1.0, 2.5, -0.0]),
    st.text(max_size=60),
    st.sampled_from(
        ["", " ", "public", "Public", "private", "2026-01-12T09:30:00Z", "not a date", "😀" * 51]
    ),
)
EDGES = [2**31, 2**31 - 1, -(2**31), -(2**31) - 1, 2**63, 2**63 - 1, -(2**63), -(2**63) - 1, 10**30, 1.0, -0.0, True,
         None, "", " ", "Public", "2026-01-12T09:30:00Z", "2026-13-45T99:00:00Z", "😀" * 51, "a" * 256, [], {}]  # fmt: skip
nested = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
values = st.one_of(st.sampled_from(EDGES), nested)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += paths(v, (*prefix, i))
    return found


@st.composite
def mutated(draw: st.DrawFn, example: dict[str, Any]) -> Any:
    import copy

    body = copy.deepcopy(example)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        where = draw(st.sampled_from(paths(body)))
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if not where:
            body = draw(values) if action == "replace" else body
            continue
        parent = body
        for step in where[:-1]:
            parent = parent[step]
        if action == "replace":
            parent[where[-1]] = draw(values)
        elif action == "delete" and isinstance(parent, dict):
            del parent[where[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "severityId", "name", "rank", "mode"]))] = draw(values)
    return body


@pytest.mark.parametrize("name", BODIES)
def test_compiled_check_never_accepts_what_jsonschema_rejects(name: str) -> None:
    schema = SPEC["components"]["schemas"][name]
    slow = Draft4RequestValidator(schema, format_checker=FORMATS)
    fast = fast_check(schema)

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(body=mutated(schema["example"]))
    def agree(body: Any) -> None:
        assert fast.is_valid(body) == (not list(slow.iter_errors(body))), body

    agree()


def leaves(schema: dict[str, Any], example: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every scalar of an example, found by walking it alongside its schema."""
    if isinstance(example, dict):  # a named property, or an entry of a map (`additionalProperties`)
        inner = {k: schema.get("properties", {}).get(k, schema.get("additionalProperties")) for k in example}
        return [p for k, v in example.items() for p in leaves(inner[k], v, (*at, k))]
    if isinstance(example, list):
        return [p for i, v in enumerate(example) for p in leaves(schema["items"], v, (*at, i))]
    return [at]


@pytest.mark.parametrize("name", BODIES)
def test_every_edge_value_in_every_field_gets_the_same_verdict(name: str) -> None:
    import copy

    schema = SPEC["components"]["schemas"][name]
    slow = Draft4RequestValidator(schema, format_checker=FORMATS)
    fast = fast_check(schema)
    for path in leaves(schema, schema["example"]):
        for edge in EDGES:
            body = copy.deepcopy(schema["example"])
            parent = body
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = edge
            assert fast.is_valid(body) == (not list(slow.iter_errors(body))), (path, edge)


def test_the_examples_are_valid_for_both() -> None:
    for name in BODIES:
        schema = SPEC["components"]["schemas"][name]
        assert fast_check(schema).is_valid(schema["example"])
