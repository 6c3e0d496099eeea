"""Incidents on top of the engine's store: the behaviour a declaration cannot express.

The engine's `ResourceStore` holds the tables (severities, types, statuses, ...) as a `Catalog` snapshot,
the keys, the lock and the text budget; `IncidentStore` adds the incidents themselves. The rules for one
incident live in `rules`, list matching in `listing`, a list's pass over the incidents in `scan`,
remembered idempotency keys in `idempotency`, incident updates and who held the roles in `history`; they
read a `Catalog` snapshot and never see the store. It
answers the engine's `uses` for incidents, so deleting a severity an incident uses is refused as the
incidents' declaration (x-resources) states. The incidents of all sandboxes' stores are counted in the
sandbox's `Account`, its fair share of the mock's budgets.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections import Counter
from typing import Any

from incident_contract.query import ListQuery
from incident_mock.domain import errors
from incident_mock.domain.clock import Clock
from incident_mock.domain.errors import NotFound, ValidationFailed
from incident_mock.domain.ids import Ids
from incident_mock.domain.limits import DEFAULTS, Account, Limits, capacity_reached
from incident_mock.domain.records import ApiKey, IncidentRecord
from incident_mock.engine.store import ResourceStore, Rules
from incident_mock.resources.incidents import listing
from incident_mock.resources.incidents import rules as incidents
from incident_mock.resources.incidents.history import History, UpdateRecord
from incident_mock.resources.incidents.idempotency import IdempotencyKeys, Remembered, digest
from incident_mock.resources.incidents.render_cache import RenderCache
from incident_mock.resources.incidents.scan import Scan

__all__ = ["IncidentStore"]

Json = dict[str, Any]
NUMBER = re.compile(r"[0-9]{1,18}")  # an incident number in a path: ASCII digits, at most 18 of them
# a reference field of the incidents' declaration -> the record's attribute holding it (the settings an
# incident holds by id in its custom fields and role assignments are looked up in `uses`)
HELD_IN = {"severity_id": "severity_id", "incident_type_id": "type_id", "incident_status_id": "status_id"}


class IncidentStore(ResourceStore):
    def __init__(
        self,
        fixtures: Json,
        rules: Rules,
        *,
        clock: Clock | None = None,
        limits: Limits = DEFAULTS,
        totals: Account | None = None,
        ids: Ids | None = None,
    ) -> None:
        super().__init__(fixtures, rules, clock=clock, limits=limits, totals=totals, ids=ids)
        self.incidents: list[IncidentRecord] = []  # creation order; index == seq
        self.by_id: dict[str, IncidentRecord] = {}
        self.idempotency = IdempotencyKeys(self.rules.idempotency_window)
        self.counts: Counter[tuple[str, str]] = Counter()  # (mode, visibility) -> incidents
        # One creator object per key, shared by its incidents: fewer objects for the garbage collector.
        self.creators = {key.id: incidents.creator_of(key) for key in self.keys}
        self.rendered = RenderCache(incidents.render, max_bytes=limits.render_cache_bytes)
        self.history = History()  # incident updates and role stints, written by edits
        try:
            for seed in fixtures.get("incidents", []):
                creator = next(k for k in self.keys if k.token == seed["created_by"])
                self.create_incident(seed["payload"], creator, incident_id=seed.get("id"))
        except BaseException:  # fixtures that do not hold together: give back what was counted in
            self.release()
            raise

    def released_more(self) -> None:
        self.totals.add_incidents(-len(self.incidents))

    def uses(self, name: str, key: str, object_id: str) -> bool:
        if name != "incidents":
            return super().uses(name, key, object_id)
        if key == "custom_field_id":  # a value held for the field
            return any(object_id in i.custom_fields for i in self.incidents)
        if key == "incident_role_id":  # the role assigned
            return any(object_id in i.roles for i in self.incidents)
        if key == "value_option_id":  # the option held as a value
            return any(
                value.get("value_option_id") == object_id
                for i in self.incidents
                for values in i.custom_fields.values()
                for value in values
            )
        held = HELD_IN[key]
        return any(getattr(i, held) == object_id for i in self.incidents)

    def holds(self, name: str, object_id: str) -> bool:
        if name != "incidents":
            return super().holds(name, object_id)
        return object_id in self.by_id

    def visibility_of(self, incident_id: str) -> str | None:
        record = self.by_id.get(incident_id)
        return record.visibility if record is not None else None

    def create_incident(
        self, payload: Json, key: ApiKey, incident_id: str | None = None
    ) -> tuple[IncidentRecord, bool]:
        """Create, or replay this API key's earlier create with the same idempotency key.

        Returns (the incident, replayed). Idempotency keys are the API key's own (idempotency.py): the
        same `idempotency_key` from another API key is a different create.
        """
        with self.lock:
            moment = self.clock.now()
            sent = digest(payload)
            seen = self.idempotency.recall(key.id, payload["idempotency_key"], moment)
            if seen is not None and seen.incident_id in self.by_id:
                if seen.digest != sent:
                    raise ValidationFailed(
                        errors.REUSED, code="idempotency_key_reused", field="idempotency_key"
                    )
                return self.by_id[seen.incident_id], True
            if len(self.incidents) >= self.limits.max_incidents:
                raise capacity_reached("incidents", "max_incidents", self.limits.max_incidents)
            if not self.released:
                self.totals.admit_incident()  # the sandbox's fair share of max_total_incidents
            # Every check happens before anything is stored: a rejected create consumes nothing.
            record = incidents.build(
                self.catalog,
                payload,
                key,
                incident_id or self.ids.ulid(),
                seq=len(self.incidents),
                moment=moment,
                creator=self.creators.get(key.id),
            )
            self.hold(incidents.weight(record))
            self.incidents.append(record)
            self.by_id[record.id] = record
            self.idempotency.remember(key.id, payload["idempotency_key"], Remembered(sent, record.id, moment))
            self.counts[(record.mode, record.visibility)] += 1
            if not self.released:
                self.totals.add_incidents(1)
            return record, False

    def find_incident(self, ref: str, private_ok: bool) -> IncidentRecord:
        """By id or by number (ASCII digits only). A private incident the caller may not see does not exist
        for it."""
        record = self.by_id.get(ref)
        if record is None and NUMBER.fullmatch(ref) and 0 < int(ref) <= len(self.incidents):
            record = self.incidents[int(ref) - 1]
        if record is None or (record.visibility == "private" and not private_ok):
            shown = errors.shortened(ref)
            if ref[:4].upper() == "INC-" and NUMBER.fullmatch(ref[4:]):
                raise NotFound(errors.NOT_FOUND_REFERENCE.format(id=shown, number=ref[4:]))
            raise NotFound(errors.NOT_FOUND.format(kind="incident", id=shown))
        return record

    def edit_incident(
        self, ref: str, body: Json, private_ok: bool, key: ApiKey | None = None
    ) -> IncidentRecord:
        """Apply an edit; nothing changes unless all of it is valid. An edit that changes the status or
        the severity writes an incident update, by `key` (history.py)."""
        with self.lock:
            record = self.find_incident(ref, private_ok)
            draft = copy.deepcopy(record, {id(record.creator): record.creator})  # the creator stays shared
            incidents.apply_edit(self.catalog, self.rules.moves, draft, body["incident"])
            moment = draft.updated_at = self.clock.now()
            draft.version += 1
            moved = (draft.status_id, draft.severity_id) != (record.status_id, record.severity_id)
            if moved and len(self.history) >= self.limits.max_incidents:
                raise capacity_reached("incident updates", "max_incidents", self.limits.max_incidents)
            self.hold(incidents.weight(draft) - incidents.weight(record))
            roles_before = record.roles
            for f in dataclasses.fields(record):
                setattr(record, f.name, getattr(draft, f.name))
            if moved:
                updater = (self.creators.get(key.id) or incidents.creator_of(key)) if key is not None else {}
                catalog = self.catalog
                self.history.add_update(
                    UpdateRecord(
                        self.ids.ulid(),
                        record.id,
                        catalog.statuses[record.status_id],
                        catalog.severities[record.severity_id],
                        updater,
                        moment,
                    )
                )
            if record.roles != roles_before:
                self.history.roles_changed(record.id, roles_before, record.roles, record.created_at, moment)
            return record

    def encoded(self, record: IncidentRecord) -> bytes:
        """The record's IncidentV2 as JSON, from the render cache: pages are assembled from these bytes."""
        return self.rendered.encoded(record, self.catalog)

    def scan(self, query: ListQuery, private_ok: bool) -> Scan:
        """A list request's pass over the incidents, to be run in steps (`Scan.step`) by the caller."""
        catalog = self.catalog
        listing.check_references(query, catalog)
        modes = frozenset(query.modes or self.rules.listed_by_default)
        found = Scan(self.incidents, modes, private_ok, listing.matcher(query, catalog), query)
        if query.after is not None:
            anchor = self.by_id.get(query.after)
            if anchor is None or not found.visible(anchor):
                raise ValidationFailed.invalid("after", "unknown cursor")
            found.start_after(anchor.seq)
        if found.test is None:  # no filters: the counters know the total, and the page is all the work
            vis = ("public", "private") if private_ok else ("public",)
            found.total = sum(self.counts[(m, v)] for m in modes for v in vis)
        return found

    def list_incidents(
        self, query: ListQuery, private_ok: bool
    ) -> tuple[list[IncidentRecord], str | None, int]:
        """One page, the cursor of the next page (None on the last), and the visible total, in one go."""
        found = self.scan(query, private_ok)
        while not found.step():
            pass
        return found.result()

    def dispose(self, step: int = 2_000) -> None:
        """Let go of everything, a slice at a time: freeing a big store in one go holds the interpreter
        for tens of milliseconds, so `StoreHolder.reset` runs this in a thread after the swap. It takes no
        lock: nothing new reaches a store once it is swapped out, and a list still walking it skips what
        is gone."""
        while self.incidents:
            del self.incidents[-step:]
        while self.by_id:
            for _ in range(min(step, len(self.by_id))):
                self.by_id.popitem()
        entries = self.idempotency.entries
        while entries:
            for _ in range(min(step, len(entries))):
                entries.popitem()
        self.rendered.entries.clear()
        for _ in self.history.forget(step):
            pass
