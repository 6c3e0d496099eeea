"""The sync half of the Python API (`incident_mock/testing/sync.py`) is generated from the async half
(`aio.py`) by tests/generate_sync.py (`make sync`): the committed file must be what the generator writes now,
and the two halves must offer the same methods, documented alike."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from incident_mock.testing import aio, sync
from tests.generate_sync import RENAMES, TARGET, generate

# the classes of both halves: AsyncSandbox and Sandbox, ... (SandboxCreation is the async half's own)
PAIRS = [
    (a, s) for a, s in RENAMES.items() if isinstance(getattr(aio, a, None), type) and a != "SandboxCreation"
]


def test_the_committed_sync_half_is_what_the_generator_writes(tmp_path: Path) -> None:
    written = generate(tmp_path).read_text(encoding="utf-8")
    committed = TARGET.read_text(encoding="utf-8")
    assert written == committed, "sync.py is stale or edited by hand: run `make sync` and commit it"


@pytest.mark.parametrize(("async_name", "sync_name"), PAIRS)
def test_both_halves_have_the_same_documented_methods(async_name: str, sync_name: str) -> None:
    async_class, sync_class = getattr(aio, async_name), getattr(sync, sync_name)
    assert inspect.getdoc(async_class) and inspect.getdoc(sync_class)
    async_methods = {n: f for n, f in vars(async_class).items() if callable(f) and not n.startswith("_")}
    sync_methods = {n: f for n, f in vars(sync_class).items() if callable(f) and not n.startswith("_")}
    assert set(async_methods) == set(sync_methods) and async_methods
    for name, method in async_methods.items():
        twin = sync_methods[name]
        assert inspect.getdoc(method) and inspect.getdoc(twin), f"{sync_name}.{name} has no docstring"
        assert not inspect.iscoroutinefunction(twin)
        assert list(inspect.signature(method).parameters) == list(inspect.signature(twin).parameters)
    assert "await" not in inspect.getsource(sync_class) and "Async" not in inspect.getsource(sync_class)
