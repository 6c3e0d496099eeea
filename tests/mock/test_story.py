"""The story of the faults guide (faults-clock-seeds.md): an alert bridge that creates an incident with
the official SDK and retries.

The bridge is what a platform team writes: one incident per alert, whatever the network does. Its
idempotency key is derived from the alert, so a retry after a lost answer replays the incident the first
attempt stored instead of creating a second one. The mock's faults make the network misbehave on cue.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from incident_io import AuthenticatedClient
from incident_io.api.incidents_v2 import incidents_v2_create, incidents_v2_list
from incident_io.models import (
    IncidentsCreatePayloadV2,
    IncidentsCreatePayloadV2Visibility,
    IncidentsCreateResultV2,
    IncidentsListResultV2,
    IncidentV2,
)

from incident_mock.testing import Sandbox
from tests.mock.seed import MAJOR

CREATE = "Incidents V2#Create"
RETRYABLE = frozenset({429, 500, 502, 503, 504})


# --- the alert bridge, as in the guide -----------------------------------------------------------------
@dataclass(frozen=True)
class Alert:
    id: str
    title: str


def alert_bridge(
    client: AuthenticatedClient,
    alert: Alert,
    *,
    attempts: int = 4,
    sleep: Callable[[float], None] = time.sleep,
) -> IncidentV2:
    """Open one incident for an alert, retrying with the same idempotency key."""
    body = IncidentsCreatePayloadV2(
        idempotency_key=f"alert-{alert.id}",  # the same on every attempt
        name=alert.title,
        severity_id=MAJOR,
        visibility=IncidentsCreatePayloadV2Visibility.PUBLIC,
    )
    for attempt in range(attempts):
        backoff = 0.05 * 2**attempt
        try:
            response = incidents_v2_create.sync_detailed(client=client, body=body)
        except httpx.TransportError:  # no answer: the incident may or may not exist; the key decides
            sleep(backoff)
            continue
        if isinstance(response.parsed, IncidentsCreateResultV2):
            return response.parsed.incident
        if response.status_code not in RETRYABLE:
            raise RuntimeError(f"cannot open an incident: {response.status_code} {response.content!r}")
        sleep(float(response.headers.get("retry-after", backoff)))
    raise RuntimeError(f"no incident after {attempts} attempts")


# --- the story -----------------------------------------------------------------------------------------
@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[AuthenticatedClient]:
    client = AuthenticatedClient(base_url=sandbox.base_url, token=sandbox.keys.creator)
    yield client
    client.get_httpx_client().close()


def named(sandbox: Sandbox, name: str) -> list[IncidentV2]:
    viewer = AuthenticatedClient(base_url=sandbox.base_url, token=sandbox.keys.viewer)
    listed = incidents_v2_list.sync_detailed(client=viewer, page_size=250).parsed
    viewer.get_httpx_client().close()
    assert isinstance(listed, IncidentsListResultV2)
    return [incident for incident in listed.incidents if incident.name == name]


@pytest.mark.parametrize("then", ["error", "cut"])
def test_a_lost_answer_is_retried_into_exactly_one_incident(
    sandbox: Sandbox, client: AuthenticatedClient, then: str
) -> None:
    fault = sandbox.fail(CREATE, kind="after_commit", then=then)
    alert = Alert("db-cpu-1", "Database CPU above 95%")
    waits: list[float] = []

    incident = alert_bridge(client, alert, sleep=waits.append)

    assert [i.id for i in named(sandbox, alert.title)] == [incident.id]
    first, second = sandbox.requests(CREATE)
    assert (first.status, first.fault and first.fault["id"]) == (500 if then == "error" else 0, fault.id)
    assert (second.status, second.replayed, second.fault) == (200, True, None)
    assert len(waits) == 1
    assert [f.remaining for f in sandbox.faults()] == [0]


def test_a_429_is_retried_after_the_time_it_names(sandbox: Sandbox, client: AuthenticatedClient) -> None:
    sandbox.fail(CREATE, status=429, retry_after=2)
    alert = Alert("disk-1", "Disk almost full")
    waits: list[float] = []

    alert_bridge(client, alert, sleep=waits.append)

    assert waits == [2.0]  # what Retry-After said, read by the client (not timed)
    first, second = sandbox.requests(CREATE)
    assert (first.status, first.retry_after, second.status, second.replayed) == (429, "2", 200, False)
    assert len(named(sandbox, alert.title)) == 1


def test_a_removed_fault_fires_no_more(sandbox: Sandbox, client: AuthenticatedClient) -> None:
    fault = sandbox.fail(CREATE, status=500, probability=1.0)
    assert fault.remaining is None
    fault.remove()
    fault.remove()  # already removed is fine
    waits: list[float] = []
    alert_bridge(client, Alert("net-1", "Packet loss"), sleep=waits.append)
    assert waits == [] and sandbox.faults() == []
    sandbox.fail(kind="drop")
    sandbox.clear_faults()
    assert sandbox.faults() == []
