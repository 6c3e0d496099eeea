"""Attacks on the journals, each a defect found on main and fixed here.

- a request body of JSON nested deeper than Python parses (16 KiB of brackets, within the journal's body
  limit) is refused 400 but recorded; showing it then raised RecursionError: the sandbox's journal, the
  unattributed journal (which any client without a key can write to) and the dashboard's pages failed.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from incident_mock.app import create_app
from tests.mock.conftest import FULL
from tests.servers import serve

NESTED = b'{"visibility": "private", "x": ' + b"[" * 7000 + b"]" * 7000 + b"}"
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with serve(create_app()) as url:
        yield url


def test_a_deeply_nested_body_is_recorded_and_shown_as_text(mock_url: str) -> None:
    with httpx.Client(base_url=mock_url, timeout=30) as client:
        made = client.post("/_mock/sandboxes", json={}).json()["sandbox"]
        token = next(k["token"] for k in made["keys"] if k["replaces"] == "mock-key-full")
        sent = client.post(
            "/v2/incidents", content=NESTED, headers={**JSON, "Authorization": f"Bearer {token}"}
        )
        assert sent.status_code == 400
        anonymous = client.post(
            "/v2/incidents", content=NESTED, headers={**JSON, **FULL, "Authorization": "x"}
        )
        assert anonymous.status_code == 401
        journal = client.get(f"/_mock/sandboxes/{made['id']}/requests")
        assert journal.status_code == 200, journal.text
        [entry] = journal.json()["requests"]
        assert entry["request_body"].startswith('{"visibility"')
        unattributed = client.get("/_mock/unattributed/requests")
        assert unattributed.status_code == 200, unattributed.text
        for page in (f"/dashboard/sandboxes/{made['id']}", "/dashboard/unattributed"):
            assert client.get(page).status_code == 200, page
