from __future__ import annotations

from typing import Any

import pytest
from incident_contract.document import load_spec


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    return load_spec()
