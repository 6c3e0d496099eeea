"""Settings writes made safe: the run only ever updates or deletes severities it created itself.

With --allow-settings-writes the suite creates, updates and deletes severities, which are organisation
settings shared by everyone using the target. So, before any rule runs, the ledger snapshots the ids of
the target's severities; those are protected: no update or delete is ever sent for one of them (the
Target refuses such a request, and the Schemathesis hooks swap such ids for a severity of the run's own).
Every severity the run creates carries the `[conformance]` name prefix and is recorded here, and at the
end of the run every one that still exists is deleted, so the target's settings end as they began.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from incident_conformance.contract import Contract
from incident_conformance.marks import NAME_PREFIX
from incident_conformance.target import Exchange, Target

__all__ = [
    "SEVERITY_CREATE",
    "SEVERITY_DELETE",
    "SEVERITY_LIST",
    "SEVERITY_UPDATE",
    "ProtectedSetting",
    "SettingsLedger",
    "SnapshotFailed",
    "prefixed_name",
]

SEVERITY_LIST = "Severities V1#List"
SEVERITY_CREATE = "Severities V1#Create"
SEVERITY_UPDATE = "Severities V1#Update"
SEVERITY_DELETE = "Severities V1#Delete"
READS = frozenset({"GET", "HEAD", "OPTIONS"})


class ProtectedSetting(Exception):
    """Raised instead of sending a write aimed at a severity that existed before the run."""


class SnapshotFailed(Exception):
    """The target's severities could not be listed, so they could not be protected."""


def prefixed_name(name: str, limit: int | None) -> str:
    """`name` with the conformance prefix (once), cut to the contract's length limit."""
    text = name if name.startswith(NAME_PREFIX) else f"{NAME_PREFIX} {name}"
    return text[:limit] if limit else text


@dataclass
class SettingsLedger:
    """The severities that existed before the run (protected) and every settings write the run made."""

    contract: Contract
    target: Target
    run_id: str
    protected: tuple[str, ...]  # ids of the severities that existed before the run, in list order
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # deleted by a check during the run
    cleaned_up: list[str] = field(default_factory=list)  # deleted (or found gone) at the end of the run
    cleanup_failures: dict[str, str] = field(default_factory=dict)  # id -> why it could not be deleted
    refused: list[str] = field(default_factory=list)  # writes aimed at protected severities, not sent
    notes: list[str] = field(default_factory=list)
    _spares: list[str] = field(default_factory=list)
    _count: int = 0
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def snapshot(cls, contract: Contract, target: Target, run_id: str) -> SettingsLedger:
        """List the target's severities and protect every one of them."""
        answer = target.request("GET", contract.path(SEVERITY_LIST))
        data = answer.json()
        items = data.get("severities") if answer.status == 200 and isinstance(data, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise SnapshotFailed(f"GET {contract.path(SEVERITY_LIST)} answered {answer.describe()}")
        ids = tuple(str(i["id"]) for i in items if isinstance(i.get("id"), str) and i["id"].strip())
        ledger = cls(contract, target, run_id, ids)
        target.guard = ledger.guard
        return ledger

    # --- what may be touched -----------------------------------------------------------------------
    def is_protected(self, value: Any) -> bool:
        """Whether a path id names (or merely contains) a severity that existed before the run."""
        text = unquote(str(value)).upper()
        return any(p.upper() in text for p in self.protected)

    def owns(self, value: Any) -> bool:
        """Whether `value` is a severity this run created and has not deleted."""
        with self._lock:
            return (
                isinstance(value, str)
                and value in self.created
                and value not in self.deleted
                and not self.is_protected(value)
            )

    def guard(self, method: str, path: str) -> None:
        """Target hook: refuse any write whose path names a protected severity."""
        if method.upper() not in READS and self.is_protected(path):
            with self._lock:
                self.refused.append(f"{method.upper()} {path}")
            raise ProtectedSetting(f"refused {method.upper()} {path}: that severity existed before the run")

    @property
    def name_limit(self) -> int | None:
        limit = self.contract.property_schema(SEVERITY_CREATE, "name").get("maxLength")
        return limit if isinstance(limit, int) else None

    def name(self, label: str) -> str:
        return prefixed_name(label, self.name_limit)

    # --- recording ---------------------------------------------------------------------------------
    def note_created(self, status: int, body: Any) -> str | None:
        """Record the severity a create answer made; returns its id."""
        severity = body.get("severity") if isinstance(body, dict) else None
        severity_id = severity.get("id") if isinstance(severity, dict) else None
        if not 200 <= status < 300 or not isinstance(severity_id, str):
            return None
        with self._lock:
            if self.is_protected(severity_id):  # never adopt (and later delete) a pre-existing severity
                self.notes.append(f"a create answered with the id of an existing severity: {severity_id}")
                return None
            if severity_id not in self.created:
                self.created.append(severity_id)
        return severity_id

    def note_write(self, operation_id: str, severity_id: Any, status: int) -> None:
        """Record a successful update or delete of one of the run's severities."""
        if not 200 <= status < 300 or not isinstance(severity_id, str):
            return
        with self._lock:
            kind = self.updated if operation_id == SEVERITY_UPDATE else self.deleted
            if operation_id in (SEVERITY_UPDATE, SEVERITY_DELETE) and severity_id not in kind:
                kind.append(severity_id)

    def note_exchange(self, operation_id: str, exchange: Exchange, severity_id: str | None = None) -> None:
        if operation_id == SEVERITY_CREATE:
            self.note_created(exchange.status, exchange.json())
        else:
            self.note_write(operation_id, severity_id, exchange.status)

    # --- the run's own severities ------------------------------------------------------------------
    def create(self, label: str) -> Exchange:
        """Create a severity of the run's own (prefixed, recorded)."""
        with self._lock:
            self._count += 1
            count = self._count
        body = {
            "name": self.name(f"{label} {self.run_id}-{count}"),
            "description": "Created by incident-conformance; deleted at the end of its run.",
        }
        exchange = self.target.request("POST", self.contract.path(SEVERITY_CREATE), json_body=body)
        self.note_created(exchange.status, exchange.json())
        return exchange

    def spare(self) -> str | None:
        """A severity of the run's own that still exists, for an update or delete to aim at.

        Created through the API when none is left; None (and a note) when that fails.
        """
        with self._lock:
            alive = [s for s in self._spares if self.owns(s)]
            if alive:
                return alive[-1]
            exchange = self.create("spare")
            severity_id = self.note_created(exchange.status, exchange.json())
            if severity_id is None:
                self.notes.append(f"could not create a severity to update or delete: {exchange.describe()}")
                return None
            self._spares.append(severity_id)
            return severity_id

    def cleanup(self) -> None:
        """Delete every severity the run created that still exists (best effort)."""
        for severity_id in list(self.created):
            if severity_id in self.deleted or severity_id in self.cleaned_up:
                continue
            try:
                answer = self.target.request("DELETE", self.contract.path(SEVERITY_DELETE, id=severity_id))
            except Exception as exc:  # keep going: clean up as much as possible, report the rest
                self.cleanup_failures[severity_id] = f"{type(exc).__name__}: {exc}"
                continue
            if 200 <= answer.status < 300 or answer.status == 404:  # 404: already gone
                self.cleaned_up.append(severity_id)
            else:
                self.cleanup_failures[severity_id] = answer.describe()

    @property
    def left_behind(self) -> list[str]:
        gone = set(self.deleted) | set(self.cleaned_up)
        return [s for s in self.created if s not in gone]

    def summary(self) -> dict[str, Any]:
        """The settings changes of the run, for the reports."""
        return {
            "protected_severities": len(self.protected),
            "severities_created": list(self.created),
            "severities_updated": list(self.updated),
            "severities_deleted": list(self.deleted),
            "severities_cleaned_up": list(self.cleaned_up),
            "cleanup_failures": dict(self.cleanup_failures),
            "severities_left_behind": self.left_behind,
            "refused_writes": list(self.refused),
            "notes": list(self.notes),
        }
