"""The mock's state and the lock: keys, the settings catalog, incidents, idempotency keys and cursors.

Framework-free on purpose: handlers translate HTTP to calls on a `Store`, and a test can reach every
rule here without a server (tests/mock/test_store.py). The rules for one incident live in `incidents`,
list matching in `listing`; both read a `Catalog` snapshot and never see the store. Every public method
runs without awaiting, so on one event loop each call is atomic; the lock makes that hold for threads too.
"""

from __future__ import annotations

import copy
import hmac
import json
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ulid import ULID

from incident_contract.document import Spec, load_spec
from incident_contract.facts import listed_by_default, status_moves
from incident_contract.query import ListQuery
from incident_mock import incidents, listing
from incident_mock.catalog import Catalog, find
from incident_mock.errors import NotFound, ValidationFailed
from incident_mock.records import ApiKey, IncidentRecord, now, timestamp
from incident_mock.render_cache import RenderCache

from . import errors

__all__ = ["DEFAULT_FIXTURES", "Rules", "Store", "StoreHolder", "canonical"]

Json = dict[str, Any]
DEFAULT_FIXTURES = Path(__file__).with_name("fixtures.yaml")


def canonical(payload: Json) -> str:
    """Payloads are equal when they are equal as JSON, whatever their key order."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class Rules:
    """The contract's domain facts the store applies, read from openapi.yaml."""

    moves: Mapping[str, frozenset[str]]  # x-status-category-moves
    listed_by_default: tuple[str, ...]  # x-listed-by-default of the incident list's `mode`

    @classmethod
    def from_spec(cls, spec: Spec) -> Rules:
        return cls(status_moves(spec), listed_by_default(spec))


class Store:
    def __init__(self, fixtures: Json, rules: Rules | None = None) -> None:
        self.lock = threading.RLock()
        self.rules = rules or Rules.from_spec(load_spec())
        self.keys = [ApiKey(k["id"], k["token"], k["name"], tuple(k["roles"])) for k in fixtures["api_keys"]]
        self.catalog = Catalog.from_fixtures(fixtures)
        self.incidents: list[IncidentRecord] = []  # creation order; index == seq
        self.by_id: dict[str, IncidentRecord] = {}
        self.idempotency: dict[str, tuple[str, str]] = {}  # key -> (canonical payload, incident id)
        self.counts: Counter[tuple[str, str]] = Counter()  # (mode, visibility) -> incidents
        self.rendered = RenderCache(incidents.render)
        for seed in fixtures.get("incidents", []):
            creator = next(k for k in self.keys if k.token == seed["created_by"])
            self.create_incident(seed["payload"], creator, incident_id=seed.get("id"))

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
            stamp = timestamp(now())
            if current is None:
                rank = body.get("rank", max((s["rank"] for s in table.values()), default=0) + 1)
                saved = {"id": str(ULID()), "created_at": stamp}
            else:
                rank = body.get("rank", current["rank"])
                saved = dict(current)
            saved.update(name=name, description=body["description"], rank=rank, updated_at=stamp)
            self.catalog = self.catalog.with_severities({**table, saved["id"]: saved})
            return saved

    def delete_severity(self, severity_id: str) -> None:
        with self.lock:
            find(self.catalog.severities, "severity", severity_id)
            if any(i.severity_id == severity_id for i in self.incidents):
                raise ValidationFailed.invalid("id", "incidents still use this severity")
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
        """Create, or replay an earlier create with the same key. Returns (the incident, replayed)."""
        with self.lock:
            digest = canonical(payload)
            seen = self.idempotency.get(payload["idempotency_key"])
            if seen is not None:
                if seen[0] != digest:
                    raise ValidationFailed(
                        errors.REUSED, code="idempotency_key_reused", field="idempotency_key"
                    )
                return self.by_id[seen[1]], True
            # Every check happens before anything is stored: a rejected create consumes nothing.
            record = incidents.build(
                self.catalog, payload, key, incident_id or str(ULID()), seq=len(self.incidents)
            )
            self.incidents.append(record)
            self.by_id[record.id] = record
            self.idempotency[payload["idempotency_key"]] = (digest, record.id)
            self.counts[(record.mode, record.visibility)] += 1
            return record, False

    def find_incident(self, ref: str, private_ok: bool) -> IncidentRecord:
        """By id or by number. A private incident the caller may not see does not exist for it."""
        record = self.by_id.get(ref)
        if record is None and ref.isdigit() and 0 < int(ref) <= len(self.incidents):
            record = self.incidents[int(ref) - 1]
        if record is None or (record.visibility == "private" and not private_ok):
            if ref.upper().startswith("INC-") and ref[4:].isdigit():
                raise NotFound(errors.NOT_FOUND_REFERENCE.format(id=ref, number=ref[4:]))
            raise NotFound(errors.NOT_FOUND.format(kind="incident", id=ref))
        return record

    def edit_incident(self, ref: str, body: Json, private_ok: bool) -> IncidentRecord:
        """Apply an edit; nothing changes unless all of it is valid."""
        with self.lock:
            record = self.find_incident(ref, private_ok)
            draft = copy.deepcopy(record)
            incidents.apply_edit(self.catalog, self.rules.moves, draft, body["incident"])
            draft.updated_at = now()
            draft.version += 1
            record.__dict__.update(draft.__dict__)
            return record

    def encoded(self, record: IncidentRecord) -> bytes:
        """The record's IncidentV2 as JSON, from the render cache: pages are assembled from these bytes."""
        return self.rendered.encoded(record, self.catalog)

    def list_incidents(
        self, query: ListQuery, private_ok: bool
    ) -> tuple[list[IncidentRecord], str | None, int]:
        """One page, the cursor of the next page (None on the last), and the visible total."""
        catalog = self.catalog
        listing.check_references(query, catalog)
        modes = query.modes or self.rules.listed_by_default

        def visible(rec: IncidentRecord) -> bool:
            return rec.mode in modes and (private_ok or rec.visibility == "public")

        newest_first = query.sort_by != "created_at_oldest_first"
        order = range(len(self.incidents) - 1, -1, -1) if newest_first else range(len(self.incidents))
        if query.after is not None:
            anchor = self.by_id.get(query.after)
            if anchor is None or not visible(anchor):
                raise ValidationFailed.invalid("after", "unknown cursor")
            order = (
                range(anchor.seq - 1, -1, -1) if newest_first else range(anchor.seq + 1, len(self.incidents))
            )
        page: list[IncidentRecord] = []
        more = False
        for index in order:
            rec = self.incidents[index]
            if visible(rec) and listing.matches(query, catalog, rec):
                if len(page) == query.page_size:
                    more = True
                    break
                page.append(rec)
        if query.filters:
            total = sum(1 for rec in self.incidents if visible(rec) and listing.matches(query, catalog, rec))
        else:
            vis = ("public", "private") if private_ok else ("public",)
            total = sum(self.counts[(m, v)] for m in modes for v in vis)
        return page, (page[-1].id if more else None), total


class StoreHolder:
    """The app's current store; `reset()` swaps in a fresh one built from the fixtures file.

    `dashboard_url`, when given, replaces the fixtures': it comes from the address the mock really serves
    (or `--public-url`), and the identity's `dashboard_url` and every incident's `permalink` derive from it.
    """

    def __init__(self, fixtures: Path, rules: Rules, dashboard_url: str | None = None) -> None:
        self.fixtures, self.rules, self.dashboard_url = fixtures, rules, dashboard_url
        self.store = self.build()

    def build(self) -> Store:
        with open(self.fixtures, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
        if self.dashboard_url is not None:
            data["organisation"]["dashboard_url"] = self.dashboard_url
        return Store(data, self.rules)

    def reset(self) -> None:
        self.store = self.build()
