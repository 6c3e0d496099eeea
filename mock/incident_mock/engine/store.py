"""The engine's store: keys, the lock, the text budget and one table per declared resource (x-resources).

Framework-free on purpose: operations translate HTTP to calls on a store, and a test can reach every rule
here without a server (tests/mock/test_store.py). The tables live in a `Catalog` snapshot that every write
replaces; `create`, `update`, `delete`, `listing` and `get` apply what a declaration states (the fields the
server fills, uniqueness, references and what deleting a referenced object does, filters, pagination, the
per-resource cap). Behaviour a declaration cannot express extends this class in its resource's module
(resources/incidents/storage.py) and answers `uses` for the objects it keeps itself. Every public method
runs without awaiting, so on one event loop each call is atomic; the lock makes that hold for threads too.

The store reads time from its `Clock` (clock.py) and holds at most what its `Limits` allow (limits.py); the
text it holds is counted in its sandbox's `Account`, its fair share of the mock's budgets.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import hmac
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import yaml

from incident_contract.document import Spec
from incident_contract.facts import (
    idempotency_window_seconds,
    listed_by_default,
    status_category_aliases,
    status_moves,
)
from incident_contract.resources import Resource, declared, packaged
from incident_mock.domain import errors
from incident_mock.domain.clock import Clock, SystemClock
from incident_mock.domain.errors import NotFound, ValidationFailed
from incident_mock.domain.ids import Ids
from incident_mock.domain.limits import DEFAULTS, Account, Limits, capacity_reached, text_bytes
from incident_mock.domain.records import ApiKey, timestamp
from incident_mock.domain.settings import DEFAULT_FIXTURES
from incident_mock.engine import paging
from incident_mock.engine.catalog import Catalog, find

__all__ = ["DEFAULT_FIXTURES", "KeysChanged", "ResourceStore", "Rules", "discard", "read_fixtures"]

Json = dict[str, Any]
KeysChanged = Callable[[Sequence[ApiKey], Sequence[ApiKey]], None]  # (keys removed, keys added)


def _unheard(removed: Sequence[ApiKey], added: Sequence[ApiKey]) -> None:
    """Nobody indexes this store's tokens (a store built alone, as tests and tools do)."""


SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Rules:
    """The contract's facts the store applies, read from openapi.yaml."""

    moves: Mapping[str, frozenset[str]]  # x-status-category-moves
    listed_by_default: tuple[str, ...]  # x-listed-by-default of the incident list's `mode`
    idempotency_window: dt.timedelta = dt.timedelta(hours=24)  # x-idempotency-window-seconds
    resources: Mapping[str, Resource] = field(default_factory=packaged)  # x-resources
    # x-value-aliases of the incident list's status_category: a status category's newer name -> its own
    category_aliases: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_spec(cls, spec: Spec) -> Rules:
        window = dt.timedelta(seconds=idempotency_window_seconds(spec))
        return cls(
            status_moves(spec), listed_by_default(spec), window, declared(spec), status_category_aliases(spec)
        )


class ResourceStore:
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
        self.lock = threading.RLock()
        self.totals = totals or Account.alone(limits)
        self.released = False
        self.rules = rules  # the contract's facts, read once by whoever builds stores
        self.resources = self.rules.resources
        self.clock: Clock = clock or SystemClock()
        self.ids = ids or Ids(None, self.clock)  # generated ids (seeded: reproducible)
        self.limits = limits
        self.keys = [ApiKey(k["id"], k["token"], k["name"], tuple(k["roles"])) for k in fixtures["api_keys"]]
        self.tokens = {k.token: k for k in self.keys}
        # a secret of this store's own, fixed when it is built (its first keys' tokens are the sandbox's),
        # from which it derives the tokens it makes up itself (alert sources'): creating, rotating or
        # deleting a key later changes none of them
        self.secret = hashlib.sha256("\n".join(sorted(k.token for k in self.keys)).encode()).digest()
        self._derived: dict[str, str] = {}
        self.key_details: dict[str, Json] = {}  # key id -> what API Keys V1 answers besides roles and name
        self.on_keys: KeysChanged = _unheard  # who indexes the tokens (the sandboxes) hears of every change
        tables = {
            r.name: r.fixtures for r in self.resources.values() if r.storage == "engine" and r.table == r.name
        }
        self.orders = {r.name: itemgetter(*r.order) for r in self.resources.values() if r.order}
        # the tables, and the bytes of the strings clients wrote into them (limits.text_bytes): built once
        # per fixtures document and shared by every store built from it, since no write changes a table
        # in place (a write makes the next Catalog)
        self.catalog, self.text = _shared_tables(fixtures, tables, self)
        self.totals.add_text(self.text)

    # --- keys --------------------------------------------------------------------------------------
    def derived(self, label: str) -> str:
        """A token of this store's own for `label`: the same for the same label while the store lives."""
        found = self._derived.get(label)
        if found is None:
            mac = hmac.new(self.secret, label.encode(), hashlib.sha256).digest()
            found = self._derived[label] = base64.urlsafe_b64encode(mac[:24]).decode()
            if len(self._derived) > 4 * self.limits.max_rows:  # labels of rows since deleted: start over
                self._derived = {label: found}
        return found

    def key_for(self, token: str) -> ApiKey | None:
        """The key with this token. Compares every key in constant time, so timing leaks nothing."""
        found = None
        for key in self.keys:
            if hmac.compare_digest(key.token.encode(), token.encode()):
                found = key
        return found

    def held(self, token: str) -> ApiKey | None:
        """The key this store holds for a token already matched in constant time (the sandboxes' index),
        or None: the key was deleted, or its token was rotated out and its grace period is over."""
        key = self.tokens.get(token)
        if key is not None and key.expires_at is not None and self.clock.now() >= key.expires_at:
            return None
        return key

    def change_keys(self, removed: Sequence[ApiKey], added: Sequence[ApiKey], text: int = 0) -> None:
        """Take keys out and put keys in, in one step (a rotation does both), holding `text` more bytes of
        the text budget (or fewer, when negative); rotated-out tokens whose grace period is over go too.
        `on_keys` hears of it, so a new token authenticates, and a removed one is refused, at once."""
        with self.lock:
            self.hold(text)
            now = self.clock.now()
            out = set(removed) | {k for k in self.keys if k.expires_at is not None and now >= k.expires_at}
            pending, kept = list(added), []
            for key in self.keys:  # a key changed keeps its place (a list of keys stays in creation order)
                if key not in out:
                    kept.append(key)
                elif (same := next((a for a in pending if a.id == key.id), None)) is not None:
                    pending.remove(same)
                    kept.append(same)
            self.keys = kept + pending
            self.tokens = {k.token: k for k in self.keys}
            self.on_keys(list(out), list(added))

    # --- budget ------------------------------------------------------------------------------------
    def hold(self, more: int) -> None:
        """Count `more` bytes of text in, or refuse them past the budget (before anything changes).

        Writes through the engine count their own text; a behaviour module that stores rows by hand
        (catalog, alerts, on-call tables) counts what it adds, and gives back (negative `more`) what it
        removes, through this."""
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
                self.totals.add_text(-self.text)
                self.released_more()

    def released_more(self) -> None:
        """What a behaviour's own objects give back to the totals on `release` (nothing here)."""

    def dispose(self, step: int = 2_000) -> None:
        """Let go of everything a slice at a time (`StoreHolder.reset` runs this in a thread): the tables
        are a snapshot, dropped with the store; a behaviour frees its own objects here."""

    @staticmethod
    def weight(resource: Resource, row: Json) -> int:
        """The text a client wrote into an object: its writable fields' strings."""
        return text_bytes(*(row.get(f) for f in resource.writable)) if resource.writable else 0

    # --- the tables ----------------------------------------------------------------------------------
    def table(self, name: str) -> Mapping[str, Json]:
        """The objects of a resource (a view's are those of the resource it shares them with)."""
        return self.catalog.tables.get(self.resources[name].table, {})

    def holds(self, name: str, object_id: str) -> bool:
        """Whether resource `name` has an object with this id (a behaviour keeping its own objects answers
        for them)."""
        return object_id in self.table(name)

    def visibility_of(self, incident_id: str) -> str | None:
        """The visibility of the incident with this id, None for none (incidents' behaviour answers)."""
        return None

    def answer(self, name: str, row: Json) -> Json:
        """An object as the API answers it in resource `name`'s schema: its properties only, a required one
        it lacks as the schema's least value, and each declared embed filled in from the object it names."""
        resource = self.resources[name]
        if not resource.properties:
            return row
        out = {k: row[k] for k in resource.properties if k in row}
        for key, value in resource.blank.items():
            if out.get(key) is None:
                out[key] = value
        for key, embed in resource.embeds.items():
            ref = row.get(embed.source)
            target = self.table(embed.resource).get(ref) if isinstance(ref, str) else None
            if target is not None:
                out[key] = self.answer(embed.resource, target)
        return out

    def rows(self, name: str) -> list[Json]:
        """Every object of a resource, in its declared order (creation order without one)."""
        order = self.orders.get(name)
        table = self.table(name)
        return sorted(table.values(), key=order) if order else list(table.values())

    def get(self, name: str, object_id: str, fixed: Mapping[str, Any] | None = None) -> Json:
        """The object with this id; one whose fields differ from `fixed` (the parent its path names) is
        another parent's, not found here."""
        kind = self.resources[name].kind
        found = find(self.table(name), kind, object_id)
        if fixed and any(found.get(k) != v for k, v in fixed.items()):
            raise NotFound(errors.NOT_FOUND.format(kind=kind, id=object_id))
        return found

    def listing(
        self, name: str, filters: Mapping[str, Any], page_size: int | None = None, after: str | None = None
    ) -> tuple[list[Json], str | None]:
        """The objects the filters keep, in order; with `page_size`, one page of them and the cursor of the
        next page (None on the last)."""
        resource = self.resources[name]
        for key, value in filters.items():
            self._check_reference(resource, key, value)
        rows = self.rows(name)
        if filters:
            rows = [r for r in rows if all(r.get(k) == v for k, v in filters.items())]
        if page_size is None:
            return rows, None
        return paging.cut(rows, page_size, after)

    def put(self, name: str, row: Json, weigh: Callable[[Json], int] | None = None) -> Json:
        """Store an object a behaviour module built whole, replacing the one with its id (fields the server
        computes, such as a secret's `last_four_chars`). The module has checked it; the cap and the text
        budget apply as to any write. `weigh` tells the text a row holds, for rows built from more than the
        resource's writable fields (default: those fields' strings, `weight`)."""
        resource = self.resources[name]
        measure = weigh or (lambda held: self.weight(resource, held))
        with self.lock:
            table = self.table(name)
            current = table.get(row["id"])
            cap = getattr(self.limits, resource.cap)
            if current is None and len(table) >= cap:
                raise capacity_reached(resource.label, resource.cap, cap)
            self.hold(measure(row) - (measure(current) if current else 0))
            self.catalog = self.catalog.with_table(resource.table, {**table, row["id"]: row})
            return row

    def create(
        self, name: str, body: Json, *, actor: Json | None = None, fixed: Mapping[str, Any] | None = None
    ) -> Json:
        """A new object from a create body and the fields the server fills; `actor` is who creates it (for
        an `actor` fill), `fixed` the fields its path names (a nested resource's parent)."""
        return self._save(self.resources[name], body, None, actor, fixed or {})

    def update(
        self,
        name: str,
        object_id: str,
        body: Json,
        *,
        actor: Json | None = None,
        fixed: Mapping[str, Any] | None = None,
    ) -> Json:
        """Update an object: the body's fields replace, every field it leaves out keeps its value."""
        return self._save(self.resources[name], body, object_id, actor, fixed or {})

    def amend(self, name: str, object_id: str, fields: Mapping[str, Any]) -> Json:
        """Set fields a behaviour works out itself (no client writes them: a completion time, a linked
        issue) on an object, a None value removing the field, and answer the object. Their strings count
        against the text budget; a behaviour clears them before deleting the object, to give them back."""
        with self.lock:
            current = self.get(name, object_id)
            saved = {k: v for k, v in {**current, **fields}.items() if v is not None}
            self.hold(
                text_bytes(*(saved.get(k) for k in fields)) - text_bytes(*(current.get(k) for k in fields))
            )
            self.catalog = self.catalog.with_table(
                self.resources[name].table, {**self.table(name), object_id: saved}
            )
            return saved

    def delete(self, name: str, object_id: str, fixed: Mapping[str, Any] | None = None) -> Json:
        """Delete an object and answer it; what refers to it is refused (422 on `id`) or deleted with it, as
        declared."""
        resource = self.resources[name]
        with self.lock:
            gone = self.get(name, object_id, fixed)
            changed: dict[str, dict[str, Json]] = {}
            freed = self.weight(resource, gone)
            for other, key in self.referrers(name):
                if other.references[key].on_delete == "refuse":
                    if self.uses(other.name, key, object_id):
                        raise ValidationFailed.invalid("id", f"{other.label} still use this {resource.kind}")
                elif other.storage == "engine" and other.table not in changed:  # cascade
                    kept = {k: v for k, v in self.table(other.name).items() if v.get(key) != object_id}
                    freed += sum(self.weight(other, v) for v in self.table(other.name).values()) - sum(
                        self.weight(other, v) for v in kept.values()
                    )
                    changed[other.table] = kept
            changed[resource.table] = {k: v for k, v in self.table(name).items() if k != object_id}
            self.hold(-freed)
            self.catalog = self.catalog.with_tables(changed.items())
            return gone

    def referrers(self, name: str) -> list[tuple[Resource, str]]:
        """(resource, field) for every reference field declared to point at `name` (or at a resource
        sharing its objects)."""
        held = self.resources[name].table
        return [
            (other, key)
            for other in self.resources.values()
            for key, ref in other.references.items()
            if self.resources[ref.resource].table == held
        ]

    def uses(self, name: str, key: str, object_id: str) -> bool:
        """Whether an object of resource `name` has `object_id` in its field `key`. A behaviour that keeps
        its own objects answers for them."""
        return any(row.get(key) == object_id for row in self.table(name).values())

    def _check_reference(self, resource: Resource, key: str, value: Any) -> None:
        ref = resource.references.get(key)
        if ref is None or value is None:
            return
        if not (isinstance(value, str) and self.holds(ref.resource, value)):
            raise ValidationFailed.invalid(key, f"no such {self.resources[ref.resource].kind}")

    def _save(
        self,
        resource: Resource,
        body: Json,
        object_id: str | None,
        actor: Json | None = None,
        fixed: Mapping[str, Any] | None = None,
    ) -> Json:
        name = resource.name
        fixed = fixed or {}
        with self.lock:
            table = self.table(name)
            current = self.get(name, object_id, fixed) if object_id is not None else None
            for key in resource.unique:
                value = body.get(key)
                if value is None:
                    continue
                folded = value.casefold() if isinstance(value, str) else value
                for row in table.values():
                    theirs = row.get(key)
                    if (
                        row is not current
                        and (theirs.casefold() if isinstance(theirs, str) else theirs) == folded
                    ):
                        what = f"named {value!r}" if key == "name" else f"with this {key}"
                        raise ValidationFailed.invalid(key, f"a {resource.kind} {what} exists")
            cap = getattr(self.limits, resource.cap)
            if current is None and len(table) >= cap:
                raise capacity_reached(resource.label, resource.cap, cap)
            for key in resource.references:
                if key in body:
                    self._check_reference(resource, key, body[key])
            stamp = timestamp(self.clock.now())
            saved: Json = dict(current) if current is not None else {}
            for key, how in resource.fills.items():
                if current is None and how == "id":
                    saved[key] = self.ids.ulid()
                elif current is None and how == "now":
                    saved[key] = stamp
                elif current is None and how == "actor":
                    saved[key] = actor or {}
            if current is None:
                saved.update((key, copy.deepcopy(value)) for key, value in resource.defaults.items())
            saved.update((key, body[key]) for key in resource.writable if key in body)
            saved.update(fixed)
            for key, how in resource.fills.items():
                if how == "touched":
                    saved[key] = stamp
                elif how == "next" and key not in saved:
                    saved[key] = max((row[key] for row in table.values()), default=0) + 1
                elif how == "version":
                    saved[key] = int(current.get(key, 0)) + 1 if current is not None else 1
            self.hold(self.weight(resource, saved) - (self.weight(resource, current) if current else 0))
            self.catalog = self.catalog.with_table(resource.table, {**table, saved["id"]: saved})
            return saved

    # --- the severity and option calls tests and tools use ---------------------------------------------
    @property
    def severities(self) -> Mapping[str, Json]:
        return self.catalog.severities

    def list_severities(self) -> list[Json]:
        return self.rows("severities")

    def save_severity(self, body: Json, severity_id: str | None = None) -> Json:
        """Create a severity, or update one (every field the body leaves out keeps its value)."""
        if severity_id is None:
            return self.create("severities", body)
        return self.update("severities", severity_id, body)

    def delete_severity(self, severity_id: str) -> None:
        self.delete("severities", severity_id)

    def list_options(
        self, custom_field_id: str, page_size: int, after: str | None
    ) -> tuple[list[Json], str | None]:
        """One page of a custom field's options, and the cursor of the next page (None on the last)."""
        return self.listing("custom_field_options", {"custom_field_id": custom_field_id}, page_size, after)


# (rules, the fixtures' table lists) -> (those lists, kept so their ids stay theirs; the catalog; its text)
_SHARED: dict[tuple[int, ...], tuple[tuple[Any, ...], Catalog, int]] = {}
_SHARED_MAX = 8  # the template's entry, and a few sandboxes' own fixtures


def _shared_tables(fixtures: Json, tables: Mapping[str, str], store: ResourceStore) -> tuple[Catalog, int]:
    """The catalog of these fixtures and the text its tables hold, made once for the fixtures' very table
    lists (a sandbox's fixtures share the template's lists) and the same contract rules."""
    held = tuple(fixtures.get(table) for table in sorted(set(tables.values())))
    key = (id(store.rules), *map(id, held))
    hit = _SHARED.get(key)
    if hit is not None and all(a is b for a, b in zip(hit[0], held, strict=True)):
        return Catalog(dict(fixtures["organisation"]), hit[1].tables), hit[2]
    catalog = Catalog.from_fixtures(fixtures, tables, store.rules.category_aliases)
    text = sum(
        store.weight(r, row)
        for r in store.resources.values()
        if r.table == r.name
        for row in catalog.tables.get(r.name, {}).values()
    )
    if len(_SHARED) >= _SHARED_MAX:
        _SHARED.pop(next(iter(_SHARED)))
    _SHARED[key] = (held, catalog, text)
    return catalog, text


def read_fixtures(path: Path) -> Json:
    with open(path, encoding="utf-8") as fh:
        data: Json = yaml.load(fh, Loader=SAFE_LOADER)  # libyaml's: ten times faster than PyYAML's own
    return data


def discard(store: ResourceStore) -> threading.Thread:
    """Give a store's counts back at once and free it in a thread; returns the thread (tests join it)."""
    store.release()
    freeing = threading.Thread(target=store.dispose, name="incident-mock-dispose", daemon=True)
    freeing.start()
    return freeing
