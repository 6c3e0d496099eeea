"""The shape of the mock: its subpackages, which may import which, and no two modules or classes sharing a
name.

The layers, from the bottom:
- `domain`: errors, records, limits, settings, clock, ids; imports only the contract core;
- `engine`: the store and the resource engine; imports only the contract core and the domain;
- `resources`: the behaviour a declaration cannot express, one module per resource; imports the engine;
- `kit`: the testing kit's server side (sandboxes, journal, faults, webhooks, control plane, dashboard);
- `wire`: the request's typed state and writing an answer, shared by the request path and the kit's pages;
- `http`: transport and the request stages; imported by nothing but `app` and `server`;
- `testing`: the kit's client side (Python API, webhook receiver), imports nothing of the server but the
  contract core (`testing.local`, which starts a mock in this process, is the one exception).
The package-level import direction and cycles are checked for the whole tree in tests/test_layout.py.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from tests.imports import external, graph, modules

ROOT = Path(__file__).resolve().parents[2]
WEB = {"connexion", "starlette", "uvicorn", "httpx"}
CORE = "incident_contract"
SUBPACKAGES = ("domain", "engine", "resources", "kit", "wire", "http", "testing")
# layer -> the layers of the mock it may import (besides itself and the contract core)
MAY_IMPORT = {
    "domain": set(),
    "engine": {"domain"},
    "resources": {"domain", "engine"},
    "kit": {"domain", "engine", "resources", "wire"},
    "wire": {"domain", "kit"},
    "http": {"domain", "engine", "resources", "kit", "wire"},
    "testing": set(),
}
EXCEPTIONS = {("incident_mock.testing.local", "incident_mock.server")}
# Where the engine still reaches into a behaviour module; to be emptied as the resources plug into it.
PENDING: set[str] = set()


def layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "incident_mock":
        return CORE if parts[0] == CORE else parts[0]
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in SUBPACKAGES) else None


def wrong_imports() -> set[str]:
    found = set()
    for module, targets in graph().items():
        own = layer(module)
        if own not in MAY_IMPORT:
            continue
        for target in targets:
            theirs = layer(target)
            allowed = theirs in {own, CORE} or theirs in MAY_IMPORT[own]
            if not allowed and (module, target) not in EXCEPTIONS and module not in PENDING:
                found.add(f"{module} -> {target}")
    return found


def test_the_mock_is_laid_out_in_its_subpackages() -> None:
    loose = {m for m in modules() if m.startswith("incident_mock.") and m.count(".") == 1}
    top = {"app", "server", "cli", "launch", "__main__", "pytest_plugin", *SUBPACKAGES}
    assert {m.split(".")[1] for m in loose} <= top


def test_each_layer_imports_only_what_it_may() -> None:
    assert wrong_imports() == set()


def test_nothing_imports_the_http_path_but_the_app_and_the_server() -> None:
    importers = {
        module
        for module, targets in graph().items()
        if not module.startswith("incident_mock.http.")
        and any(t.startswith("incident_mock.http.") or t == "incident_mock.http" for t in targets)
    }
    assert importers <= {"incident_mock.app", "incident_mock.server"}


def test_the_checker_sees_a_wrong_import(monkeypatch: pytest.MonkeyPatch) -> None:
    edges = graph()
    edges["incident_mock.engine.catalog"] = {
        *edges["incident_mock.engine.catalog"],
        "incident_mock.kit.journal",
    }
    monkeypatch.setattr(f"{__name__}.graph", lambda: edges)
    assert "incident_mock.engine.catalog -> incident_mock.kit.journal" in wrong_imports()


@pytest.mark.parametrize("name", ["domain", "engine", "resources"])
def test_the_lower_layers_import_no_web_framework(name: str) -> None:
    inside = [m for m in modules() if layer(m) == name]
    assert inside
    assert {m: external(m) & WEB for m in inside if external(m) & WEB} == {}


def test_the_client_side_imports_no_server_library() -> None:
    inside = [m for m in modules() if layer(m) == "testing" and m != "incident_mock.testing.local"]
    assert {
        m: external(m) & {"connexion", "starlette", "uvicorn"}
        for m in inside
        if external(m) & WEB - {"httpx"}
    } == {}


def test_no_two_modules_of_the_mock_share_a_name() -> None:
    names = Counter(
        path.stem if path.stem != "__init__" else path.parent.name
        for module, path in modules().items()
        if module.startswith("incident_mock.") and path.stem != "__main__"
    )
    assert {n: c for n, c in names.items() if c > 1} == {}


def test_no_two_classes_of_the_three_packages_share_a_name() -> None:
    import ast

    names: Counter[str] = Counter()
    for path in modules().values():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names.update(node.name for node in tree.body if isinstance(node, ast.ClassDef))
    assert {n: c for n, c in names.items() if c > 1} == {}


def test_no_behaviour_module_compares_role_strings(spec) -> None:
    roles = set(spec["x-api-key-roles"])
    for path in (ROOT / "mock" / "incident_mock" / "resources").rglob("*.py"):
        text = path.read_text()
        assert not [r for r in roles if f'"{r}"' in text], path.name


def test_every_operation_is_served_by_its_declaration_or_by_exactly_one_behaviour_module(spec) -> None:
    from incident_contract.operations import operations
    from incident_contract.resources import declared
    from incident_mock.engine.serving import serve
    from incident_mock.resources.organisation import BEHAVIOURS, HANDLERS

    claimed = Counter(opid for table in BEHAVIOURS.values() for opid in table)
    plain = {opid for r in declared(spec).values() if r.behaviour is None for opid in r.operations.values()}
    assert set(claimed) <= set(operations(spec)), "a behaviour module serves what the contract lacks"
    assert max(claimed.values()) == 1 and not plain & set(claimed)
    assert plain | set(claimed) == set(operations(spec)) == set(HANDLERS)
    assert serve(spec, BEHAVIOURS).keys() == HANDLERS.keys()
    for r in declared(spec).values():  # a declaration naming a behaviour module is served by that module
        assert all(opid in BEHAVIOURS[r.behaviour] for opid in r.operations.values()) if r.behaviour else True


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("undeclared", "no declaration or behaviour module serves 'Widgets V1#Delete'"),
        ("orphan", "serves 'Gone V1#List', which the contract lacks"),
        ("twice", "'Utilities V1#Identity' is served by both"),
        ("both", "'Severities V1#List' is declared in x-resources.severities and served by"),
    ],
)
def test_create_app_refuses_a_contract_its_code_does_not_cover_exactly(
    change: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from incident_mock.app import create_app
    from incident_mock.engine.serving import ServingError
    from incident_mock.resources import organisation
    from tests.widgets import DECLARATION, write_widget_contract

    behaviours = {name: dict(table) for name, table in organisation.BEHAVIOURS.items()}
    ops = dict(DECLARATION["operations"])
    if change == "undeclared":
        del ops["delete"]
    elif change == "orphan":
        behaviours["identity"]["Gone V1#List"] = behaviours["identity"]["Utilities V1#Identity"]
    elif change == "twice":
        behaviours["spare"] = {"Utilities V1#Identity": behaviours["identity"]["Utilities V1#Identity"]}
    else:
        behaviours["spare"] = {"Severities V1#List": behaviours["identity"]["Utilities V1#Identity"]}
    monkeypatch.setattr(organisation, "BEHAVIOURS", behaviours)  # read per contract file: tmp_path is new
    with pytest.raises(ServingError, match=re.escape(message)):
        create_app(spec_file=write_widget_contract(tmp_path, operations=ops))
