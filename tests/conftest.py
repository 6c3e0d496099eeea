from __future__ import annotations

from typing import Any

import pytest

from incident_contract.document import load_spec
from tests.docs.browser import CHROMIUM_MISSING, INSTALL_CHROMIUM


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    return load_spec()


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
