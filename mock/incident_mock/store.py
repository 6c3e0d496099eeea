"""The mock's state and its domain rules: idempotency, visibility, severities, cursors.

Framework-free on purpose: handlers translate HTTP to calls on a `Store`, and the rules live here,
where a test can reach them without a server. Every public method runs without awaiting, so on one
event loop each call is atomic; the lock makes that hold for threads too.
"""

from __future__ import annotations

import copy
import hmac
import json
import threading
from collections import Counter
from typing import Any

from ulid import ULID

from incident_mock.errors import NotFound, ValidationFailed
from incident_mock.listing import IncidentQuery
from incident_mock.records import ApiKey, IncidentRecord, now, timestamp

from . import errors, incidents

__all__ = ["Store"]

Json = dict[str, Any]
LISTED_BY_DEFAULT = ("standard", "retrospective")
RENDER_CACHE = 4096


def canonical(payload: Json) -> str:
    """Payloads are equal when they are equal as JSON, whatever their key order."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class Store:
    def __init__(self, fixtures: Json) -> None:
        self.lock = threading.RLock()
        self.organisation: Json = dict(fixtures["organisation"])
        self.keys = [ApiKey(k["id"], k["token"], k["name"], tuple(k["roles"])) for k in fixtures["api_keys"]]
        self.severities: dict[str, Json] = {s["id"]: dict(s) for s in fixtures["severities"]}
        self.types: dict[str, Json] = {t["id"]: dict(t) for t in fixtures["incident_types"]}
        self.statuses: dict[str, Json] = {s["id"]: dict(s) for s in fixtures["incident_statuses"]}
        self.custom_fields: dict[str, Json] = {f["id"]: dict(f) for f in fixtures["custom_fields"]}
        self.options: dict[str, Json] = {o["id"]: dict(o) for o in fixtures["custom_field_options"]}
        self.roles: dict[str, Json] = {r["id"]: dict(r) for r in fixtures["incident_roles"]}
        self.users: dict[str, Json] = {u["id"]: dict(u) for u in fixtures["users"]}
        self.timestamps: dict[str, Json] = {t["id"]: dict(t) for t in fixtures["incident_timestamps"]}
        self.incidents: list[IncidentRecord] = []  # creation order; index == seq
        self.by_id: dict[str, IncidentRecord] = {}
        self.idempotency: dict[str, tuple[str, str]] = {}  # key -> (canonical payload, incident id)
        self.counts: Counter[tuple[str, str]] = Counter()  # (mode, visibility) -> incidents
        self.settings_version = 0  # bumped whenever a setting that incidents embed changes
        # incident id -> (version, settings version, IncidentV2, its JSON once asked for)
        self.rendered: dict[str, tuple[int, int, Json, bytes | None]] = {}
        for seed in fixtures.get("incidents", []):
            creator = next(k for k in self.keys if k.token == seed["created_by"])
            self.create_incident(seed["payload"], creator, incident_id=seed.get("id"))

    # --- keys --------------------------------------------------------------------------------------
    def key_for(self, token: str) -> ApiKey | None:
        """The key with this token. Compares every key in constant time, so timing leaks nothing."""
        found = None
        for key in self.keys:
            if hmac.compare_digest(key.token.encode(), token.encode()):
                found = key
        return found

    # --- settings ----------------------------------------------------------------------------------
    def get(self, table: dict[str, Json], kind: str, object_id: str) -> Json:
        try:
            found: Json = table[object_id]
        except KeyError:
            raise NotFound(errors.NOT_FOUND.format(kind=kind, id=object_id)) from None
        return found

    def list_severities(self) -> list[Json]:
        return sorted(self.severities.values(), key=lambda s: (s["rank"], s["created_at"]))

    def save_severity(self, body: Json, severity_id: str | None = None) -> Json:
        with self.lock:
            current = self.get(self.severities, "severity", severity_id) if severity_id else None
            name = body["name"]
            if any(
                s["name"].casefold() == name.casefold() and s is not current for s in self.severities.values()
            ):
                raise ValidationFailed.invalid("name", f"a severity named {name!r} exists")
            stamp = timestamp(now())
            if current is None:
                rank = body.get("rank", max((s["rank"] for s in self.severities.values()), default=0) + 1)
                current = {"id": str(ULID()), "created_at": stamp}
                self.severities[current["id"]] = current
            else:
                rank = body.get("rank", current["rank"])
            current.update(name=name, description=body["description"], rank=rank, updated_at=stamp)
            self.settings_version += 1
            return current

    def delete_severity(self, severity_id: str) -> None:
        with self.lock:
            self.get(self.severities, "severity", severity_id)
            if any(i.severity_id == severity_id for i in self.incidents):
                raise ValidationFailed.invalid("id", "incidents still use this severity")
            del self.severities[severity_id]
            self.settings_version += 1

    def list_options(
        self, custom_field_id: str, page_size: int, after: str | None
    ) -> tuple[list[Json], str | None]:
        if custom_field_id not in self.custom_fields:
            raise ValidationFailed.invalid("custom_field_id", "no such custom field")
        ordered = sorted(
            (o for o in self.options.values() if o["custom_field_id"] == custom_field_id),
            key=lambda o: (o["sort_key"], o["id"]),
        )
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
            record = incidents.build(self, payload, key, incident_id or str(ULID()), seq=len(self.incidents))
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
        with self.lock:
            record = self.find_incident(ref, private_ok)
            draft = copy.deepcopy(record)
            incidents.apply_edit(self, draft, body["incident"])  # raises before anything changes
            draft.updated_at = now()
            draft.version += 1
            record.__dict__.update(draft.__dict__)
            return record

    def render(self, record: IncidentRecord) -> Json:
        """IncidentV2 for a record, cached until the record or an embedded setting changes.

        A list page would otherwise render 25 incidents from scratch on every request. Callers must not
        mutate the result. The cache is bounded, so memory grows with the store, not with the reads.
        """
        return self._cached(record)[2]

    def encoded(self, record: IncidentRecord) -> bytes:
        """The JSON of `render(record)`, cached with it: pages are assembled from these bytes."""
        version, settings, body, data = self._cached(record)
        if data is None:
            data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            self.rendered[record.id] = (version, settings, body, data)
        return data

    def _cached(self, record: IncidentRecord) -> tuple[int, int, Json, bytes | None]:
        cached = self.rendered.get(record.id)
        if cached is not None and cached[0] == record.version and cached[1] == self.settings_version:
            return cached
        if len(self.rendered) >= RENDER_CACHE:
            self.rendered.clear()
        entry = (record.version, self.settings_version, incidents.render(self, record), None)
        self.rendered[record.id] = entry
        return entry

    def list_incidents(
        self, query: IncidentQuery, private_ok: bool
    ) -> tuple[list[IncidentRecord], str | None, int]:
        """One page, the cursor of the next page (None on the last), and the visible total."""
        query.check_references(self)
        modes = query.modes or LISTED_BY_DEFAULT

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
            if visible(rec) and query.matches(self, rec):
                if len(page) == query.page_size:
                    more = True
                    break
                page.append(rec)
        if query.has_filters():
            total = sum(1 for rec in self.incidents if visible(rec) and query.matches(self, rec))
        else:
            vis = ("public", "private") if private_ok else ("public",)
            total = sum(self.counts[(m, v)] for m in modes for v in vis)
        return page, (page[-1].id if more else None), total
