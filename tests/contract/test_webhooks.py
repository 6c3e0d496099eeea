"""The contract's webhooks: five incident events, each message schema holding its example, and the delivery
promises read by incident_contract.webhooks."""

from __future__ import annotations

import pytest

from incident_contract.document import load_spec
from incident_contract.webhooks import delivery, events, payload_validator

SPEC = load_spec()
EVENTS = events(SPEC)


def test_the_five_incident_events_are_described() -> None:
    assert sorted(e for e in EVENTS if "incident.incident_" in e) == [
        "private_incident.incident_created_v2",
        "private_incident.incident_updated_v2",
        "public_incident.incident_created_v2",
        "public_incident.incident_status_updated_v2",
        "public_incident.incident_updated_v2",
    ]


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_each_message_schema_accepts_its_example_and_names_its_event(name: str) -> None:
    event = EVENTS[name]
    example = SPEC["components"]["schemas"][event.schema]["example"]
    payload_validator(SPEC, name).validate(example)
    assert example["event_type"] == name
    wrong = {**example, "event_type": "public_incident.incident_deleted_v9"}
    assert not payload_validator(SPEC, name).is_valid(wrong)


@pytest.mark.parametrize("name", [n for n in sorted(EVENTS) if n.startswith("private_")])
def test_a_private_event_carries_the_id_and_nothing_else(name: str) -> None:
    check = payload_validator(SPEC, name)
    assert check.is_valid({"event_type": name, name: {"id": "01JGZ"}})
    assert not check.is_valid({"event_type": name, name: {"id": "01JGZ", "name": "Database down"}})
    assert EVENTS[name].private


def test_the_delivery_promises_are_machine_readable() -> None:
    promises = delivery(SPEC)
    assert promises.signature_scheme == "v1"
    assert promises.secret_prefix == "whsec_"
    assert promises.retry_schedule_seconds == tuple(sorted(promises.retry_schedule_seconds))
    assert promises.attempts == len(promises.retry_schedule_seconds) + 1
    assert promises.attempt_timeout_seconds > 0
    assert "every mode" in promises.description
