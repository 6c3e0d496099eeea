"""The contract's webhooks: five incident events, each message schema holding its example, and the delivery
promises read by incident_contract.webhooks."""

from __future__ import annotations

import pytest

from incident_contract.document import load_spec
from incident_contract.webhooks import delivery, events, payload_validator

SPEC = load_spec()
EVENTS = events(SPEC)


def test_the_five_incident_events_are_described() -> None:
    assert sorted(e for e in EVENTS if "_incident.incident_" in e) == [
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


# a private incident's membership events name the incident and the user, not one object
MEMBERSHIP_EVENTS = {"private_incident.membership_granted_v1", "private_incident.membership_revoked_v1"}


@pytest.mark.parametrize(
    "name", [n for n in sorted(EVENTS) if n.startswith("private_") and n not in MEMBERSHIP_EVENTS]
)
def test_a_private_event_carries_the_id_and_nothing_else(name: str) -> None:
    check = payload_validator(SPEC, name)
    assert check.is_valid({"event_type": name, name: {"id": "01JGZ"}})
    assert not check.is_valid({"event_type": name, name: {"id": "01JGZ", "name": "Database down"}})
    assert EVENTS[name].private


@pytest.mark.parametrize("name", sorted(MEMBERSHIP_EVENTS))
def test_a_membership_event_carries_ids_and_nothing_else(name: str) -> None:
    check = payload_validator(SPEC, name)
    assert check.is_valid({"event_type": name, name: {"incident_id": "01JGZ", "user_id": "01JGZU"}})
    assert not check.is_valid(
        {"event_type": name, name: {"incident_id": "01JGZ", "user_id": "01JGZU", "name": "Ada"}}
    )
    assert not check.is_valid({"event_type": name, name: {"incident_id": "01JGZ"}})


def test_the_delivery_promises_are_machine_readable() -> None:
    promises = delivery(SPEC)
    assert promises.signature_scheme == "v1"
    assert promises.secret_prefix == "whsec_"
    assert promises.retry_schedule_seconds == tuple(sorted(promises.retry_schedule_seconds))
    assert promises.attempts == len(promises.retry_schedule_seconds) + 1
    assert promises.attempt_timeout_seconds > 0
    assert "every mode" in promises.description
