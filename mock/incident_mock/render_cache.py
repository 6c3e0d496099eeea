"""IncidentV2 JSON per incident, kept until the incident or the settings it embeds change.

A list page would otherwise render and encode 25 incidents from scratch on every request: that was most
of the cost of a list request. An entry is fresh while the record's `version` and the catalog's
`generation` are the ones it was rendered from, so no write has to remember to invalidate anything. The
cache is bounded: past `limit` entries the oldest is dropped, so memory grows with the store's size at
most, never with the number of reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from incident_mock.catalog import Catalog
from incident_mock.records import IncidentRecord

__all__ = ["LIMIT", "RenderCache"]

LIMIT = 4096


class RenderCache:
    def __init__(
        self, render: Callable[[Catalog, IncidentRecord], dict[str, Any]], limit: int = LIMIT
    ) -> None:
        self.render, self.limit = render, limit
        self.entries: dict[str, tuple[int, int, bytes]] = {}  # incident id -> (version, generation, JSON)

    def __len__(self) -> int:
        return len(self.entries)

    def encoded(self, record: IncidentRecord, catalog: Catalog) -> bytes:
        """The JSON of the record's IncidentV2 as the catalog renders it."""
        hit = self.entries.get(record.id)
        if hit is not None and hit[0] == record.version and hit[1] == catalog.generation:
            return hit[2]
        data = json.dumps(self.render(catalog, record), separators=(",", ":"), ensure_ascii=False).encode()
        if hit is None and len(self.entries) >= self.limit:
            self.entries.pop(next(iter(self.entries)), None)  # the oldest entry
        self.entries[record.id] = (record.version, catalog.generation, data)
        return data
