from __future__ import annotations

from typing import Any

import pytest

from mock.contract import load_spec


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    return load_spec()
