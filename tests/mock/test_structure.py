"""The shape of the mock: every operation resolves, no handler is orphaned, handlers stay out of the web layer.

The import direction between the three packages, cycles and the domain's freedom from web frameworks are
checked for the whole tree in tests/test_layout.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from incident_contract.operations import operations
from incident_mock.handlers import HANDLERS
from tests.imports import external, graph

MOCK = Path(__file__).resolve().parents[2] / "mock" / "incident_mock"
WEB = {"connexion", "starlette", "uvicorn", "httpx"}
WEB_LAYER = {"incident_mock.app", "incident_mock.intake", "incident_mock.admission", "incident_mock.dispatch",
             "incident_mock.control", "incident_mock.error_handler", "incident_mock.authentication"}  # fmt: skip


def test_every_operation_resolves_and_no_handler_is_orphaned(spec: dict[str, Any]) -> None:
    assert set(HANDLERS) == set(operations(spec))


def test_handlers_do_not_reach_into_the_web_layer() -> None:
    handlers = [m for m in graph() if m.startswith("incident_mock.handlers.")]
    assert len(handlers) >= 7
    for module in handlers:
        assert external(module) & WEB == set(), module
        assert graph()[module] & WEB_LAYER == set(), module


def test_no_handler_compares_role_strings(spec: dict[str, Any]) -> None:
    roles = set(spec["x-api-key-roles"])
    for path in (MOCK / "handlers").glob("*.py"):
        text = path.read_text()
        assert not [r for r in roles if f'"{r}"' in text], path.name
