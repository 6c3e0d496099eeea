"""The layout holds: imports go core <- mock and core <- conformance, never back or across, and never in a cycle.

The graph comes from tests/imports.py (`python -m tests.imports` prints it).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.imports import cycles, external, graph, imported_names, modules

WEB = {"connexion", "starlette", "uvicorn", "httpx", "swagger_ui_bundle", "jsonschema_rs"}
SUITE = {"schemathesis", "hypothesis", "rich", "click"}
# The mock's domain: state and rules, reachable from a test without a server.
DOMAIN = (
    "records",
    "store",
    "incidents",
    "listing",
    "render_cache",
    "errors",
    "auth",
    "catalog",
    "clock",
    "limits",
    "idempotency",
    "sandboxes",
    "journal",
)


def package(module: str) -> str:
    return module.split(".")[0]


def test_every_package_has_modules() -> None:
    assert {package(m) for m in modules()} == {"incident_contract", "incident_mock", "incident_conformance"}


@pytest.mark.parametrize(
    ("importer", "forbidden"),
    [
        ("incident_contract", {"incident_mock", "incident_conformance"}),
        ("incident_mock", {"incident_conformance"}),
        ("incident_conformance", {"incident_mock"}),
    ],
)
def test_imports_go_one_way(importer: str, forbidden: set[str]) -> None:
    wrong = {
        f"{module} -> {target}"
        for module, targets in graph().items()
        if package(module) == importer
        for target in targets
        if package(target) in forbidden
    }
    assert wrong == set()


def test_no_import_cycles_type_checking_imports_included() -> None:
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_type_checking_and_function_level_imports_count(tmp_path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from incident_mock.engine.store import Store\n"
        "def f():\n    from . import sibling\n"
    )
    assert {"incident_mock.engine.store", "incident_mock.sibling"} <= imported_names(
        "incident_mock.m", source
    )


def test_the_core_imports_no_web_framework_and_no_suite_library() -> None:
    wrong = {m: external(m) & (WEB | SUITE) for m in modules() if package(m) == "incident_contract"}
    assert {m: names for m, names in wrong.items() if names} == {}


def test_the_suite_imports_no_web_framework_but_its_client() -> None:
    wrong = {m: external(m) & (WEB - {"httpx"}) for m in modules() if package(m) == "incident_conformance"}
    assert {m: names for m, names in wrong.items() if names} == {}


def test_the_mock_domain_imports_no_web_framework() -> None:
    domain = [m for m in modules() if package(m) == "incident_mock" and m.split(".")[-1] in DOMAIN]
    assert len(domain) >= 5
    wrong = {m: external(m) & WEB for m in domain}
    assert {m: names for m, names in wrong.items() if names} == {}


OUTSIDE = (
    "contract.md",
    "testing-kit.md",
    "webhooks.md",
    "gotchas.md",
    "style.md",
    "shared/design",
    "shared/reference",
)


def test_nothing_in_the_repo_points_at_files_outside_it() -> None:
    """Code and docs cite openapi.yaml or a doc in the repo, never the design notes the project grew from."""
    root = Path(__file__).resolve().parents[1]
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout
    found = [
        f"{name}:{n}"
        for name in tracked.splitlines()
        if name.endswith((".py", ".md", ".yaml", ".toml", ".lua")) and name != "tests/test_layout.py"
        and (root / name).is_file()
        for n, line in enumerate((root / name).read_text(encoding="utf-8").splitlines(), 1)
        if any(marker in line for marker in OUTSIDE)
    ]  # fmt: skip
    assert found == []


def test_the_readme_states_how_many_operations_the_contract_serves() -> None:
    import re

    from incident_contract.document import load_spec
    from incident_contract.operations import operations

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    stated = re.search(r"The contract serves (\d+) of the", text)
    assert stated is not None
    assert int(stated.group(1)) == len(operations(load_spec()))
