"""The official SDK (`incident-io==2.29.0`) against the mock behind uvicorn on 127.0.0.1.

The SDK is used unchanged: its functions build the requests and its typed models parse every answer,
success or error. A mock that drifts from what the SDK expects shows up here as a parse failure or a
`None` in `.parsed` (an undocumented status), not just as a wrong value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from incident_io import AuthenticatedClient, Client
from incident_io.api.custom_field_options_v1 import custom_field_options_v1_list
from incident_io.api.custom_fields_v2 import custom_fields_v2_list, custom_fields_v2_show
from incident_io.api.incident_roles_v2 import incident_roles_v2_list, incident_roles_v2_show
from incident_io.api.incident_statuses_v1 import incident_statuses_v1_list, incident_statuses_v1_show
from incident_io.api.incident_timestamps_v2 import incident_timestamps_v2_list, incident_timestamps_v2_show
from incident_io.api.incident_types_v1 import incident_types_v1_list, incident_types_v1_show
from incident_io.api.incidents_v2 import (
    incidents_v2_create,
    incidents_v2_edit,
    incidents_v2_list,
    incidents_v2_show,
)
from incident_io.api.severities_v1 import (
    severities_v1_create,
    severities_v1_delete,
    severities_v1_list,
    severities_v1_show,
    severities_v1_update,
)
from incident_io.api.utilities_v1 import utilities_v1_identity
from incident_io.models import (
    CustomFieldOptionsListResultV1,
    CustomFieldsListResultV2,
    CustomFieldsShowResultV2,
    ErrorResponse,
    ErrorResponseType,
    ErrorSingle,
    IncidentEditPayloadV2,
    IncidentRolesListResultV2,
    IncidentRolesShowResultV2,
    IncidentsCreatePayloadV2,
    IncidentsCreatePayloadV2Mode,
    IncidentsCreatePayloadV2Visibility,
    IncidentsCreateResultV2,
    IncidentsEditPayloadV2,
    IncidentsEditResultV2,
    IncidentsListResultV2,
    IncidentsShowResultV2,
    IncidentStatusesListResultV1,
    IncidentStatusesShowResultV1,
    IncidentsV2ListStatusCategory,
    IncidentTimestampsListResultV2,
    IncidentTimestampsShowResultV2,
    IncidentTypesListResultV1,
    IncidentTypesShowResultV1,
    IncidentV2,
    SeveritiesCreatePayloadV1,
    SeveritiesCreateResultV1,
    SeveritiesListResultV1,
    SeveritiesShowResultV1,
    SeveritiesUpdatePayloadV1,
    SeveritiesUpdateResultV1,
    UtilitiesIdentityResultV1,
)
from incident_io.types import UNSET, Response, Unset

from incident_contract.document import load_spec
from tests.mock.seed import MAJOR, SEEDED_INCIDENT

T = TypeVar("T")
PUBLIC, PRIVATE = IncidentsCreatePayloadV2Visibility.PUBLIC, IncidentsCreatePayloadV2Visibility.PRIVATE
TRIAGE, INVESTIGATING, CLOSED = (
    "01JGZ0STAT000000000TR1AGE0",
    "01JGZ0STAT00000000000NVEST",
    "01JGZ0STAT0000000000C10SED",
)


@pytest.fixture
def sdk(live_url: str) -> Iterator[Callable[[str], AuthenticatedClient]]:
    """SDK clients for the live mock, one per key, closed after the test."""
    made: list[AuthenticatedClient] = []

    def make(token: str) -> AuthenticatedClient:
        client = AuthenticatedClient(base_url=live_url, token=token, raise_on_unexpected_status=True)
        made.append(client)
        return client

    yield make
    for client in made:
        client.get_httpx_client().close()


@pytest.fixture
def full(sdk: Callable[[str], AuthenticatedClient]) -> AuthenticatedClient:
    return sdk("mock-key-full")


@pytest.fixture
def creator(sdk: Callable[[str], AuthenticatedClient]) -> AuthenticatedClient:
    return sdk("mock-key-creator")


@pytest.fixture
def viewer(sdk: Callable[[str], AuthenticatedClient]) -> AuthenticatedClient:
    return sdk("mock-key-viewer")


def ok(response: Response[Any], model: type[T], status: int = 200) -> T:
    """The parsed success body, after checking the status and that it parsed into `model`."""
    assert response.status_code == status, response.content
    assert isinstance(response.parsed, model), f"{type(response.parsed).__name__} is not {model.__name__}"
    return response.parsed


def failed(response: Response[Any], status: int, type_: str, code: str) -> ErrorResponse:
    """The parsed ErrorResponse, after checking it agrees with the HTTP answer."""
    assert response.status_code == status, response.content
    error = response.parsed
    assert isinstance(error, ErrorResponse), f"{type(error).__name__} is not ErrorResponse"
    assert error.status == status
    assert error.type_ == ErrorResponseType(type_)
    assert error.request_id and error.request_id == response.headers["x-request-id"]
    assert error.errors and error.errors[0].code == code
    assert response.headers["content-type"] == "application/json"
    return error


def source_of(entry: ErrorSingle) -> tuple[str, str]:
    assert not isinstance(entry.source, Unset), f"the error {entry.code} names no field"
    return entry.source.field, entry.source.pointer


def field_of(error: ErrorResponse) -> tuple[str, str]:
    return source_of(error.errors[0])


def payload(key: str, **extra: Any) -> IncidentsCreatePayloadV2:
    return IncidentsCreatePayloadV2(
        **{"idempotency_key": key, "visibility": PUBLIC, "severity_id": MAJOR, **extra}
    )


def create(client: AuthenticatedClient, body: IncidentsCreatePayloadV2) -> IncidentV2:
    return ok(incidents_v2_create.sync_detailed(client=client, body=body), IncidentsCreateResultV2).incident


def total(client: AuthenticatedClient) -> int:
    meta = ok(incidents_v2_list.sync_detailed(client=client), IncidentsListResultV2).pagination_meta
    assert not isinstance(meta, Unset) and isinstance(meta.total_record_count, int)
    return meta.total_record_count


# --- the getting-started flow ------------------------------------------------------------------------
def test_getting_started_flow_with_a_create_only_key(
    creator: AuthenticatedClient, full: AuthenticatedClient
) -> None:
    identity = ok(utilities_v1_identity.sync_detailed(client=creator), UtilitiesIdentityResultV1).identity
    assert [str(r) for r in identity.roles] == ["incident_creator"]
    severities = ok(severities_v1_list.sync_detailed(client=creator), SeveritiesListResultV1).severities
    major = next(s for s in severities if s.name == "Major")
    body = payload("alert-1234", name="Checkout is down", summary="Card payments fail")
    body.severity_id = major.id
    incident = create(creator, body)
    assert incident.name == "Checkout is down" and incident.summary == "Card payments fail"
    assert not isinstance(incident.severity, Unset) and incident.severity.id == major.id
    assert incident.reference == "INC-2"  # INC-1 is the seeded incident
    assert str(incident.visibility) == "public" and str(incident.mode) == "standard"
    assert incident.creator.api_key and incident.creator.api_key.name == identity.name
    shown = ok(incidents_v2_show.sync_detailed(incident.id, client=full), IncidentsShowResultV2).incident
    assert (shown.id, shown.name) == (incident.id, incident.name)


def test_replay_returns_the_same_incident_and_says_so(creator: AuthenticatedClient) -> None:
    first = incidents_v2_create.sync_detailed(client=creator, body=payload("replay", name="Disk full"))
    again = incidents_v2_create.sync_detailed(client=creator, body=payload("replay", name="Disk full"))
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    original = ok(first, IncidentsCreateResultV2).incident
    replayed = ok(again, IncidentsCreateResultV2).incident
    assert (replayed.id, replayed.reference) == (original.id, original.reference)


def test_key_reuse_with_another_payload_is_422(
    creator: AuthenticatedClient, full: AuthenticatedClient
) -> None:
    original = create(creator, payload("reuse", name="A"))
    before = total(full)
    reused = incidents_v2_create.sync_detailed(client=creator, body=payload("reuse", name="B"))
    error = failed(reused, 422, "validation_error", "idempotency_key_reused")
    assert field_of(error) == ("idempotency_key", "/idempotency_key")
    assert total(full) == before
    shown = ok(incidents_v2_show.sync_detailed(original.id, client=full), IncidentsShowResultV2).incident
    assert shown.name == "A"


def test_missing_severity_through_the_sdk_model_is_422_is_required(
    creator: AuthenticatedClient, full: AuthenticatedClient
) -> None:
    # The SDK's model makes severity_id optional; the contract requires it.
    before = total(full)
    body = IncidentsCreatePayloadV2(idempotency_key="no-severity", visibility=PUBLIC)
    error = failed(
        incidents_v2_create.sync_detailed(client=creator, body=body), 422, "validation_error", "is_required"
    )
    assert field_of(error) == ("severity_id", "/severity_id")
    assert total(full) == before
    assert create(creator, payload("no-severity")).reference  # the rejected create did not use the key


@pytest.mark.parametrize("missing", ["idempotency_key", "visibility", "severity_id"])
def test_missing_field_in_a_raw_body_is_422_naming_it(
    creator: AuthenticatedClient, full: AuthenticatedClient, missing: str
) -> None:
    """The SDK model cannot omit every required field, so send the body through the SDK's own client."""
    raw = payload("raw-missing").to_dict()
    del raw[missing]
    before = total(full)
    answer = creator.get_httpx_client().post("/v2/incidents", json=raw)
    error = ErrorResponse.from_dict(answer.json())
    assert (answer.status_code, error.status, error.type_) == (422, 422, ErrorResponseType.VALIDATION_ERROR)
    assert error.request_id == answer.headers["x-request-id"]
    assert [(e.code, source_of(e)) for e in error.errors] == [("is_required", (missing, f"/{missing}"))]
    assert total(full) == before


# --- visibility ----------------------------------------------------------------------------------------
def test_private_incident_is_invisible_to_the_viewer_key(
    full: AuthenticatedClient, viewer: AuthenticatedClient
) -> None:
    public = create(full, payload("vis-public"))
    secret = create(full, payload("vis-private", visibility=PRIVATE, name="Leaked credentials"))
    assert str(secret.visibility) == "private"  # the creator always gets its incident back

    seen = ok(incidents_v2_list.sync_detailed(client=viewer), IncidentsListResultV2)
    ids = {i.id for i in seen.incidents}
    assert public.id in ids and secret.id not in ids
    assert not isinstance(seen.pagination_meta, Unset)
    assert seen.pagination_meta.total_record_count == len(ids) == 2  # seeded + public

    for ref in (secret.id, secret.reference.removeprefix("INC-")):
        failed(incidents_v2_show.sync_detailed(ref, client=viewer), 404, "not_found", "not_found")
    assert (
        ok(incidents_v2_show.sync_detailed(public.id, client=viewer), IncidentsShowResultV2).incident.id
        == public.id
    )

    everything = ok(incidents_v2_list.sync_detailed(client=full), IncidentsListResultV2)
    assert secret.id in {i.id for i in everything.incidents}
    shown = ok(incidents_v2_show.sync_detailed(secret.id, client=full), IncidentsShowResultV2).incident
    assert shown.name == "Leaked credentials"


# --- errors as the SDK's ErrorResponse -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "status", "type_", "code"),
    [
        (lambda url: Client(base_url=url), 401, "authentication_error", "missing_authorization_material"),
        (
            lambda url: AuthenticatedClient(base_url=url, token="mock-key-full", prefix="Basic"),
            401,
            "authentication_error",
            "missing_authorization_material",
        ),
        (
            lambda url: AuthenticatedClient(base_url=url, token="not-a-key"),
            401,
            "authentication_error",
            "invalid_authorization",
        ),
        (
            lambda url: AuthenticatedClient(base_url=url, token="mock-key-viewer"),
            403,
            "resource_forbidden",
            "missing_scope",
        ),
    ],
    ids=["no-header", "basic-scheme", "unknown-key", "viewer-creates"],
)
def test_auth_failures_parse_as_error_response(
    live_url: str, make: Callable[[str], Client | AuthenticatedClient], status: int, type_: str, code: str
) -> None:
    with make(live_url) as client:
        response = incidents_v2_create.sync_detailed(client=client, body=payload("auth"))
    error = failed(response, status, type_, code)
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    else:
        assert "incidents.create" in error.errors[0].message and "incident_creator" in error.errors[0].message


@pytest.mark.parametrize(
    ("call", "status", "type_", "code"),
    [
        (lambda c: severities_v1_show.sync_detailed("nope", client=c), 404, "not_found", "not_found"),
        (lambda c: incidents_v2_show.sync_detailed("999", client=c), 404, "not_found", "not_found"),
        (lambda c: incident_types_v1_show.sync_detailed("nope", client=c), 404, "not_found", "not_found"),
        (
            lambda c: incidents_v2_list.sync_detailed(client=c, page_size=0),
            422,
            "validation_error",
            "invalid_value",
        ),
        (
            lambda c: incidents_v2_list.sync_detailed(client=c, page_size=251),
            422,
            "validation_error",
            "invalid_value",
        ),
        (
            lambda c: incidents_v2_list.sync_detailed(client=c, after="nope"),
            422,
            "validation_error",
            "invalid_value",
        ),
        (
            lambda c: incidents_v2_create.sync_detailed(
                client=c, body=payload("bad-ref", incident_type_id="nope")
            ),
            422,
            "validation_error",
            "invalid_value",
        ),
    ],
    ids=["severity-404", "incident-404", "type-404", "page-size-0", "page-size-251", "after", "reference"],
)
def test_not_found_and_validation_errors_parse_as_error_response(
    full: AuthenticatedClient,
    call: Callable[[AuthenticatedClient], Response[Any]],
    status: int,
    type_: str,
    code: str,
) -> None:
    error = failed(call(full), status, type_, code)
    if status == 422:
        assert field_of(error)[0] in {"page_size", "after", "incident_type_id"}


# --- edit ------------------------------------------------------------------------------------------------
def test_edit_changes_only_the_fields_sent(full: AuthenticatedClient) -> None:
    incident = create(full, payload("edit-me", name="Slow API", summary="p99 up"))
    assert incident.incident_status.id == TRIAGE
    body = IncidentsEditPayloadV2(
        incident=IncidentEditPayloadV2(name="Slow API in eu-west-1", incident_status_id=CLOSED),
        notify_incident_channel=False,
    )
    edited = ok(
        incidents_v2_edit.sync_detailed(incident.id, client=full, body=body), IncidentsEditResultV2
    ).incident
    assert (edited.id, edited.name, edited.incident_status.id) == (
        incident.id,
        "Slow API in eu-west-1",
        CLOSED,
    )
    assert edited.summary == "p99 up" and edited.reference == incident.reference
    assert edited.updated_at >= incident.updated_at
    shown = ok(incidents_v2_show.sync_detailed(incident.id, client=full), IncidentsShowResultV2).incident
    assert (shown.name, shown.incident_status.id) == (edited.name, CLOSED)

    back = IncidentsEditPayloadV2(
        incident=IncidentEditPayloadV2(incident_status_id=INVESTIGATING), notify_incident_channel=True
    )
    error = failed(
        incidents_v2_edit.sync_detailed(incident.id, client=full, body=back),
        422,
        "validation_error",
        "invalid_value",
    )
    assert field_of(error)[0] == "incident_status_id"
    shown = ok(incidents_v2_show.sync_detailed(incident.id, client=full), IncidentsShowResultV2).incident
    assert shown.incident_status.id == CLOSED


def test_edit_needs_the_update_scope(creator: AuthenticatedClient, full: AuthenticatedClient) -> None:
    incident = create(creator, payload("edit-scope"))
    body = IncidentsEditPayloadV2(incident=IncidentEditPayloadV2(name="x"), notify_incident_channel=False)
    failed(
        incidents_v2_edit.sync_detailed(incident.id, client=creator, body=body),
        403,
        "resource_forbidden",
        "missing_scope",
    )
    assert (
        ok(incidents_v2_show.sync_detailed(incident.id, client=full), IncidentsShowResultV2).incident.name
        == incident.name
    )


# --- severities ------------------------------------------------------------------------------------------
def test_severity_crud(full: AuthenticatedClient, creator: AuthenticatedClient) -> None:
    ranks = [
        s.rank for s in ok(severities_v1_list.sync_detailed(client=full), SeveritiesListResultV1).severities
    ]
    body = SeveritiesCreatePayloadV1(name="Catastrophic", description="Everything is down")
    created = ok(
        severities_v1_create.sync_detailed(client=full, body=body), SeveritiesCreateResultV1, 201
    ).severity
    assert created.rank == max(ranks) + 1  # default rank: one above the highest
    shown = ok(severities_v1_show.sync_detailed(created.id, client=full), SeveritiesShowResultV1).severity
    assert (shown.name, shown.description) == ("Catastrophic", "Everything is down")

    change = SeveritiesUpdatePayloadV1(name="Apocalyptic", description="Worse", rank=9)
    updated = ok(
        severities_v1_update.sync_detailed(created.id, client=full, body=change), SeveritiesUpdateResultV1
    ).severity
    assert (updated.id, updated.name, updated.rank) == (created.id, "Apocalyptic", 9)
    listed = ok(severities_v1_list.sync_detailed(client=creator), SeveritiesListResultV1).severities
    assert [s.name for s in listed][-1] == "Apocalyptic"

    duplicate = SeveritiesCreatePayloadV1(name="major", description="Same name, other case")
    error = failed(
        severities_v1_create.sync_detailed(client=full, body=duplicate),
        422,
        "validation_error",
        "invalid_value",
    )
    assert field_of(error) == ("name", "/name")
    failed(
        severities_v1_create.sync_detailed(client=creator, body=body),
        403,
        "resource_forbidden",
        "missing_scope",
    )

    deleted = severities_v1_delete.sync_detailed(created.id, client=full)
    assert deleted.status_code == 202 and deleted.parsed is None and deleted.content == b""
    failed(severities_v1_show.sync_detailed(created.id, client=full), 404, "not_found", "not_found")
    failed(severities_v1_delete.sync_detailed(created.id, client=full), 404, "not_found", "not_found")

    in_use = severities_v1_delete.sync_detailed(MAJOR, client=full)  # the seeded incident uses Major
    assert field_of(failed(in_use, 422, "validation_error", "invalid_value")) == ("id", "/id")
    assert (
        ok(severities_v1_show.sync_detailed(MAJOR, client=full), SeveritiesShowResultV1).severity.name
        == "Major"
    )


# --- settings --------------------------------------------------------------------------------------------
SETTINGS = [
    (severities_v1_list, SeveritiesListResultV1, "severities", severities_v1_show, SeveritiesShowResultV1, "severity"),
    (incident_types_v1_list, IncidentTypesListResultV1, "incident_types", incident_types_v1_show, IncidentTypesShowResultV1, "incident_type"),
    (incident_statuses_v1_list, IncidentStatusesListResultV1, "incident_statuses", incident_statuses_v1_show, IncidentStatusesShowResultV1, "incident_status"),
    (custom_fields_v2_list, CustomFieldsListResultV2, "custom_fields", custom_fields_v2_show, CustomFieldsShowResultV2, "custom_field"),
    (incident_roles_v2_list, IncidentRolesListResultV2, "incident_roles", incident_roles_v2_show, IncidentRolesShowResultV2, "incident_role"),
    (incident_timestamps_v2_list, IncidentTimestampsListResultV2, "incident_timestamps", incident_timestamps_v2_show, IncidentTimestampsShowResultV2, "incident_timestamp"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("lister", "list_model", "many", "shower", "show_model", "one"), SETTINGS, ids=[s[2] for s in SETTINGS]
)
def test_every_settings_list_and_show_parses(
    viewer: AuthenticatedClient,
    lister: Any,
    list_model: type,
    many: str,
    shower: Any,
    show_model: type,
    one: str,
) -> None:
    listed = getattr(ok(lister.sync_detailed(client=viewer), list_model), many)
    assert listed, f"no {many} seeded"
    for item in listed:
        shown = getattr(ok(shower.sync_detailed(item.id, client=viewer), show_model), one)
        assert shown.to_dict() == item.to_dict()
    failed(shower.sync_detailed("01JGZ0N0SVCH000000000000000", client=viewer), 404, "not_found", "not_found")


def test_custom_field_options_walk_pages(viewer: AuthenticatedClient) -> None:
    fields = ok(custom_fields_v2_list.sync_detailed(client=viewer), CustomFieldsListResultV2).custom_fields
    single = next(f for f in fields if str(f.field_type) == "single_select")
    everything = ok(
        custom_field_options_v1_list.sync_detailed(client=viewer, custom_field_id=single.id, page_size=250),
        CustomFieldOptionsListResultV1,
    )
    assert isinstance(everything.pagination_meta.after, Unset)
    expected = [o.id for o in everything.custom_field_options]
    assert len(expected) >= 2 and all(o.custom_field_id == single.id for o in everything.custom_field_options)
    walked: list[str] = []
    after: str | Unset = UNSET
    while True:
        page = ok(
            custom_field_options_v1_list.sync_detailed(
                client=viewer, custom_field_id=single.id, page_size=1, after=after
            ),
            CustomFieldOptionsListResultV1,
        )
        walked += [o.id for o in page.custom_field_options]
        after = page.pagination_meta.after
        if isinstance(after, Unset):
            break
    assert walked == expected


def test_identity_for_every_default_key(sdk: Callable[[str], AuthenticatedClient]) -> None:
    for token, roles in [
        ("mock-key-full", set(load_spec()["x-api-key-roles"])),
        ("mock-key-creator", {"incident_creator"}),
        ("mock-key-viewer", {"viewer"}),
    ]:
        identity = ok(
            utilities_v1_identity.sync_detailed(client=sdk(token)), UtilitiesIdentityResultV1
        ).identity
        assert {str(r) for r in identity.roles} == roles
        assert identity.dashboard_url.startswith("http")


# --- pagination ------------------------------------------------------------------------------------------
def test_pagination_walk_visits_every_incident_once(
    creator: AuthenticatedClient, full: AuthenticatedClient
) -> None:
    created = [create(creator, payload(f"walk-{i}", name=f"Walk {i}")).id for i in range(60)]
    test_mode = create(creator, payload("walk-test", mode=IncidentsCreatePayloadV2Mode.TEST))
    walked: list[str] = []
    sizes: list[int] = []
    after: str | Unset = UNSET
    for _ in range(10):
        page = ok(
            incidents_v2_list.sync_detailed(client=full, page_size=25, after=after), IncidentsListResultV2
        )
        meta = page.pagination_meta
        assert not isinstance(meta, Unset)
        assert (meta.page_size, meta.total_record_count) == (25, 61)
        walked += [i.id for i in page.incidents]
        sizes.append(len(page.incidents))
        after = meta.after
        if isinstance(after, Unset):
            break
        assert after == page.incidents[-1].id
    assert sizes == [25, 25, 11]
    assert len(walked) == len(set(walked)) == 61
    assert walked == [*reversed(created), SEEDED_INCIDENT]  # newest first; test-mode incidents left out
    assert test_mode.id not in walked


def test_request_ids_are_unique_per_request(full: AuthenticatedClient) -> None:
    ids = {severities_v1_list.sync_detailed(client=full).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_sdk_sends_json_the_mock_accepts_verbatim(full: AuthenticatedClient) -> None:
    """The SDK's create payload, serialised as it sends it, replays as JSON-equal whatever the key order."""
    body = payload("verbatim", name="Order", summary="Key order must not matter")
    first = create(full, body)
    shuffled = dict(reversed(list(body.to_dict().items())))
    answer = full.get_httpx_client().post(
        "/v2/incidents", content=json.dumps(shuffled), headers={"Content-Type": "application/json"}
    )
    assert answer.headers["idempotent-replayed"] == "true"
    assert IncidentsCreateResultV2.from_dict(answer.json()).incident.id == first.id


# --- status categories by their newer names ----------------------------------------------------------
DOCUMENTING = "01JGZ0STAT00000000DEBR1EF0"  # category learning, shown as Post-incident


def listed_by_category(client: AuthenticatedClient, *names: str, op: str = "one_of") -> dict[str, str]:
    """Incident id -> its status's category, for a status_category filter sent by the SDK's own function."""
    category = IncidentsV2ListStatusCategory()
    category[op] = list(names)
    answer = incidents_v2_list.sync_detailed(client=client, status_category=category, page_size=250)
    incidents = ok(answer, IncidentsListResultV2).incidents
    assert len(incidents) < 250
    return {i.id: str(i.incident_status.category) for i in incidents}


def test_status_category_takes_active_and_post_incident_and_answers_live_and_learning(
    full: AuthenticatedClient,
) -> None:
    live = create(full, payload("category-live", name="Live one", incident_status_id=INVESTIGATING))
    learning = create(full, payload("category-learning", name="Learning one"))
    moved = IncidentsEditPayloadV2(
        incident=IncidentEditPayloadV2(incident_status_id=DOCUMENTING), notify_incident_channel=False
    )
    ok(incidents_v2_edit.sync_detailed(learning.id, client=full, body=moved), IncidentsEditResultV2)

    active = listed_by_category(full, "active")
    assert live.id in active and learning.id not in active
    assert set(active.values()) == {"live"}
    assert active == listed_by_category(full, "live")

    post_incident = listed_by_category(full, "post-incident")
    assert learning.id in post_incident and live.id not in post_incident
    assert set(post_incident.values()) == {"learning"}
    assert post_incident == listed_by_category(full, "learning")

    assert listed_by_category(full, "active", "post-incident") == active | post_incident
    not_active = listed_by_category(full, "active", op="not_in")
    assert not_active == listed_by_category(full, "live", op="not_in")
    assert learning.id in not_active and "live" not in not_active.values()
