"""The shape of the code: every operation resolves, no handler is orphaned, imports go one way."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from incident_contract.document import operations
from incident_mock.handlers import HANDLERS

MOCK = Path(__file__).resolve().parents[2] / "mock" / "incident_mock"
FRAMEWORKS = ("connexion", "starlette", "uvicorn", "httpx")
FRAMEWORK_FREE = [
    "store.py",
    "records.py",
    "incidents.py",
    "listing.py",
    "errors.py",
    "auth.py",
]


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_every_operation_resolves_and_no_handler_is_orphaned(spec: dict[str, Any]) -> None:
    assert set(HANDLERS) == set(operations(spec))


def test_the_domain_layer_imports_no_web_framework() -> None:
    for name in FRAMEWORK_FREE:
        found = {i for i in imports(MOCK / name) if i.split(".")[0] in FRAMEWORKS}
        assert found == set(), name


def test_handlers_do_not_reach_into_the_web_layer() -> None:
    for path in (MOCK / "handlers").glob("*.py"):
        found = {
            i
            for i in imports(path)
            if i.split(".")[0] in FRAMEWORKS or i in ("incident_mock.app", "incident_mock.middleware")
        }
        assert found == set(), path.name


def test_no_handler_compares_role_strings(spec: dict[str, Any]) -> None:
    roles = set(spec["x-api-key-roles"])
    for path in (MOCK / "handlers").glob("*.py"):
        text = path.read_text()
        assert not [r for r in roles if f'"{r}"' in text], path.name
