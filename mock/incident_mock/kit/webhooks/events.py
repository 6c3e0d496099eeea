"""The messages an incident change emits, as the contract's `x-webhooks` describes them.

- a create (not a replay): `<visibility>_incident.incident_created_v2`;
- every successful edit: `<visibility>_incident.incident_updated_v2`, and, for a public incident moved to
  another status, `public_incident.incident_status_updated_v2` as well;
- a public incident's body is the incident as the API renders it (the store's cached JSON, so the same
  bytes an API answer holds); a private incident's body is `{"id": ...}` only.

Behaviour modules announce the events of their own objects (`ANNOUNCED`, resources/organisation.py).
`check_events` fails at start-up if the contract lacks an event this module can emit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from incident_mock.domain.records import IncidentRecord
from incident_mock.resources.organisation import ANNOUNCED, Store

__all__ = ["check_events", "created", "emitted", "updated"]

Event = tuple[str, bytes]  # event type, the whole message body


def _name(visibility: str, change: str) -> str:
    return f"{visibility}_incident.incident_{change}_v2"


def emitted() -> set[str]:
    """Every event type this module can emit."""
    names = {_name(v, c) for v in ("public", "private") for c in ("created", "updated")}
    return names | {_name("public", "status_updated")} | ANNOUNCED


def check_events(contract_events: Iterable[str]) -> None:
    missing = emitted() - set(contract_events)
    if missing:
        raise KeyError(f"events the mock emits are missing from x-webhooks: {sorted(missing)}")


def _message(event_type: str, payload: bytes) -> bytes:
    name = json.dumps(event_type)
    return b'{"event_type":' + name.encode() + b"," + name.encode() + b":" + payload + b"}"


def _payload(store: Store, record: IncidentRecord) -> bytes:
    if record.visibility == "private":
        return b'{"id":' + json.dumps(record.id).encode() + b"}"
    return store.encoded(record)


def created(store: Store, record: IncidentRecord) -> list[Event]:
    return [
        (
            _name(record.visibility, "created"),
            _message(_name(record.visibility, "created"), _payload(store, record)),
        )
    ]


def updated(store: Store, record: IncidentRecord, previous_status_id: str) -> list[Event]:
    name = _name(record.visibility, "updated")
    found = [(name, _message(name, _payload(store, record)))]
    if record.visibility == "public" and record.status_id != previous_status_id:
        statuses = store.catalog.statuses
        change = (
            b'{"incident":'
            + store.encoded(record)
            + b',"previous_status":'
            + json.dumps(statuses[previous_status_id], separators=(",", ":")).encode()
            + b',"new_status":'
            + json.dumps(statuses[record.status_id], separators=(",", ":")).encode()
            + b"}"
        )
        status_event = _name("public", "status_updated")
        found.append((status_event, _message(status_event, change)))
    return found
