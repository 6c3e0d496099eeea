"""A clock per sandbox: freeze, advance, release, over a real socket and through the Python API.

The data's timestamps and the idempotency window run on the sandbox's clock; other sandboxes' clocks are
untouched; bad moves are 422 in the control plane's error shape. clock.SandboxClock on its own too, over a
ManualClock (no real time involved).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from incident_io import AuthenticatedClient
from incident_io.api.incidents_v2 import incidents_v2_create
from incident_io.models import (
    IncidentsCreatePayloadV2,
    IncidentsCreatePayloadV2Visibility,
    IncidentsCreateResultV2,
)

from incident_contract.document import load_control_spec, load_spec
from incident_contract.facts import idempotency_window_seconds
from incident_contract.refs import validator
from incident_mock.domain.clock import LATEST, ManualClock, SandboxClock
from incident_mock.testing import AsyncIncidentMock, ControlPlaneError, IncidentMock, Sandbox
from tests.mock.conftest import incident_body
from tests.mock.seed import MAJOR

AT = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)
CREATE = "Incidents V2#Create"


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {sandbox.keys.full}"}
    with httpx.Client(base_url=sandbox.base_url, headers=headers, timeout=15) as client:
        yield client


def created(http: httpx.Client, key: str, **extra: Any) -> dict[str, Any]:
    response = http.post("/v2/incidents", json=incident_body(key, **extra))
    assert response.status_code == 200, response.text
    return response.json()["incident"]  # type: ignore[no-any-return]


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def assert_control_error(response: httpx.Response, status: int, code: str, field: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(validator(load_control_spec(), "ErrorResponse").iter_errors(body)) == []
    assert body["type"] == "validation_error"
    assert body["errors"][0]["code"] == code
    assert body["errors"][0]["source"]["field"] == field
    assert body["request_id"] == response.headers["x-request-id"]


# --- the data's timestamps -----------------------------------------------------------------------------
def test_a_frozen_clock_stamps_every_create_and_journal_entry_with_the_same_instant(
    sandbox: Sandbox, http: httpx.Client
) -> None:
    assert sandbox.clock.freeze(AT) == AT
    first, second = created(http, "frozen-1"), created(http, "frozen-2")
    assert first["created_at"] == second["created_at"] == first["updated_at"] == stamp(AT)
    assert first["id"] != second["id"]
    assert {entry.time for entry in sandbox.requests(CREATE)} == {stamp(AT)}
    assert sandbox.clock.state() == {
        "now": stamp(AT),
        "frozen": True,
        "offset_seconds": pytest.approx((AT - dt.datetime.now(dt.UTC)).total_seconds(), abs=60),
    }


def test_an_edit_stamps_updated_at_from_the_advanced_clock(sandbox: Sandbox, http: httpx.Client) -> None:
    sandbox.clock.freeze(AT)
    incident = created(http, "edited")
    assert sandbox.clock.advance(dt.timedelta(minutes=90)) == AT + dt.timedelta(minutes=90)
    edit = {"notify_incident_channel": False, "incident": {"summary": "later"}}
    answer = http.post(f"/v2/incidents/{incident['id']}/actions/edit", json=edit)
    assert answer.status_code == 200, answer.text
    assert answer.json()["incident"]["created_at"] == stamp(AT)
    assert answer.json()["incident"]["updated_at"] == stamp(AT + dt.timedelta(minutes=90))


def test_other_sandboxes_clocks_are_untouched(mock: IncidentMock, sandbox: Sandbox) -> None:
    with mock.sandbox() as other:
        sandbox.clock.freeze(AT)
        sandbox.clock.advance(3600)
        assert not other.clock.state()["frozen"]
        assert abs(other.clock.now() - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
        default = mock.get_sandbox("default").clock.state()
        assert default["frozen"] is False and default["offset_seconds"] == 0
        headers = {"Authorization": f"Bearer {other.keys.full}"}
        body = incident_body("elsewhere")
        answer = httpx.post(f"{other.base_url}/v2/incidents", json=body, headers=headers, timeout=15)
        made = dt.datetime.fromisoformat(answer.json()["incident"]["created_at"])
        assert abs(made - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


# --- the idempotency window, through the official SDK ----------------------------------------------------
def test_the_idempotency_window_runs_on_the_sandbox_clock(mock: IncidentMock, sandbox: Sandbox) -> None:
    hours = idempotency_window_seconds(load_spec()) / 3600
    assert hours == 24
    client = AuthenticatedClient(base_url=sandbox.base_url, token=sandbox.keys.creator)
    body = IncidentsCreatePayloadV2(
        idempotency_key="alert-42",
        visibility=IncidentsCreatePayloadV2Visibility.PUBLIC,
        severity_id=MAJOR,
        name="Checkout slow",
    )

    def create() -> tuple[str, bool]:
        answer = incidents_v2_create.sync_detailed(client=client, body=body)
        assert answer.status_code == 200 and isinstance(answer.parsed, IncidentsCreateResultV2)
        return answer.parsed.incident.id, answer.headers.get("idempotent-replayed") == "true"

    with client:
        sandbox.clock.freeze(AT)
        first, replayed = create()
        assert not replayed
        sandbox.clock.advance(dt.timedelta(hours=hours - 1))  # 23 h: still remembered
        assert create() == (first, True)
        sandbox.clock.advance(dt.timedelta(hours=2))  # 25 h after the first create: forgotten
        second, replayed = create()
        assert second != first and not replayed
        assert create() == (second, True)  # the new create is remembered in its turn
    assert [e.replayed for e in sandbox.requests(CREATE)] == [False, True, False, True]


def test_a_running_clock_advanced_past_the_window_forgets_keys_too(
    sandbox: Sandbox, http: httpx.Client
) -> None:
    first = created(http, "running")
    before = sandbox.clock.now()
    after = sandbox.clock.advance(dt.timedelta(hours=25))
    assert after - before >= dt.timedelta(hours=25)
    state = sandbox.clock.state()
    assert state["frozen"] is False and state["offset_seconds"] == 25 * 3600
    second = created(http, "running")
    assert second["id"] != first["id"]
    assert dt.datetime.fromisoformat(second["created_at"]) >= before + dt.timedelta(hours=25)


# --- release and reset ---------------------------------------------------------------------------------
def test_release_runs_on_from_the_frozen_moment_or_goes_back_to_real_time(sandbox: Sandbox) -> None:
    sandbox.clock.freeze(AT)
    sandbox.clock.advance(60)
    resumed = sandbox.clock.release()
    assert AT + dt.timedelta(seconds=60) <= resumed < AT + dt.timedelta(minutes=5)
    state = sandbox.clock.state()
    assert state["frozen"] is False and state["offset_seconds"] < -3600  # AT is in the past
    real = sandbox.clock.release(keep_offset=False)
    assert abs(real - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert sandbox.clock.state()["offset_seconds"] == 0


def test_reset_puts_the_clock_back_on_real_time(sandbox: Sandbox) -> None:
    sandbox.clock.freeze(AT)
    sandbox.reset()
    state = sandbox.clock.state()
    assert state["frozen"] is False and state["offset_seconds"] == 0


def test_freeze_without_an_instant_stops_the_clock_where_it_stands(sandbox: Sandbox) -> None:
    sandbox.clock.advance(dt.timedelta(days=3))
    frozen = sandbox.clock.freeze()
    assert frozen - dt.datetime.now(dt.UTC) > dt.timedelta(days=2)
    assert sandbox.clock.now() == frozen


def test_a_sandbox_can_be_created_frozen(mock: IncidentMock) -> None:
    with mock.sandbox(frozen_at=AT) as frozen:
        assert frozen.info["created_at"] == stamp(AT)
        assert frozen.clock.state()["frozen"] is True and frozen.clock.now() == AT


async def test_the_async_api(mock: IncidentMock) -> None:
    async with AsyncIncidentMock.connect(mock.url) as amock, amock.sandbox(frozen_at=AT) as sandbox:
        assert await sandbox.clock.now() == AT
        assert await sandbox.clock.advance(dt.timedelta(hours=1)) == AT + dt.timedelta(hours=1)
        assert await sandbox.clock.freeze(AT) == AT
        assert (await sandbox.clock.state())["frozen"] is True
        released = await sandbox.clock.release(keep_offset=False)
        assert abs(released - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)


# --- bounds --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("advance", {"seconds": 315_576_001}, "seconds"),  # past ten years
        ("advance", {"seconds": 0}, "seconds"),
        ("advance", {"seconds": -5}, "seconds"),
        ("advance", {"seconds": "60"}, "seconds"),
        ("advance", {}, "seconds"),
        ("freeze", {"at": "2026-02-30T00:00:00Z"}, "at"),  # no such day
        ("freeze", {"at": "1970-01-01T00:30:00+01:00"}, "at"),  # 1969 in UTC: before any ULID
        ("freeze", {"at": "3000-01-01T00:00:00Z"}, "at"),
        ("freeze", {"at": "2026-01-01"}, "at"),  # no time
        ("freeze", {"at": "2026-01-01T00:00:00"}, "at"),  # no offset
        ("release", {"keep_offset": "no"}, "keep_offset"),
    ],
)
def test_bad_moves_are_422_in_the_error_shape_and_change_nothing(
    mock: IncidentMock, sandbox: Sandbox, path: str, body: dict[str, Any], field: str
) -> None:
    sandbox.clock.freeze(AT)
    answer = mock.client.post(f"/_mock/sandboxes/{sandbox.id}/clock/actions/{path}", json=body)
    assert_control_error(answer, 422, "is_required" if not body else "invalid_value", field)
    assert sandbox.clock.now() == AT


def test_advance_without_a_body_is_422_and_an_unknown_sandbox_404(mock: IncidentMock) -> None:
    answer = mock.client.post("/_mock/sandboxes/default/clock/actions/advance")
    assert_control_error(answer, 422, "is_required", "seconds")
    assert mock.client.get("/_mock/sandboxes/sbx_nope/clock").status_code == 404
    with pytest.raises(ControlPlaneError) as raised:
        Sandbox(mock.client, {"sandbox": {"id": "sbx_nope", "base_url": mock.url, "keys": []}}).clock.now()
    assert raised.value.status == 404


def test_a_bad_creation_instant_is_422(mock: IncidentMock) -> None:
    answer = mock.client.post("/_mock/sandboxes", json={"frozen_at": "2026-13-01T00:00:00Z"})
    assert_control_error(answer, 422, "invalid_value", "frozen_at")
    with pytest.raises(ValueError, match="timezone-aware"):
        mock.sandbox(frozen_at=dt.datetime(2026, 1, 1))


# --- clock.SandboxClock on its own ---------------------------------------------------------------------
def test_sandbox_clock_over_a_manual_base() -> None:
    base = ManualClock(AT)
    clock = SandboxClock(base)
    assert clock.now() == AT and not clock.state().frozen
    clock.advance(dt.timedelta(hours=1))  # running: an offset over the base
    base.advance(30)
    assert clock.now() == AT + dt.timedelta(hours=1, seconds=30)
    clock.freeze()
    base.advance(600)  # the base moves on, the frozen clock does not
    assert clock.now() == AT + dt.timedelta(hours=1, seconds=30)
    assert clock.state().offset == dt.timedelta(seconds=3630 - 630)
    clock.release()  # runs on from where it stood
    assert clock.now() == AT + dt.timedelta(hours=1, seconds=30)
    base.advance(10)
    assert clock.now() == AT + dt.timedelta(hours=1, seconds=40)
    clock.reset()
    assert clock.now() == base.now()


def test_sandbox_clock_refuses_moves_out_of_range_and_keeps_its_state() -> None:
    clock = SandboxClock(ManualClock(AT), frozen_at=LATEST - dt.timedelta(days=1))
    with pytest.raises(ValueError, match="outside"):
        clock.advance(dt.timedelta(days=2))
    with pytest.raises(ValueError, match="forward"):
        clock.advance(dt.timedelta(seconds=-1))
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.freeze(dt.datetime(2026, 1, 1))
    assert clock.now() == LATEST - dt.timedelta(days=1)
