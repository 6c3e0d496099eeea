from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from incident_contract.docs import build_site
from tests.docs.browser import CHROMIUM_MISSING, INSTALL_CHROMIUM, Browser, find_chromium, in_ci


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


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_site(out)
    return out
