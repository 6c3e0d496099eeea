"""The contract core answers from the document: change the document and the answer changes."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any

import pytest

from incident_contract import facts
from incident_contract.access import role_scopes, roles_granting
from incident_contract.document import load_spec, validate
from incident_contract.install import EXTRAS, MIN_PIP, install_line
from incident_contract.operations import operations
from incident_contract.query import QueryError, depth, key_parts, parse_date, parse_list_query, split
from incident_contract.refs import resolve, validator
from tests.readme import install_lines, install_section

ROOT = Path(__file__).resolve().parents[2]
LIST = "Incidents V2#List"


@pytest.fixture
def doc() -> dict[str, Any]:
    return load_spec()  # each test its own copy, free to change


def test_each_caller_gets_its_own_copy() -> None:
    first = load_spec()
    first["info"]["title"] = "changed"
    assert load_spec()["info"]["title"] != "changed"


def test_validate_accepts_the_contract_and_refuses_a_document_without_error_types(
    doc: dict[str, Any],
) -> None:
    validate(doc)
    del doc["x-error-types"]
    with pytest.raises(ValueError, match="x-error-types"):
        validate(doc)


def test_resolve_follows_chains_and_refuses_loops(doc: dict[str, Any]) -> None:
    doc["components"]["schemas"]["Alias"] = {"$ref": "#/components/schemas/ErrorResponse"}
    assert (
        resolve(doc, {"$ref": "#/components/schemas/Alias"}) is doc["components"]["schemas"]["ErrorResponse"]
    )
    doc["components"]["schemas"]["Loop"] = {"$ref": "#/components/schemas/Loop"}
    with pytest.raises(ValueError, match="cannot resolve"):
        resolve(doc, {"$ref": "#/components/schemas/Loop"})


def test_validator_follows_refs_nested_in_an_inline_schema(doc: dict[str, Any]) -> None:
    inline = {"type": "object", "properties": {"error": {"$ref": "#/components/schemas/ErrorResponse"}}}
    check = validator(doc, inline)
    assert not check.is_valid({"error": {"type": 1}})
    assert validator(doc, "ErrorResponse").is_valid(
        {"type": "not_found", "status": 404, "request_id": "r", "errors": [{"code": "x", "message": "y"}]}
    )


def test_operations_resolve_parameters_and_bodies(doc: dict[str, Any]) -> None:
    ops = operations(doc)
    methods = {"get", "post", "put", "patch", "delete"}
    assert len(ops) == sum(len(methods & set(item)) for item in doc["paths"].values())
    listing = ops[LIST]
    assert (listing.method, listing.path, listing.success_status) == ("GET", "/v2/incidents", 200)
    assert "$ref" not in str(listing.parameters)
    assert listing.parameter("page_size")["in"] == "query"
    create = ops["Incidents V2#Create"]
    assert create.body_schema is not None and "idempotency_key" in create.body_schema["required"]
    assert create.scopes == ("incidents.create",)
    assert ops["Incidents V2#Show"].url(id="42") == "/v2/incidents/42"


def test_roles_and_scopes_come_from_x_api_key_roles(doc: dict[str, Any]) -> None:
    assert "incidents.create" in role_scopes(doc)["incident_creator"]
    doc["x-api-key-roles"]["auditor"] = {"description": "d", "scopes": ["incidents.create"]}
    assert roles_granting(doc, "incidents.create")[-1] == "auditor"


def test_facts_follow_the_document(doc: dict[str, Any]) -> None:
    assert facts.error_types(doc)[404] == "not_found"
    assert facts.page_size_bounds(doc, LIST) == (1, 250, 25)
    assert facts.listed_by_default(doc) == ("standard", "retrospective")
    assert facts.status_moves(doc)["learning"] == frozenset({"closed"})
    assert facts.max_body_bytes(doc) == 1024 * 1024
    assert facts.status_category_aliases(doc) == {"active": "live", "post-incident": "learning"}

    doc["x-error-types"]["404"]["type"] = "missing"
    doc["x-max-body-bytes"] = 10
    operations(doc)[LIST].parameter("page_size")["schema"]["maximum"] = 99
    operations(doc)[LIST].parameter("mode")["x-listed-by-default"] = ["standard"]
    assert facts.error_types(doc)[404] == "missing"
    assert facts.max_body_bytes(doc) == 10
    assert facts.page_size_bounds(doc, LIST)[1] == 99
    assert facts.listed_by_default(doc) == ("standard",)


def test_the_query_grammar(doc: dict[str, Any]) -> None:
    params = operations(doc)[LIST].parameters
    assert key_parts("incident_role[R1][one_of]") == ("incident_role", "R1", "one_of")
    assert key_parts("status[one_of][x][y]") is None
    assert {p["name"]: depth(p) for p in params if p["name"] in ("page_size", "status", "incident_role")} == {
        "page_size": 0, "status": 1, "incident_role": 2,
    }  # fmt: skip
    query = parse_list_query(
        "page_size=5&status[one_of]=A&status[one_of]=B&incident_role[R][is_set]=true", params
    )
    assert query.page_size == 5 and query.sort_by == "created_at_newest_first"
    assert [(f.param, f.op, f.values, f.key) for f in query.filters] == [
        ("status", "one_of", ("A", "B"), None), ("incident_role", "is_set", ("true",), "R"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("colour=red", "colour"),
        ("status=A", "status"),
        ("status[one_of][x]=A", "status[one_of][x]"),
        ("status[any]=A", "status"),
        ("mode[one_of]=weekly", "mode"),
        ("created_at[gte]=2026-13-45", "created_at"),
        ("sort_by=a&sort_by=b", "sort_by"),
        ("severity[gte]=", "severity"),
    ],
)
def test_the_query_grammar_names_what_is_wrong(doc: dict[str, Any], raw: str, field: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_list_query(raw, operations(doc)[LIST].parameters)
    assert caught.value.field == field


def test_a_console_script_without_its_extra_exits_2_naming_the_fix(tmp_path: Path) -> None:
    (tmp_path / "needs_extra.py").write_text("import a_module_that_is_not_installed\ndef main(): pass\n")
    script = textwrap.dedent("""
        from incident_contract.launch import launch
        launch("needs_extra", "mock", "incident-mock")
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "incident-mock needs the [mock] extra (module 'a_module_that_is_not_installed' is missing); "
        f"in a clone of incident-contract, with pip {MIN_PIP} or newer: {install_lines()['mock']}"
    )


def test_the_install_lines_are_the_readmes_one_per_extra() -> None:
    # The README gives one line per extra of pyproject.toml (and the core), and the core gives the same.
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(EXTRAS) == set(extras) - {"dev"}
    lines = install_lines()
    assert lines == {extra: install_line(extra) for extra in (None, *EXTRAS)}
    assert f"pip {MIN_PIP} or newer" in " ".join(install_section().split())
    with pytest.raises(ValueError, match="no extra 'dev'"):
        install_line("dev")


# What only the core may hold: a status -> error-type table, a $ref resolver, a query-key grammar.
OUTSIDE_THE_CORE = {
    # (The types that double as error codes, such as `not_found`, cannot be told apart from codes here.)
    "an error type named in code": re.compile(
        r"['\"](invalid_request_error|authentication_error|resource_forbidden|validation_error)['\"]"
    ),
    "a $ref resolver": re.compile(r"\[\s*['\"]\$ref['\"]\s*\]|\.removeprefix\(['\"]#/"),
    "a query-key grammar": re.compile(r"partition\(['\"]\[['\"]\)|\\\[\(\?P<|count\(['\"]\[['\"]\)"),
}


@pytest.mark.parametrize("what", list(OUTSIDE_THE_CORE))
def test_no_contract_fact_is_restated_outside_the_core(what: str) -> None:
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for folder in ("mock", "conformance")
        for path in (ROOT / folder).rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OUTSIDE_THE_CORE[what].search(line)
    ]
    assert found == []


def test_the_query_grammar_reads_its_bounds_from_the_document(doc: dict[str, Any]) -> None:
    params = operations(doc)[LIST].parameters
    most = operations(doc)[LIST].parameter("status")["schema"]["properties"]["one_of"]["maxItems"]
    at_cap = "&".join(f"status[one_of]=S{i}" for i in range(most))
    assert len(parse_list_query(at_cap, params).filters[0].values) == most
    with pytest.raises(QueryError, match=f"at most {most} values"):
        parse_list_query(at_cap + "&status[one_of]=one-more", params)
    limit = facts.max_query_parameters(doc)
    assert len(split("&".join(["a=1"] * limit), limit)) == limit
    with pytest.raises(QueryError, match=f"at most {limit} parameters"):
        split("&".join(["a=1"] * (limit + 1)), limit)


@pytest.mark.parametrize(
    ("value", "ok"),
    [("2026-02-28", True), ("2024-02-29", True), ("2026-02-29", False), ("2026-13-01", False),
     ("0000-01-01", True), ("0001-02-29", False), ("\uff12\uff10\uff12\uff16-01-01", False), ("2026-1-1", False)],
)  # fmt: skip
def test_parse_date_takes_real_ascii_dates_only(value: str, ok: bool) -> None:
    if ok:
        assert parse_date(value).isoformat()[:4] in (value[:4], "0001")
    else:
        with pytest.raises(ValueError):  # noqa: PT011 (parse_date raises plain ValueError, like date)
            parse_date(value)


@pytest.mark.parametrize(
    ("value", "ok"),
    [("2026-01-01~2026-01-31", True), ("2026-01-01~2026-01-01", True), ("2026-02-01~2026-01-01", False),
     ("2026-13-45~2026-99-99", False), ("2026-02-30~2026-03-01", False)],
)  # fmt: skip
def test_date_range_holds_two_real_dates_in_order(doc: dict[str, Any], value: str, ok: bool) -> None:
    params = operations(doc)[LIST].parameters
    if ok:
        assert parse_list_query(f"created_at[date_range]={value}", params).filters[0].values == (value,)
    else:
        with pytest.raises(QueryError):
            parse_list_query(f"created_at[date_range]={value}", params)
