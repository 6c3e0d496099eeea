from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from incident_contract.document import load_spec
from tests.docs.browser import CHROMIUM_MISSING, INSTALL_CHROMIUM, Browser, find_chromium, in_ci


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    return load_spec()


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    """One headless Chromium for the session. Missing chromium skips locally but fails in CI."""
    executable = find_chromium()
    if executable is None:
        message = f"{CHROMIUM_MISSING} ({INSTALL_CHROMIUM})"
        if in_ci():
            pytest.fail(message + "; CI must run the browser tests")
        pytest.skip(message)
    instance = Browser(executable, tmp_path_factory.mktemp("chromium-profile"))
    yield instance
    instance.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Browser tests skip only where Chromium is missing (never in CI): say so in one closing line."""
    skipped = terminalreporter.stats.get("skipped", [])
    missing = [r for r in skipped if CHROMIUM_MISSING in str(getattr(r, "longrepr", ""))]
    if missing:
        terminalreporter.write_line(
            f"{len(missing)} browser tests did not run: Chromium is missing; install it with: {INSTALL_CHROMIUM}",
            yellow=True,
            bold=True,
        )
