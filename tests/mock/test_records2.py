"""The records incidents carry, over real sockets with the official SDK as the client: incident updates
written by edits, Incidents V1 and V2 over the same incidents, postmortem documents and their status
webhook, participants and their workload on the sandbox clock, relationships seeded by fixtures, and the
records of private incidents hidden exactly as the incidents are."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from incident_io import AuthenticatedClient
from incident_io.api.incident_participant_workloads_v2 import incident_participant_workloads_v2_list
from incident_io.api.incident_participants_v2 import incident_participants_v2_list
from incident_io.api.incident_updates_v2 import incident_updates_v2_list
from incident_io.api.incidents_v1 import incidents_v1_create, incidents_v1_list, incidents_v1_show
from incident_io.api.incidents_v2 import incidents_v2_edit, incidents_v2_import_postmortem_document
from incident_io.api.postmortem_documents_v1 import (
    postmortem_documents_v1_attach,
    postmortem_documents_v1_list,
    postmortem_documents_v1_show_content,
    postmortem_documents_v1_update_status,
)
from incident_io.models import (
    IncidentEditPayloadV2,
    IncidentRoleAssignmentPayloadV2,
    IncidentsCreatePayloadV1,
    IncidentsCreatePayloadV1Status,
    IncidentsCreatePayloadV1Visibility,
    IncidentsEditPayloadV2,
    IncidentsImportPostmortemDocumentPayloadV2,
    PostmortemDocumentsAttachPayloadV1,
    PostmortemDocumentsUpdateStatusPayloadV1,
    PostmortemDocumentsUpdateStatusPayloadV1Status,
    UserReferencePayloadV2,
)

from incident_contract.document import load_spec
from incident_contract.webhooks import payload_validator
from incident_mock.app import DEFAULT_FIXTURES, create_app
from incident_mock.resources.incidents.history import minutes_by_hours
from incident_mock.testing import IncidentMock, Sandbox, WebhookReceiver
from tests.mock.seed import (
    CRITICAL,
    FIXING,
    GRACE,
    INVESTIGATING,
    LEAD,
    MAJOR,
    MINOR,
    SEEDED_INCIDENT,
    TRIAGE,
)
from tests.mock.webhook_helpers import verified_by_both
from tests.servers import serve

SPEC = load_spec()
COMMS = "01JGZ0R0LE000000000000C0MM"
ADA = "01JGZ0VSER000000000000ADA0"
SEEDED_DOCUMENT = "01JGZ1PMD0C000000000000001"
MONITORING = "01JGZ0STAT000000000M0N1T0R"


@pytest.fixture
def sdk(sandbox: Sandbox) -> Iterator[AuthenticatedClient]:
    with AuthenticatedClient(
        base_url=sandbox.base_url, token=sandbox.keys.full, raise_on_unexpected_status=True
    ) as client:
        yield client


def call(sandbox: Sandbox, method: str, path: str, key: str = "full", **kw: Any) -> httpx.Response:
    token = getattr(sandbox.keys, key)
    return httpx.request(
        method, sandbox.base_url + path, headers={"Authorization": f"Bearer {token}"}, timeout=30, **kw
    )


def edit(sdk: AuthenticatedClient, incident_id: str, **changes: Any) -> None:
    body = IncidentsEditPayloadV2(incident=IncidentEditPayloadV2(**changes), notify_incident_channel=True)
    answer = incidents_v2_edit.sync_detailed(incident_id, client=sdk, body=body)
    assert answer.status_code == 200, answer.content


def create_v2(sandbox: Sandbox, key: str, **extra: Any) -> dict[str, Any]:
    body = {
        "idempotency_key": key,
        "visibility": "public",
        "severity_id": MAJOR,
        "incident_status_id": INVESTIGATING,
        **extra,
    }
    answer = call(sandbox, "POST", "/v2/incidents", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()["incident"]  # type: ignore[no-any-return]


def deprecated(fn: Any, *args: Any, **kw: Any) -> Any:
    """Call one of the SDK's V1 incident functions, which warn that the operation is deprecated."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return fn(*args, **kw)


# --- incident updates ------------------------------------------------------------------------------
def test_an_edit_of_status_or_severity_writes_one_update_by_the_calling_key(
    sandbox: Sandbox, sdk: AuthenticatedClient
) -> None:
    edit(sdk, SEEDED_INCIDENT, name="Renamed only")  # neither status nor severity: no update
    edit(sdk, SEEDED_INCIDENT, incident_status_id=FIXING)
    edit(sdk, SEEDED_INCIDENT, severity_id=CRITICAL, summary="Worse")
    edit(sdk, SEEDED_INCIDENT, incident_status_id=FIXING)  # the status it has: no update

    listed = incident_updates_v2_list.sync(client=sdk, incident_id=SEEDED_INCIDENT)
    assert listed is not None
    newest, oldest = listed.incident_updates
    assert (oldest.new_incident_status.id, oldest.new_severity.id) == (FIXING, MAJOR)
    assert (newest.new_incident_status.id, newest.new_severity.id) == (FIXING, CRITICAL)
    assert {u.incident_id for u in listed.incident_updates} == {SEEDED_INCIDENT}
    full = call(sandbox, "GET", "/v1/identity").json()["identity"]["name"]
    assert {u.updater.api_key.name for u in listed.incident_updates} == {full}
    assert newest.created_at >= oldest.created_at

    other = create_v2(sandbox, "other")
    edit(sdk, other["id"], incident_status_id=FIXING)
    everything = call(sandbox, "GET", "/v2/incident_updates").json()["incident_updates"]
    assert [u["incident_id"] for u in everything] == [other["id"], SEEDED_INCIDENT, SEEDED_INCIDENT]
    by_number = call(sandbox, "GET", "/v2/incident_updates?incident_id=2")
    assert [u["incident_id"] for u in by_number.json()["incident_updates"]] == [other["id"]]


def test_incident_updates_paginate_and_refuse_unknown_names(
    sandbox: Sandbox, sdk: AuthenticatedClient
) -> None:
    for status in (FIXING, MONITORING, FIXING):
        edit(sdk, SEEDED_INCIDENT, incident_status_id=status)
    seen: list[str] = []
    after = None
    while True:
        page = call(
            sandbox,
            "GET",
            "/v2/incident_updates",
            params={"page_size": 2, **({"after": after} if after else {})},
        )
        body = page.json()
        seen += [u["id"] for u in body["incident_updates"]]
        after = body["pagination_meta"].get("after")
        if after is None:
            break
    assert len(seen) == len(set(seen)) == 3
    for params, field in (
        ({"after": "01NOTANUPDATE"}, "after"),
        ({"incident_id": "01NOSUCHINCIDENT"}, "incident_id"),
    ):
        refused = call(sandbox, "GET", "/v2/incident_updates", params=params)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["source"]["field"] == field


# --- Incidents V1 and V2 over the same state -----------------------------------------------------------
def test_v1_and_v2_answer_the_same_incidents(sandbox: Sandbox, sdk: AuthenticatedClient) -> None:
    body = IncidentsCreatePayloadV1(
        idempotency_key="v1-create",
        visibility=IncidentsCreatePayloadV1Visibility.PUBLIC,
        name="Search is empty",
        status=IncidentsCreatePayloadV1Status.FIXING,
    )
    made = deprecated(incidents_v1_create.sync, client=sdk, body=body)
    assert made is not None and made.incident.status == "fixing"
    assert made.incident.severity is not None and made.incident.severity.id == MINOR  # lowest rank
    as_v2 = call(sandbox, "GET", f"/v2/incidents/{made.incident.id}").json()["incident"]
    assert (as_v2["name"], as_v2["incident_status"]["id"], as_v2["mode"]) == (
        "Search is empty",
        FIXING,
        "standard",
    )

    edit(sdk, made.incident.id, incident_status_id=MONITORING)
    shown = deprecated(incidents_v1_show.sync, made.incident.id, client=sdk)
    assert shown is not None and shown.incident.status == "monitoring"
    seeded = deprecated(incidents_v1_show.sync, SEEDED_INCIDENT, client=sdk)
    assert seeded is not None and seeded.incident.status == "investigating"
    assert seeded.incident.incident_role_assignments[0].assignee.id == ADA

    listed = deprecated(incidents_v1_list.sync, client=sdk, status=["monitoring"])
    assert listed is not None and [i.id for i in listed.incidents] == [made.incident.id]
    assert listed.pagination_meta.total_record_count == 1
    everything = deprecated(incidents_v1_list.sync, client=sdk)
    v2 = call(sandbox, "GET", "/v2/incidents").json()["incidents"]
    assert [i.id for i in everything.incidents] == [i["id"] for i in v2]


def test_a_v1_create_shares_the_v2_idempotency_keys(sandbox: Sandbox) -> None:
    v1_body = {"idempotency_key": "shared-key", "visibility": "public", "severity_id": MAJOR, "name": "One"}
    first = call(sandbox, "POST", "/v1/incidents", json=v1_body)
    assert first.status_code == 200 and "Idempotent-Replayed" not in first.headers
    replay = call(sandbox, "POST", "/v2/incidents", json={**v1_body, "mode": "standard"})
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json()["incident"]["id"] == first.json()["incident"]["id"]
    again = call(sandbox, "POST", "/v1/incidents", json=v1_body)
    assert again.headers.get("Idempotent-Replayed") == "true"
    reused = call(sandbox, "POST", "/v1/incidents", json={**v1_body, "name": "Two"})
    assert reused.status_code == 422 and reused.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert len(call(sandbox, "GET", "/v2/incidents").json()["incidents"]) == 2  # the seed and this one


# --- postmortem documents ------------------------------------------------------------------------------
@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as made:
        yield made


def test_a_postmortem_status_move_sends_its_event_and_a_private_one_the_id_only(
    sandbox: Sandbox, sdk: AuthenticatedClient, receiver: WebhookReceiver
) -> None:
    endpoint = sandbox.webhooks.register(receiver.url)
    receiver.secret = endpoint.secret
    events = (
        "public_incident.postmortem_document_status_updated_v1",
        "private_incident.postmortem_document_status_updated_v1",
    )

    def move(document_id: str, status: str) -> None:
        body = PostmortemDocumentsUpdateStatusPayloadV1(
            status=PostmortemDocumentsUpdateStatusPayloadV1Status(status)
        )
        done = postmortem_documents_v1_update_status.sync(document_id, client=sdk, body=body)
        assert done is not None and done.postmortem_document.status == status

    move(SEEDED_DOCUMENT, "in_review")  # the status it has: nothing is sent
    move(SEEDED_DOCUMENT, "completed")
    secret = create_v2(sandbox, "secret", visibility="private")
    imported = incidents_v2_import_postmortem_document.sync(
        secret["id"],
        client=sdk,
        body=IncidentsImportPostmortemDocumentPayloadV2(title="Leak", content="# Leak\n"),
    )
    assert imported is not None
    move(imported.postmortem_document.id, "in_review")

    got = [receiver.wait_for(event, timeout=15)[0] for event in events]
    emitted = [m for m in endpoint.messages() if m.event_type in events]
    assert len(emitted) == 2  # one per move: the update to the status it had sent nothing
    messages = {d.event_type: verified_by_both(endpoint.secret, d) for d in got}
    for event_type, message in messages.items():
        assert not list(payload_validator(SPEC, event_type).iter_errors(message)), event_type
    public = messages["public_incident.postmortem_document_status_updated_v1"][
        "public_incident.postmortem_document_status_updated_v1"
    ]
    assert (public["previous_status"], public["new_status"]) == ("review", "complete")
    assert public["postmortem_document"]["id"] == SEEDED_DOCUMENT
    assert public["postmortem_document"]["status"] == "completed"
    private = messages["private_incident.postmortem_document_status_updated_v1"]
    assert private["private_incident.postmortem_document_status_updated_v1"] == {
        "id": imported.postmortem_document.id
    }


def test_postmortem_documents_attach_import_list_and_content(
    sandbox: Sandbox, sdk: AuthenticatedClient
) -> None:
    fresh = create_v2(sandbox, "pm")
    attached = postmortem_documents_v1_attach.sync(
        client=sdk,
        body=PostmortemDocumentsAttachPayloadV1(
            incident_id=fresh["id"], permalink="https://docs.example.com/pm"
        ),
    )
    assert attached is not None and attached.postmortem_document.type_ == "external"
    # the incident's first document becomes its main one
    shown = call(sandbox, "GET", f"/v2/incidents/{fresh['id']}").json()["incident"]
    assert shown["postmortem_document_url"] == "https://docs.example.com/pm"
    imported = incidents_v2_import_postmortem_document.sync(
        fresh["id"],
        client=sdk,
        body=IncidentsImportPostmortemDocumentPayloadV2(title="Notes", content="# Notes\n\nText"),
    )
    assert imported is not None
    still = call(sandbox, "GET", f"/v2/incidents/{fresh['id']}").json()["incident"]
    assert (
        still["postmortem_document_url"] == "https://docs.example.com/pm"
    )  # the first one stays the main one
    content = postmortem_documents_v1_show_content.sync(imported.postmortem_document.id, client=sdk)
    assert content is not None and content.markdown == "# Notes\n\nText"
    mine = postmortem_documents_v1_list.sync(client=sdk, incident_id=fresh["id"])
    assert mine is not None
    assert [d.id for d in mine.postmortem_documents] == [
        imported.postmortem_document.id,
        attached.postmortem_document.id,
    ]
    oldest_first = call(
        sandbox, "GET", "/v1/postmortem_documents", params={"sort_by": "created_at_oldest_first"}
    )
    assert [d["id"] for d in oldest_first.json()["postmortem_documents"]] == [
        SEEDED_DOCUMENT,
        attached.postmortem_document.id,
        imported.postmortem_document.id,
    ]
    unknown = call(
        sandbox,
        "POST",
        "/v1/postmortem_documents/actions/attach",
        json={"incident_id": "nope", "permalink": "x"},
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["source"]["field"] == "incident_id"


# --- visibility ----------------------------------------------------------------------------------------
def test_records_of_private_incidents_are_hidden_as_the_incidents_are(
    sandbox: Sandbox, sdk: AuthenticatedClient
) -> None:
    secret = create_v2(sandbox, "hidden", visibility="private")
    edit(sdk, secret["id"], incident_status_id=FIXING)
    document = incidents_v2_import_postmortem_document.sync(
        secret["id"], client=sdk, body=IncidentsImportPostmortemDocumentPayloadV2(title="Hidden", content="x")
    )
    assert document is not None
    doc_id = document.postmortem_document.id

    def listed(key: str, path: str, many: str) -> list[str]:
        answer = call(sandbox, "GET", path, key)
        assert answer.status_code == 200, answer.text
        return [r.get("incident_id", r.get("id")) for r in answer.json()[many]]

    assert secret["id"] in listed("full", "/v2/incident_updates", "incident_updates")
    assert secret["id"] not in listed("viewer", "/v2/incident_updates", "incident_updates")
    assert secret["id"] in listed("full", "/v1/postmortem_documents", "postmortem_documents")
    assert secret["id"] not in listed("viewer", "/v1/postmortem_documents", "postmortem_documents")
    assert secret["id"] in listed("full", "/v1/incidents", "incidents")
    assert secret["id"] not in listed("viewer", "/v1/incidents", "incidents")
    for path in (f"/v1/postmortem_documents/{doc_id}", f"/v1/incidents/{secret['id']}"):
        assert call(sandbox, "GET", path, "viewer").status_code == 404
        assert call(sandbox, "GET", path, "full").status_code == 200
    for path in (
        "/v2/incident_updates",
        "/v2/incident_participants",
        "/v1/incident_relationships",
        "/v1/postmortem_documents",
    ):
        hidden = call(sandbox, "GET", path, "viewer", params={"incident_id": secret["id"]})
        assert hidden.status_code == 422, path
        assert hidden.json()["errors"][0]["source"]["field"] == "incident_id"


# --- participants, workloads, relationships ---------------------------------------------------------------
def test_participants_and_workload_follow_role_assignments_on_the_sandbox_clock(mock: IncidentMock) -> None:
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)  # a Monday, 08:00 UTC
    with (
        mock.sandbox(frozen_at=start) as sandbox,
        AuthenticatedClient(
            base_url=sandbox.base_url, token=sandbox.keys.full, raise_on_unexpected_status=True
        ) as sdk,
    ):
        incident = create_v2(
            sandbox, "people", incident_role_assignments=[{"incident_role_id": LEAD, "assignee": {"id": ADA}}]
        )
        sandbox.clock.advance(dt.timedelta(hours=2))  # 10:00: Grace joins as comms
        edit(
            sdk,
            incident["id"],
            incident_role_assignments=[
                IncidentRoleAssignmentPayloadV2(
                    incident_role_id=COMMS, assignee=UserReferencePayloadV2(id=GRACE)
                )
            ],
        )
        sandbox.clock.advance(dt.timedelta(hours=9))  # 19:00: Grace leaves
        edit(
            sdk,
            incident["id"],
            incident_role_assignments=[IncidentRoleAssignmentPayloadV2(incident_role_id=COMMS)],
        )
        sandbox.clock.advance(dt.timedelta(hours=5))  # 00:00 the next day

        people = incident_participants_v2_list.sync(client=sdk, incident_id=incident["id"])
        assert people is not None
        assert [(p.user.id, p.participant_type) for p in people.incident_participants.active] == [
            (ADA, "responder")
        ]
        assert [(p.user.id, p.participant_type) for p in people.incident_participants.passive] == [
            (GRACE, "observer")
        ]

        loads = incident_participant_workloads_v2_list.sync(client=sdk, incident_id=incident["id"])
        assert loads is not None
        by_user = {w.user.id: w for w in loads.incident_participant_workloads}
        ada, grace = by_user[ADA].workload, by_user[GRACE].workload
        # Ada: 08:00 -> 00:00 (late 1 h, working 9 h, late 5 h, sleeping 1 h)
        assert (ada.minutes_spent_on_incident, ada.minutes_spent_on_incident_in_working_hours) == (960, 540)
        assert (
            ada.minutes_spent_on_incident_in_late_hours,
            ada.minutes_spent_on_incident_in_sleeping_hours,
        ) == (360, 60)
        # Grace: 10:00 -> 19:00 (working 8 h, late 1 h), archived when she left
        assert (grace.minutes_spent_on_incident, grace.minutes_spent_on_incident_in_late_hours) == (540, 60)
        assert by_user[GRACE].archived_at == start + dt.timedelta(hours=11)
        assert loads.metadata.data_synced_at == start + dt.timedelta(hours=16)


def test_minutes_over_several_days_split_by_hour_of_day() -> None:
    start = dt.datetime(2026, 3, 1, 22, 30, tzinfo=dt.UTC)
    found = minutes_by_hours(start, start + dt.timedelta(days=3))
    assert sum(found.values()) == 3 * 24 * 60
    assert found == {"working": 3 * 9 * 60, "late": 3 * 7 * 60, "sleeping": 3 * 8 * 60}
    assert minutes_by_hours(start, start) == {"working": 0, "late": 0, "sleeping": 0}


def test_relationships_seeded_by_fixtures_are_listed_for_both_incidents(tmp_path: Path) -> None:
    with open(DEFAULT_FIXTURES, encoding="utf-8") as fh:
        fixtures = yaml.safe_load(fh)
    payload = {"severity_id": MAJOR, "visibility": "public", "incident_status_id": TRIAGE}
    seeds = [
        ("01JGZ1NC000000000000000043", "Card timeouts", "public"),
        ("01JGZ1NC000000000000000044", "Secret", "private"),
    ]
    for i, (incident_id, name, visibility) in enumerate(seeds):
        body = {**payload, "idempotency_key": f"seed-{i}", "name": name, "visibility": visibility}
        fixtures["incidents"].append({"id": incident_id, "created_by": "mock-key-creator", "payload": body})
    fixtures["incident_relationships"].append(
        {
            "id": "01JGZ1REL00000000000000002",
            "incident_id": "01JGZ1NC000000000000000044",
            "related_incident_id": SEEDED_INCIDENT,
        }
    )
    path = tmp_path / "fixtures.yaml"
    path.write_text(yaml.safe_dump(fixtures), encoding="utf-8")

    def related(url: str, ref: str, token: str = "mock-key-full") -> list[Any]:
        answer = httpx.get(
            f"{url}/v1/incident_relationships",
            params={"incident_id": ref},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.text
        return [r["incident"] for r in answer.json()["incident_relationships"]]

    with serve(create_app(path, validate_responses=True)) as url:
        # the packaged link (to ...43) and this one (from ...44), each naming the other incident
        assert related(url, SEEDED_INCIDENT) == [
            {"id": "01JGZ1NC000000000000000043", "name": "Card timeouts", "external_id": 2},
            {"id": "01JGZ1NC000000000000000044", "name": "Secret", "external_id": 3},
        ]
        assert [r["id"] for r in related(url, SEEDED_INCIDENT, "mock-key-viewer")] == [
            "01JGZ1NC000000000000000043"
        ]
        assert [r["id"] for r in related(url, "2")] == [SEEDED_INCIDENT]  # by number, from the other side
