"""Reading and writing the catalog's two tables on a sandbox's store.

The rows are written here rather than by the engine's create and update (the catalog's writes are all
behaviour), under the store's lock, within the resource's cap and the sandbox's text budget. A row's text
is the strings it holds; the fixtures' rows are counted in the first time a store's catalog is written.
Deleting goes through the engine's `delete`, so the delete rules declared by other resources that refer
to catalog types or entries hold, and a type's entries go with it (their declared `cascade`).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

from incident_mock.domain.limits import capacity_reached, text_bytes
from incident_mock.domain.records import timestamp
from incident_mock.engine.catalog import find
from incident_mock.engine.store import ResourceStore

__all__ = ["ENTRIES", "TYPES", "Tables"]

Json = dict[str, Any]
TYPES = "catalog_types"
ENTRIES = "catalog_entries"
# the stores whose fixture rows have been counted against the text budget
_COUNTED: weakref.WeakSet[ResourceStore] = weakref.WeakSet()


def weight(row: Json | None) -> int:
    """The text a catalog row holds."""
    return text_bytes(row) if row is not None else 0


class Tables:
    def __init__(self, store: ResourceStore) -> None:
        self.store = store

    # --- reading ---------------------------------------------------------------------------------------
    def types(self) -> list[Json]:
        return self.store.rows(TYPES)

    def type(self, type_id: str) -> Json:
        return self.store.get(TYPES, type_id)

    def entry(self, entry_id: str) -> Json:
        return self.store.get(ENTRIES, entry_id)

    def entries_of(self, type_id: str) -> list[Json]:
        """A type's entries, by rank, then name, then id."""
        mine = [e for e in self.store.table(ENTRIES).values() if e["catalog_type_id"] == type_id]
        return sorted(mine, key=lambda e: (e.get("rank", 0), e["name"], e["id"]))

    def entry_of(self, type_id: str, entry_id: str) -> Json:
        """An entry of this type, or 404 as for an unknown id."""
        entry = find(self.store.table(ENTRIES), self.store.resources[ENTRIES].kind, entry_id)
        if entry["catalog_type_id"] != type_id:
            find({}, self.store.resources[ENTRIES].kind, entry_id)
        return entry

    def now(self) -> str:
        return timestamp(self.store.clock.now())

    def new_id(self) -> str:
        return self.store.ids.ulid()

    # --- writing ---------------------------------------------------------------------------------------
    def _count_fixtures(self) -> None:
        if self.store not in _COUNTED:
            _COUNTED.add(self.store)
            held = sum(weight(r) for name in (TYPES, ENTRIES) for r in self.store.table(name).values())
            self.store.hold(held)

    def put(self, name: str, rows: Iterable[Json]) -> None:
        """Save these rows of one table (new ones or new versions of held ones), all or none."""
        store, rows = self.store, list(rows)
        with store.lock:
            self._count_fixtures()
            table = dict(store.table(name))
            before = sum(weight(table.get(r["id"])) for r in rows)
            fresh = sum(1 for r in rows if r["id"] not in table)
            cap = getattr(store.limits, store.resources[name].cap)
            if fresh and len(table) + fresh > cap:
                raise capacity_reached(store.resources[name].label, store.resources[name].cap, cap)
            store.hold(sum(weight(r) for r in rows) - before)
            table.update((r["id"], r) for r in rows)
            store.catalog = store.catalog.with_table(name, table)

    def delete_type(self, type_id: str) -> None:
        """Delete a type and its entries (refused as other resources' declarations say)."""
        store = self.store
        with store.lock:
            self._count_fixtures()
            gone = weight(self.type(type_id)) + sum(weight(e) for e in self.entries_of(type_id))
            store.delete(TYPES, type_id)
            store.hold(-gone)

    def delete_entry(self, entry_id: str) -> None:
        store = self.store
        with store.lock:
            self._count_fixtures()
            gone = weight(self.entry(entry_id))
            store.delete(ENTRIES, entry_id)
            store.hold(-gone)
