"""IncidentV2 JSON per incident, kept until the incident or the settings it embeds change.

A list page would otherwise render and encode 25 incidents from scratch on every request: that was most
of the cost of a list request. An entry is fresh while the record's `version` and the catalog's
`generation` are the ones it was rendered from, so no write has to remember to invalidate anything.

The cache is bounded by bytes as well as entries: past `max_bytes` of JSON (or `limit` entries) the
oldest entries are dropped, and an incident whose JSON is over 1/64 of the budget is rendered each time
instead of kept, so a few incidents near the body limit cannot crowd out every other entry, and memory
never grows with the number of reads.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from incident_mock.domain.records import IncidentRecord
from incident_mock.engine.catalog import Catalog

__all__ = ["LIMIT", "MAX_BYTES", "RenderCache"]

LIMIT = 4096
MAX_BYTES = 32 * 1024 * 1024


class RenderCache:
    def __init__(
        self,
        render: Callable[[Catalog, IncidentRecord], dict[str, Any]],
        limit: int = LIMIT,
        max_bytes: int = MAX_BYTES,
    ) -> None:
        self.render, self.limit, self.max_bytes = render, limit, max_bytes
        self.largest = max(1, max_bytes // 64)  # bigger entries are not kept
        # incident id -> (version, generation, JSON), oldest first
        self.entries: OrderedDict[str, tuple[int, int, bytes]] = OrderedDict()
        self.bytes = 0  # the JSON held

    def __len__(self) -> int:
        return len(self.entries)

    def encoded(self, record: IncidentRecord, catalog: Catalog) -> bytes:
        """The JSON of the record's IncidentV2 as the catalog renders it."""
        hit = self.entries.get(record.id)
        if hit is not None and hit[0] == record.version and hit[1] == catalog.generation:
            return hit[2]
        data = json.dumps(self.render(catalog, record), separators=(",", ":"), ensure_ascii=False).encode()
        if hit is not None:
            del self.entries[record.id]
            self.bytes -= len(hit[2])
        if len(data) > self.largest:
            return data
        while self.entries and (len(self.entries) >= self.limit or self.bytes + len(data) > self.max_bytes):
            self.bytes -= len(self.entries.popitem(last=False)[1][2])  # the oldest entry
        self.entries[record.id] = (record.version, catalog.generation, data)
        self.bytes += len(data)
        return data
