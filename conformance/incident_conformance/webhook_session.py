"""The webhook run: make changes through the API, collect what the deployment delivers, and read it back.

`drive` creates a public and a private incident, edits each, moves the public one to another status, and
waits (at most `timeout` seconds) until the receiver holds a delivery for every event those changes
promise, and a retry of the one attempt the receiver refused on purpose. Then it keeps listening for
`settle` seconds, so a late duplicate is seen too. The WEBHOOK rules judge the `Session` it returns.

Which event each change promises is read from the contract's `x-webhooks`: a create sends
`<visibility>_incident.incident_created_v2`, an edit `..._incident_updated_v2`, and a move to another
status also `..._incident_status_updated_v2` when the contract lists that event for the visibility.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from incident_conformance.context import EDIT, RunContext, incident_of
from incident_conformance.findings import RuleSkipped
from incident_conformance.marks import NAME_PREFIX
from incident_conformance.receiver import REFUSED, ReceivedDelivery, Receiver
from incident_contract import facts
from incident_contract.webhooks import WebhookEvent, events

__all__ = ["CACHE_KEY", "Change", "Session", "drive", "event_of", "incident_id_of", "message_of"]

CACHE_KEY = "webhooks"  # where the run's Session sits in RunContext.cache
STATUSES = "Incident Statuses V1#List"
PUBLIC, PRIVATE = "public", "private"


@dataclass(frozen=True)
class Change:
    """One change the run made through the API, and the event the contract promises for it."""

    action: str  # what was done, for the report
    event: str
    incident_id: str


def event_name(catalogue: dict[str, WebhookEvent], visibility: str, change: str) -> str | None:
    """The contract's event for a change (`created`, `updated`, `status_updated`) of an incident."""
    name = f"{visibility}_incident.incident_{change}_v2"
    return name if name in catalogue else None


@lru_cache(maxsize=4096)  # the wait judges every delivery again at each arrival: parse each body once
def _parsed(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python parses
        return None
    return data if isinstance(data, dict) else None


def message_of(delivery: ReceivedDelivery) -> dict[str, Any] | None:
    """The delivery's JSON object (shared between callers: read it, never change it)."""
    return _parsed(delivery.body)


def event_of(delivery: ReceivedDelivery) -> str | None:
    data = message_of(delivery)
    kind = data.get("event_type") if data else None
    return kind if isinstance(kind, str) else None


def incident_id_of(delivery: ReceivedDelivery) -> str | None:
    """The incident a message names: its payload's `id`, or its payload's `incident.id`."""
    data = message_of(delivery) or {}
    payload = data.get(str(data.get("event_type")))
    if not isinstance(payload, dict):
        return None
    named = payload.get("id")
    if named is None and isinstance(payload.get("incident"), dict):
        named = payload["incident"].get("id")
    return named if isinstance(named, str) else None


@dataclass
class Session:
    """What a webhook run did and what it received."""

    catalogue: dict[str, WebhookEvent]
    receiver_url: str
    timeout: float
    changes: list[Change] = field(default_factory=list)
    incidents: dict[str, str] = field(default_factory=dict)  # incident id -> its visibility
    deliveries: list[ReceivedDelivery] = field(default_factory=list)
    overflow: int = 0  # deliveries past the receiver's cap, refused unrecorded
    waited: float = 0.0  # seconds from the last change to the end of listening
    ready_after: float | None = None  # seconds from the last change until every promised delivery was in
    notes: list[str] = field(default_factory=list)

    @property
    def expected(self) -> Counter[tuple[str, str]]:
        return Counter((c.event, c.incident_id) for c in self.changes)

    # --- the refused attempt and its retry -------------------------------------------------------------
    @property
    def refused(self) -> ReceivedDelivery | None:
        """The attempt the receiver refused on purpose (the first delivery), to make the sender retry."""
        return next((d for d in self.deliveries if d.answered == REFUSED), None)

    def retries(self) -> list[ReceivedDelivery]:
        """Later deliveries under the refused attempt's webhook-id."""
        first = self.refused
        if first is None:
            return []
        return [d for d in self.deliveries if d.index > first.index and d.webhook_id == first.webhook_id]

    def renamed_retry(self) -> ReceivedDelivery | None:
        """With no retry under the refused id: a later delivery of the same body under another id."""
        first = self.refused
        if first is None or self.retries():
            return None
        return next(
            (d for d in self.deliveries
             if d.index > first.index and d.webhook_id != first.webhook_id and d.body == first.body),
            None,
        )  # fmt: skip

    def message_ids(self) -> dict[tuple[str, str], set[str]]:
        """(event, incident id) -> the distinct webhook-ids that carried it.

        A renamed retry of the refused attempt counts as that attempt's message (WEBHOOK-5 judges it).
        """
        alias: dict[str, str] = {}
        renamed, first = self.renamed_retry(), self.refused
        if renamed is not None and first is not None:
            alias[renamed.webhook_id] = first.webhook_id
        found: dict[tuple[str, str], set[str]] = {}
        for d in self.deliveries:
            kind, incident = event_of(d), incident_id_of(d)
            if kind is not None and incident is not None:
                found.setdefault((kind, incident), set()).add(alias.get(d.webhook_id, d.webhook_id))
        return found

    def complete(self, deliveries: list[ReceivedDelivery]) -> bool:
        """Every promised event arrived, and the refused attempt came again (under any id)."""
        self.deliveries = deliveries
        seen = self.message_ids()
        if any(key not in seen for key in self.expected):
            return False
        return self.refused is None or bool(self.retries()) or self.renamed_retry() is not None


def _edit(ctx: RunContext, incident_id: str, change: dict[str, Any], action: str) -> dict[str, Any]:
    body = {"incident": change, "notify_incident_channel": False}
    answer = ctx.full.request("POST", ctx.path(EDIT, id=incident_id), json_body=body)
    if answer.status != ctx.contract.success_status(EDIT):
        raise RuleSkipped(f"{action}: the edit answered {answer.describe()}")
    return incident_of(answer)


def _another_status(ctx: RunContext, incident: dict[str, Any]) -> str | None:
    """A status the incident may move to: another one of its category, else one of an allowed category."""
    current = incident.get("incident_status") or {}
    answer = ctx.full.request("GET", ctx.path(STATUSES))
    items = (answer.json() or {}).get("incident_statuses") if answer.status == 200 else None
    moves = facts.status_moves(ctx.contract.spec).get(str(current.get("category")), frozenset())
    others = [s for s in items or [] if isinstance(s, dict) and s.get("id") != current.get("id")]
    same = [s for s in others if s.get("category") == current.get("category")]
    allowed = same or [s for s in others if s.get("category") in moves]
    return str(allowed[0]["id"]) if allowed else None


def make_changes(ctx: RunContext, session: Session, mode: str) -> None:
    """Create a public and a private incident, edit each, and move the public one to another status."""
    catalogue = session.catalogue
    for visibility in (PUBLIC, PRIVATE):
        incident = ctx.create_ok(f"webhooks {visibility} {ctx.run_id}", mode=mode, visibility=visibility)
        incident_id = str(incident["id"])
        session.incidents[incident_id] = visibility
        if name := event_name(catalogue, visibility, "created"):
            session.changes.append(Change(f"create a {visibility} incident", name, incident_id))
        _edit(ctx, incident_id, {"name": f"{NAME_PREFIX} webhooks {visibility} renamed"}, "rename")
        if name := event_name(catalogue, visibility, "updated"):
            session.changes.append(Change(f"rename the {visibility} incident", name, incident_id))
        if visibility != PUBLIC:
            continue
        status = _another_status(ctx, incident)
        if status is None:
            session.notes.append("no other status to move the public incident to: no status change made")
            continue
        _edit(ctx, incident_id, {"incident_status_id": status}, "status change")
        for change in ("updated", "status_updated"):
            if name := event_name(catalogue, visibility, change):
                session.changes.append(Change(f"move the {visibility} incident's status", name, incident_id))


def drive(
    ctx: RunContext, receiver: Receiver, *, mode: str, receiver_url: str, timeout: float, settle: float
) -> Session:
    """Make the changes, then collect deliveries until every promised one arrived (or `timeout`)."""
    session = Session(events(ctx.contract.spec), receiver_url, timeout)
    # The first delivery is refused (503), to see the deployment retry it.
    receiver.refuse = lambda headers, body, seen: not seen and bool(headers.get("webhook-id"))
    make_changes(ctx, session, mode)
    started = time.monotonic()
    if receiver.wait(session.complete, timeout):
        session.ready_after = time.monotonic() - started
    receiver.wait(lambda _: False, settle)  # late duplicates: listen a little longer
    session.waited = time.monotonic() - started
    session.deliveries = receiver.snapshot()
    session.overflow = receiver.overflow
    return session
