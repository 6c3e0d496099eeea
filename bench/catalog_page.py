"""The catalog entries list cell: one page (25) of the fixtures' Service type, after adding entries to it
through the API so that the page is full and the list sorts more than a page.

The count is read back from the answer's own `pagination_meta.total_record_count`, so this works for any
server that implements the contract.
"""

from __future__ import annotations

import httpx

__all__ = ["ENTRIES_PATH", "SERVICE_TYPE", "seed_entries"]

SERVICE_TYPE = "01JGZ0CTYPE0000000SERV1CE0"  # the packaged fixtures' Service catalog type
ENTRIES_PATH = f"/v3/catalog_entries?catalog_type_id={SERVICE_TYPE}&page_size=25"


def seed_entries(base: str, token: str, count: int) -> int:
    """Create `count` entries of the Service type; returns how many entries it then holds."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for i in range(count):
            body = {"catalog_type_id": SERVICE_TYPE, "name": f"Bench service {i:04d}", "attribute_values": {}}
            client.post("/v3/catalog_entries", json=body).raise_for_status()
        answer = client.get(ENTRIES_PATH)
        answer.raise_for_status()
    total: int = answer.json()["pagination_meta"]["total_record_count"]
    return total
