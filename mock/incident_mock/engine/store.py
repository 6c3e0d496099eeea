"""The mock's state and the lock: keys, the settings catalog, incidents, idempotency keys and cursors.

Framework-free on purpose: handlers translate HTTP to calls on a `Store`, and a test can reach every
rule here without a server (tests/mock/test_store.py). The rules for one incident live in `incidents`,
list matching in `listing`, a list's pass over the incidents in `scan`, remembered idempotency keys in
`idempotency`; they read a `Catalog` snapshot and never see the store. Every public method runs without
awaiting, so on one event loop each call is atomic; the lock makes that hold for threads too.

The store reads time from its `Clock` (clock.py) and holds at most what its `Limits` allow (limits.py); the
incidents and text it holds are counted in its sandbox's `Account`, its fair share of the mock's budgets.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import hmac
import re
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from incident_contract.document import Spec, load_spec
from incident_contract.facts import (
    idempotency_window_seconds,
    listed_by_default,
    status_category_aliases,
    status_moves,
)
from incident_contract.query import ListQuery
from incident_mock.domain import errors
from incident_mock.domain.clock import Clock, SystemClock
from incident_mock.domain.errors import NotFound, ValidationFailed
from incident_mock.domain.ids import Ids
from incident_mock.domain.limits import DEFAULTS, Account, Limits, capacity_reached, text_bytes
from incident_mock.domain.records import ApiKey, IncidentRecord, timestamp
from incident_mock.domain.settings import DEFAULT_FIXTURES
from incident_mock.engine.catalog import Catalog, find
from incident_mock.resources.incidents import listing
from incident_mock.resources.incidents import rules as incidents
from incident_mock.resources.incidents.idempotency import IdempotencyKeys, Remembered, digest
from incident_mock.resources.incidents.render_cache import RenderCache
from incident_mock.resources.incidents.scan import Scan

__all__ = ["DEFAULT_FIXTURES", "Rules", "Store", "StoreHolder", "discard", "read_fixtures"]

Json = dict[str, Any]
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
NUMBER = re.compile(r"[0-9]{1,18}")  # an incident number in a path: ASCII digits, at most 18 of them


@dataclass(frozen=True)
class Rules:
    """The contract's domain facts the store applies, read from openapi.yaml."""

    moves: Mapping[str, frozenset[str]]  # x-status-category-moves
    listed_by_default: tuple[str, ...]  # x-listed-by-default of the incident list's `mode`
    idempotency_window: dt.timedelta = dt.timedelta(hours=24)  # x-idempotency-window-seconds
    # x-value-aliases of the incident list's status_category: a status category's newer name -> its own
    category_aliases: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: Spec) -> Rules:
        window = dt.timedelta(seconds=idempotency_window_seconds(spec))
        return cls(status_moves(spec), listed_by_default(spec), window, status_category_aliases(spec))


class Store:
    def __init__(
        self,
        fixtures: Json,
        rules: Rules | None = None,
        *,
        clock: Clock | None = None,
        limits: Limits = DEFAULTS,
        totals: Account | None = None,
        ids: Ids | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.totals = totals or Account.alone(limits)
        self.released = False
        self.rules = rules or Rules.from_spec(load_spec())
        self.clock: Clock = clock or SystemClock()
        self.ids = ids or Ids(None, self.clock)  # incident and severity ids (seeded: reproducible)
        self.limits = limits
        self.keys = [ApiKey(k["id"], k["token"], k["name"], tuple(k["roles"])) for k in fixtures["api_keys"]]
        self.catalog = Catalog.from_fixtures(fixtures, self.rules.category_aliases)
        self.incidents: list[IncidentRecord] = []  # creation order; index == seq
        # bytes of the strings held in incidents and severities (limits.text_bytes)
        self.text = sum(_severity_text(s) for s in self.catalog.severities.values())
        self.totals.add_text(self.text)
        self.by_id: dict[str, IncidentRecord] = {}
        self.idempotency = IdempotencyKeys(self.rules.idempotency_window)
        self.counts: Counter[tuple[str, str]] = Counter()  # (mode, visibility) -> incidents
        # One creator object per key, shared by its incidents: fewer objects for the garbage collector.
        self.creators = {key.id: incidents.creator_of(key) for key in self.keys}
        self.rendered = RenderCache(incidents.render, max_bytes=limits.render_cache_bytes)
        try:
            for seed in fixtures.get("incidents", []):
                creator = next(k for k in self.keys if k.token == seed["created_by"])
                self.create_incident(seed["payload"], creator, incident_id=seed.get("id"))
        except BaseException:  # fixtures that do not hold together: give back what was counted in
            self.release()
            raise

    @property
    def severities(self) -> Mapping[str, Json]:
        return self.catalog.severities

    # --- keys --------------------------------------------------------------------------------------
    def key_for(self, token: str) -> ApiKey | None:
        """The key with this token. Compares every key in constant time, so timing leaks nothing."""
        found = None
        for key in self.keys:
            if hmac.compare_digest(key.token.encode(), token.encode()):
                found = key
        return found

    # --- settings ----------------------------------------------------------------------------------
    def _hold(self, more: int) -> None:
        """Count `more` bytes of text in, or refuse them past the budget (before anything changes)."""
        if more > 0:
            self.totals.admit_text(more)  # the sandbox's fair share of the mock's text (limits.Shares)
        self.text += more
        if not self.released:
            self.totals.add_text(more)

    def release(self) -> None:
        """Give what this store holds back to the totals: it has been reset away or deleted."""
        with self.lock:
            if not self.released:
                self.released = True
                self.totals.add_incidents(-len(self.incidents))
                self.totals.add_text(-self.text)

    def list_severities(self) -> list[Json]:
        return sorted(self.catalog.severities.values(), key=lambda s: (s["rank"], s["created_at"]))

    def save_severity(self, body: Json, severity_id: str | None = None) -> Json:
        """Create a severity, or update one (every field the body leaves out keeps its value)."""
        with self.lock:
            table = self.catalog.severities
            current = find(table, "severity", severity_id) if severity_id else None
            name = body["name"]
            if any(s["name"].casefold() == name.casefold() and s is not current for s in table.values()):
                raise ValidationFailed.invalid("name", f"a severity named {name!r} exists")
            if current is None and len(table) >= self.limits.max_severities:
                raise capacity_reached("severities", "max_severities", self.limits.max_severities)
            stamp = timestamp(self.clock.now())
            if current is None:
                rank = body.get("rank", max((s["rank"] for s in table.values()), default=0) + 1)
                saved = {"id": self.ids.ulid(), "created_at": stamp}
            else:
                rank = body.get("rank", current["rank"])
                saved = dict(current)
            saved.update(name=name, description=body["description"], rank=rank, updated_at=stamp)
            self._hold(_severity_text(saved) - (_severity_text(current) if current else 0))
            self.catalog = self.catalog.with_severities({**table, saved["id"]: saved})
            return saved

    def delete_severity(self, severity_id: str) -> None:
        with self.lock:
            gone = find(self.catalog.severities, "severity", severity_id)
            if any(i.severity_id == severity_id for i in self.incidents):
                raise ValidationFailed.invalid("id", "incidents still use this severity")
            self._hold(-_severity_text(gone))
            rest = {k: v for k, v in self.catalog.severities.items() if k != severity_id}
            self.catalog = self.catalog.with_severities(rest)

    def list_options(
        self, custom_field_id: str, page_size: int, after: str | None
    ) -> tuple[list[Json], str | None]:
        """One page of a custom field's options, and the cursor of the next page (None on the last)."""
        if custom_field_id not in self.catalog.custom_fields:
            raise ValidationFailed.invalid("custom_field_id", "no such custom field")
        ordered = self.catalog.options_of(custom_field_id)
        start = 0
        if after is not None:
            ids = [o["id"] for o in ordered]
            if after not in ids:
                raise ValidationFailed.invalid("after", "unknown cursor")
            start = ids.index(after) + 1
        page = ordered[start : start + page_size]
        more = start + page_size < len(ordered)
        return page, (page[-1]["id"] if more and page else None)

    # --- incidents ---------------------------------------------------------------------------------
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
            self._hold(incidents.weight(record))
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
            shown = ref if len(ref) <= 100 else f"{ref[:100]}..."
            if ref[:4].upper() == "INC-" and NUMBER.fullmatch(ref[4:]):
                raise NotFound(errors.NOT_FOUND_REFERENCE.format(id=shown, number=ref[4:]))
            raise NotFound(errors.NOT_FOUND.format(kind="incident", id=shown))
        return record

    def edit_incident(self, ref: str, body: Json, private_ok: bool) -> IncidentRecord:
        """Apply an edit; nothing changes unless all of it is valid."""
        with self.lock:
            record = self.find_incident(ref, private_ok)
            draft = copy.deepcopy(record, {id(record.creator): record.creator})  # the creator stays shared
            incidents.apply_edit(self.catalog, self.rules.moves, draft, body["incident"])
            draft.updated_at = self.clock.now()
            draft.version += 1
            self._hold(incidents.weight(draft) - incidents.weight(record))
            for f in dataclasses.fields(record):
                setattr(record, f.name, getattr(draft, f.name))
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


def _severity_text(severity: Json) -> int:
    return text_bytes(severity["name"], severity["description"])


class StoreHolder:
    """The current store of one sandbox; `reset()` swaps in a fresh one built from its fixtures.

    The fixtures are a file (the default sandbox: read again on every reset, so an edited file takes effect)
    or a parsed document shared with other sandboxes and never changed. `dashboard_url`, when given,
    replaces the fixtures': it comes from the address the mock really serves (or `--public-url`), and the
    identity's `dashboard_url` and every incident's `permalink` derive from it. Every store it builds gets
    the same `limits`, `clock`, `totals` and `ids`. A reset gives the old store's counts back to the totals at
    once and frees it in a thread, a slice at a time, so the reset of a big store does not freeze other
    clients.
    """

    def __init__(
        self,
        fixtures: Path | Json,
        rules: Rules,
        dashboard_url: str | None = None,
        *,
        limits: Limits = DEFAULTS,
        clock: Clock | None = None,
        totals: Account | None = None,
        ids: Ids | None = None,
    ) -> None:
        self.fixtures, self.rules, self.dashboard_url = fixtures, rules, dashboard_url
        self.limits, self.clock, self.totals, self.ids = limits, clock, totals or Account.alone(limits), ids
        self.store = self.build()

    def build(self) -> Store:
        if isinstance(self.fixtures, Path):
            data = read_fixtures(self.fixtures)
        else:  # shared: copy what the store could change (seed payloads) and what is set below
            data = {**self.fixtures, "organisation": dict(self.fixtures["organisation"])}
            data["incidents"] = copy.deepcopy(self.fixtures.get("incidents", []))
        if self.dashboard_url is not None:
            data["organisation"]["dashboard_url"] = self.dashboard_url
        return Store(data, self.rules, limits=self.limits, clock=self.clock, totals=self.totals, ids=self.ids)

    def reset(self) -> threading.Thread:
        """Swap in a fresh store; returns the thread that frees the old one (tests join it)."""
        old = self.store
        old.release()  # first: the fresh store's fixtures may need the share the old one counted
        self.store = self.build()
        return discard(old)


def read_fixtures(path: Path) -> Json:
    with open(path, encoding="utf-8") as fh:
        data: Json = yaml.load(fh, Loader=SAFE_LOADER)  # libyaml's: ten times faster than PyYAML's own
    return data


def discard(store: Store) -> threading.Thread:
    """Give a store's counts back at once and free it in a thread; returns the thread (tests join it)."""
    store.release()
    freeing = threading.Thread(target=store.dispose, name="incident-mock-dispose", daemon=True)
    freeing.start()
    return freeing
