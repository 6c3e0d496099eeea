from __future__ import annotations

from pathlib import Path

import pytest

from incident_contract.docs import build_site


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_site(out)
    return out
