"""The alert-events cells: a monitoring tool posting events to the fixtures' HTTP alert source.

`POST /v2/alert_events/http/{alert_source_config_id}?token=...` authenticates with the source's own
`secret_token` (not an API key), read here from the mock (`GET /v2/alert_sources/{id}`: each sandbox
answers a token of its own). The contract lets the token travel in the `token` query parameter or as
`Authorization: Bearer <token>`; its security scheme is an http bearer one, so Prism, which checks only the
header for such a scheme, answers an event with the token in the query alone 401. The cells send both (the
parameter decides for the mock), so both servers answer the very same request; `probe` records what each
answers to one event sent each way.

`alerts_stored` counts the default sandbox's alerts by paging the alert list (the list has no total).
"""

from __future__ import annotations

import json

import httpx

__all__ = ["SOURCE", "alerts_stored", "event", "path", "probe", "source_token"]

SOURCE = "01JGZ0SRC000000000000HTTP0"  # the packaged fixtures' HTTP alert source


def source_token(base: str, api_key: str) -> str:
    """The source's secret_token in the mock's default sandbox."""
    answer = httpx.get(
        f"{base}/v2/alert_sources/{SOURCE}", headers={"Authorization": f"Bearer {api_key}"}, timeout=30
    )
    answer.raise_for_status()
    token: str = answer.json()["alert_source"]["secret_token"]
    return token


def path(token: str) -> str:
    return f"/v2/alert_events/http/{SOURCE}?token={token}"


def event(key: str) -> dict[str, object]:
    """The body lua/post_alert.lua sends (the contract's example, with its own deduplication key)."""
    return {
        "deduplication_key": key,
        "status": "firing",
        "title": "Disk 95% full on db-1",
        "description": "The data volume of db-1 passed 95% of its size.",
        "source_url": "https://monitoring.example.com/alerts/disk-full-db-1",
        "metadata": {"service": "postgres", "team": "platform"},
    }


def _post(base: str, token: str, key: str, header: bool) -> str:
    headers = {"Authorization": f"Bearer {token}"} if header else {}
    answer = httpx.post(f"{base}{path(token)}", json=event(key), headers=headers, timeout=30)
    try:
        detail = json.dumps(answer.json())[:160]
    except ValueError:
        detail = answer.text[:160]
    return f"{answer.status_code} {detail}"


def probe(name: str, base: str, token: str, key: str) -> list[str]:
    """What a server answers to one event with the token in the query alone, then in the query and the
    header (the form the cells send)."""
    alone, both = _post(base, token, key, False), _post(base, token, key, True)
    return [
        f"{name} answers an alert event with the token in the query alone: {alone}",
        f"{name} answers it with the token in the query and as a Bearer header: {both}",
    ]


def alerts_stored(base: str, api_key: str) -> int:
    """How many alerts the default sandbox holds."""
    count, after = 0, None
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {api_key}"}, timeout=60) as client:
        while True:
            params: dict[str, str | int] = {"page_size": 250, **({"after": after} if after else {})}
            answer = client.get("/v2/alerts", params=params)
            answer.raise_for_status()
            page = answer.json()
            count += len(page["alerts"])
            after = page["pagination_meta"].get("after")
            if not after or not page["alerts"]:
                return count
