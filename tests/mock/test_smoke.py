from __future__ import annotations

import httpx

from tests.mock.conftest import FULL


async def test_in_process_client_reaches_the_mock(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/severities", headers=FULL)
    assert response.status_code == 200
    assert [s["name"] for s in response.json()["severities"]] == ["Minor", "Major", "Critical"]


def test_live_server_answers_over_a_socket(live_url: str) -> None:
    response = httpx.get(f"{live_url}/v1/identity", headers=FULL)
    assert response.status_code == 200
    assert response.headers["x-request-id"]
