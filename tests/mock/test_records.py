"""Follow-ups, actions (version 2 and the version 1 view), incident attachments and incident memberships:
the behaviour their declarations cannot say, in-process through the whole request path.

Each object belongs to an incident and is exactly as visible as it: a key without
`incidents.view_private` cannot name a private incident (422, as for one that does not exist), cannot
reach an object of one (404) and never sees one listed. Their events reach a registered endpoint over real
sockets, the official SDK driving the mock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from incident_io import AuthenticatedClient
from incident_io.api.actions_v2 import actions_v2_create, actions_v2_update
from incident_io.api.follow_ups_v2 import (
    follow_ups_v2_connect_external_issue,
    follow_ups_v2_create,
    follow_ups_v2_update,
)
from incident_io.api.incident_memberships_v1 import (
    incident_memberships_v1_create,
    incident_memberships_v1_revoke,
)
from incident_io.api.incidents_v2 import incidents_v2_create
from incident_io.models import (
    ActionsCreatePayloadV2,
    ActionsUpdatePayloadV2,
    ActionsUpdatePayloadV2Status,
    FollowUpsConnectExternalIssuePayloadV2,
    FollowUpsConnectExternalIssuePayloadV2Provider,
    FollowUpsCreatePayloadV2,
    FollowUpsUpdatePayloadV2,
    FollowUpsUpdatePayloadV2Status,
    FollowUpV2,
    IncidentMembershipsCreatePayloadV1,
    IncidentMembershipsRevokePayloadV1,
    IncidentsCreatePayloadV2,
    IncidentsCreatePayloadV2Visibility,
)

from incident_contract.document import load_spec
from incident_contract.webhooks import payload_validator
from incident_mock.app import create_app
from incident_mock.resources import actions, follow_ups, memberships
from incident_mock.resources.organisation import Store
from incident_mock.testing import IncidentMock, Sandbox, WebhookReceiver
from tests.mock.conftest import FULL, VIEWER, incident_body
from tests.mock.seed import GRACE, MAJOR, SEEDED_INCIDENT
from tests.mock.webhook_helpers import eventually, verified_by_both
from tests.servers import serve

T = TypeVar("T")
SPEC = load_spec()

ADA = "01JGZ0VSER000000000000ADA0"
SEEDED_FOLLOW_UP, SEEDED_ACTION = "01JGZ2F0LL0WVP0000000ALRT0", "01JGZ2ACT10N000000R0LLBACK"
SEEDED_ATTACHMENT = "01JGZ2ATTACH00000000PR4821"
NOBODY = "01JGZ9N0B0DY00000000000000"
# the roles of an incident editor who may not see private incidents (no global_access)
EDITOR_ROLES = ["viewer", "incident_creator", "incident_editor", "incident_memberships_editor"]


async def new_incident(client: httpx.AsyncClient, key: str, **extra: Any) -> str:
    answer = await client.post("/v2/incidents", json=incident_body(key, **extra), headers=FULL)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["incident"]["id"])


async def made(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str] = FULL
) -> Any:
    answer = await client.post(path, json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()


def problem(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    [error] = answer.json()["errors"]
    return error  # type: ignore[no-any-return]


@pytest.fixture
async def editor(client: httpx.AsyncClient) -> dict[str, str]:
    """The headers of a key in a sandbox of its own, with the packaged fixtures: it may write follow-ups,
    actions, attachments and memberships but not see private incidents. The sandbox's full key is
    `editor["full"]`'s token."""
    keys = [
        {"id": "01JGZ0KEY000000000000EDIT0", "token": "editor", "name": "Editor", "roles": EDITOR_ROLES},
        {"id": "01JGZ0KEY00000000000000FV1", "token": "full", "name": "Full", "roles": ["viewer", "global_access",
         "incident_creator", "incident_editor", "incident_memberships_editor"]},
    ]  # fmt: skip
    answer = await client.post("/_mock/sandboxes", json={"fixtures": {"api_keys": keys}})
    assert answer.status_code == 201, answer.text
    tokens = {k["replaces"]: k["token"] for k in answer.json()["sandbox"]["keys"]}
    return {"Authorization": f"Bearer {tokens['editor']}", "full": f"Bearer {tokens['full']}"}


# --- follow-ups ------------------------------------------------------------------------------------------
async def test_a_follow_up_is_recorded_shown_listed_completed_and_deleted(client: httpx.AsyncClient) -> None:
    body = {"incident_id": SEEDED_INCIDENT, "title": "Load test checkout", "assignee_id": ADA}
    created = (await made(client, "/v2/follow_ups", body))["follow_up"]
    assert created["status"] == "outstanding" and created["labels"] == []
    assert created["creator"] == {
        "api_key": {"id": "01JGZ0KEY00000000000000FV1", "name": "Full access (mock)"}
    }
    assert created["assignee"]["id"] == ADA and "assignee_id" not in created
    assert "completed_at" not in created
    path = f"/v2/follow_ups/{created['id']}"
    assert (await client.get(path, headers=VIEWER)).json()["follow_up"] == created
    listed = (await client.get("/v2/follow_ups", headers=VIEWER)).json()["follow_ups"]
    assert [f["id"] for f in listed][-1] == created["id"] and SEEDED_FOLLOW_UP in [f["id"] for f in listed]

    done = await client.put(path, json={"title": "Load test checkout", "status": "completed"}, headers=FULL)
    assert done.status_code == 200, done.text
    completed = done.json()["follow_up"]
    assert completed["completed_at"] and completed["assignee"]["id"] == ADA  # fields not sent are kept
    reopened = await client.put(path, json={"title": "Load test it", "status": "outstanding"}, headers=FULL)
    assert "completed_at" not in reopened.json()["follow_up"]
    assert reopened.json()["follow_up"]["title"] == "Load test it"

    assert (await client.delete(path, headers=FULL)).status_code == 204
    assert (await client.get(path, headers=FULL)).status_code == 404
    assert created["id"] not in [
        f["id"] for f in (await client.get("/v2/follow_ups", headers=FULL)).json()["follow_ups"]
    ]


async def test_deleted_is_not_a_status_an_update_sets(client: httpx.AsyncClient) -> None:
    answer = await client.put(
        f"/v2/follow_ups/{SEEDED_FOLLOW_UP}", json={"title": "x", "status": "deleted"}, headers=FULL
    )
    assert problem(answer, 422)["source"]["field"] == "status"
    shown = (await client.get(f"/v2/follow_ups/{SEEDED_FOLLOW_UP}", headers=FULL)).json()["follow_up"]
    assert shown["status"] == "outstanding" and shown["title"] != "x"  # nothing changed


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("incident_id", {"incident_id": NOBODY, "title": "t"}),
        ("assignee_id", {"incident_id": SEEDED_INCIDENT, "title": "t", "assignee_id": NOBODY}),
    ],
)
async def test_a_follow_up_naming_what_does_not_exist_is_refused(
    client: httpx.AsyncClient, store: Store, field: str, body: dict[str, Any]
) -> None:
    before = len(store.table("follow_ups"))
    assert (
        problem(await client.post("/v2/follow_ups", json=body, headers=FULL), 422)["source"]["field"] == field
    )
    assert len(store.table("follow_ups")) == before


async def test_the_list_filters_by_incident_mode_and_team(client: httpx.AsyncClient) -> None:
    drill = await new_incident(client, "drill", mode="test", name="Drill")
    mine = (await made(client, "/v2/follow_ups", {"incident_id": drill, "title": "Drill follow-up"}))[
        "follow_up"
    ]

    async def listed(**params: str) -> list[str]:
        answer = await client.get("/v2/follow_ups", params=params, headers=FULL)
        assert answer.status_code == 200, answer.text
        return [f["id"] for f in answer.json()["follow_ups"]]

    assert mine["id"] not in await listed()  # a test incident's are left out by default
    assert await listed(incident_mode="test") == [mine["id"]]
    assert await listed(incident_id=drill) == [mine["id"]]  # one incident's, whatever its mode
    assert mine["id"] not in await listed(incident_id=SEEDED_INCIDENT)
    assert await listed(assignee_team_id="01JGZ0TEAM000000000PAYMENT") == [SEEDED_FOLLOW_UP]
    assert await listed(incident_mode="retrospective") == []


async def test_a_follow_up_is_linked_to_an_existing_issue_once(
    client: httpx.AsyncClient, store: Store
) -> None:
    created = await made(client, "/v2/follow_ups", {"incident_id": SEEDED_INCIDENT, "title": "Link me"})
    path = f"/v2/follow_ups/{created['follow_up']['id']}/actions/connect_external_issue"
    url = "https://linear.app/example/issue/PAY-88"
    before = store.text
    linked = await client.post(path, json={"provider": "linear", "url": url}, headers=FULL)
    assert linked.status_code == 200, linked.text
    reference = linked.json()["follow_up"]["external_issue_reference"]
    assert reference == {"provider": "linear", "issue_name": "PAY-88", "issue_permalink": url}
    assert store.text > before  # the link's text is counted
    shown = await client.get(f"/v2/follow_ups/{created['follow_up']['id']}", headers=FULL)
    assert shown.json()["follow_up"]["external_issue_reference"] == reference
    again = await client.post(
        path, json={"provider": "jira", "url": "https://example.com/browse/X-1"}, headers=FULL
    )
    assert problem(again, 422)["source"]["field"] == "id"
    assert (
        await client.delete(f"/v2/follow_ups/{created['follow_up']['id']}", headers=FULL)
    ).status_code == 204
    assert store.text < before  # the follow-up's text and its link's are given back


# --- visibility ----------------------------------------------------------------------------------------
async def test_objects_of_a_private_incident_are_hidden_from_keys_without_view_private(
    client: httpx.AsyncClient,
) -> None:
    secret = await new_incident(client, "secret", visibility="private", name="Secret")
    follow_up = (await made(client, "/v2/follow_ups", {"incident_id": secret, "title": "Hidden"}))[
        "follow_up"
    ]
    action = (await made(client, "/v2/actions", {"incident_id": secret, "description": "Hidden"}))["action"]
    resource = {"resource_type": "arbitrary_url", "url": "https://example.com/secret"}
    attachment = await made(client, "/v1/incident_attachments", {"incident_id": secret, "resource": resource})
    attachment_id = attachment["incident_attachment"]["id"]
    listings = {
        "/v2/follow_ups": ("follow_ups", follow_up["id"]),
        "/v2/actions": ("actions", action["id"]),
        "/v1/actions": ("actions", action["id"]),
        "/v1/incident_attachments": ("incident_attachments", attachment_id),
    }
    for path, (many, object_id) in listings.items():
        full = (await client.get(path, headers=FULL)).json()[many]
        viewer = (await client.get(path, headers=VIEWER)).json()[many]
        assert object_id in [o["id"] for o in full], path
        assert object_id not in [o["id"] for o in viewer], path
        assert {o["id"] for o in viewer} < {o["id"] for o in full}, path  # the public ones stay listed
        hidden = await client.get(path, params={"incident_id": secret}, headers=VIEWER)
        unknown = await client.get(path, params={"incident_id": NOBODY}, headers=VIEWER)
        assert problem(hidden, 422)["message"] == problem(unknown, 422)["message"].replace(NOBODY, secret)
    for path in (
        f"/v2/follow_ups/{follow_up['id']}",
        f"/v2/actions/{action['id']}",
        f"/v1/actions/{action['id']}",
    ):
        assert (await client.get(path, headers=FULL)).status_code == 200, path
        assert problem(await client.get(path, headers=VIEWER), 404)["message"].startswith("No "), path


async def test_a_key_without_view_private_cannot_write_to_a_private_incident(
    client: httpx.AsyncClient, editor: dict[str, str]
) -> None:
    full = {"Authorization": editor.pop("full")}
    answer = await client.post("/v2/incidents", json=incident_body("p", visibility="private"), headers=full)
    secret = answer.json()["incident"]["id"]
    answer = await client.post("/v2/incidents", json=incident_body("o", visibility="public"), headers=full)
    open_one = answer.json()["incident"]["id"]
    on_secret = (await made(client, "/v2/follow_ups", {"incident_id": secret, "title": "T"}, full))[
        "follow_up"
    ]
    action = (await made(client, "/v2/actions", {"incident_id": secret, "description": "D"}, full))["action"]
    attachment = await made(
        client, "/v1/incident_attachments",
        {"incident_id": secret, "resource": {"resource_type": "sentry_issue", "external_id": "S-1"}}, full,
    )  # fmt: skip
    creates = {
        "/v2/follow_ups": {"title": "T"},
        "/v2/actions": {"description": "D"},
        "/v1/incident_attachments": {"resource": {"resource_type": "sentry_issue", "external_id": "S-2"}},
        "/v1/incident_memberships": {"user_id": GRACE},
    }
    for path, body in creates.items():
        refused = await client.post(path, json={"incident_id": secret, **body}, headers=editor)
        unknown = await client.post(path, json={"incident_id": NOBODY, **body}, headers=editor)
        assert problem(refused, 422)["source"]["field"] == "incident_id", path
        assert problem(refused, 422)["message"] == problem(unknown, 422)["message"], path
        public = await client.post(path, json={"incident_id": open_one, **body}, headers=editor)
        assert public.status_code == 201, (path, public.text)  # the same key writes to a public incident
    writes = [
        ("PUT", f"/v2/follow_ups/{on_secret['id']}", {"title": "T", "status": "completed"}),
        ("POST", f"/v2/follow_ups/{on_secret['id']}/actions/connect_external_issue",
         {"provider": "jira", "url": "https://example.com/browse/X-1"}),
        ("DELETE", f"/v2/follow_ups/{on_secret['id']}", None),
        ("PUT", f"/v2/actions/{action['id']}", {"description": "D", "status": "completed"}),
        ("DELETE", f"/v2/actions/{action['id']}", None),
        ("DELETE", f"/v1/incident_attachments/{attachment['incident_attachment']['id']}", None),
    ]  # fmt: skip
    for method, path, body in writes:
        answer = await client.request(method, path, json=body, headers=editor)
        assert answer.status_code == 404, (method, path, answer.text)
    # nothing changed: the full key sees everything as it was
    shown = (await client.get(f"/v2/follow_ups/{on_secret['id']}", headers=full)).json()["follow_up"]
    assert shown == on_secret
    assert (await client.get(f"/v2/actions/{action['id']}", headers=full)).json()["action"] == action


# --- actions ---------------------------------------------------------------------------------------------
async def test_version_1_shows_the_same_actions_in_its_own_shape(client: httpx.AsyncClient) -> None:
    created = (await made(client, "/v2/actions", {"incident_id": SEEDED_INCIDENT, "description": "Page"}))[
        "action"
    ]
    v1 = (await client.get(f"/v1/actions/{created['id']}", headers=VIEWER)).json()["action"]
    assert v1["follow_up"] is False and "creator" not in v1
    assert {k: v for k, v in created.items() if k != "creator"} == {
        k: v for k, v in v1.items() if k != "follow_up"
    }
    listed = (await client.get("/v1/actions", headers=VIEWER)).json()["actions"]
    v2_listed = (await client.get("/v2/actions", headers=VIEWER)).json()["actions"]
    assert [a["id"] for a in listed] == [a["id"] for a in v2_listed]
    assert (await client.get("/v1/actions", params={"is_follow_up": "true"}, headers=VIEWER)).json() == {
        "actions": []
    }
    not_follow_ups = await client.get("/v1/actions", params={"is_follow_up": "false"}, headers=VIEWER)
    assert not_follow_ups.json()["actions"] == listed  # a boolean in the query, as the SDK writes it
    unreadable = await client.get("/v1/actions", params={"is_follow_up": "yes"}, headers=VIEWER)
    assert problem(unreadable, 422)["source"]["field"] == "is_follow_up"
    updated = await client.put(
        f"/v2/actions/{created['id']}",
        json={"description": "Page again", "status": "completed"},
        headers=FULL,
    )
    assert updated.status_code == 200, updated.text
    v1 = (await client.get(f"/v1/actions/{created['id']}", headers=VIEWER)).json()["action"]
    assert (v1["description"], v1["status"]) == ("Page again", "completed") and v1["completed_at"]
    assert (await client.delete(f"/v2/actions/{created['id']}", headers=FULL)).status_code == 204
    assert (await client.get(f"/v1/actions/{created['id']}", headers=VIEWER)).status_code == 404


async def test_an_action_update_refuses_deleted_and_unknown_users(client: httpx.AsyncClient) -> None:
    path = f"/v2/actions/{SEEDED_ACTION}"
    deleted = await client.put(path, json={"description": "d", "status": "deleted"}, headers=FULL)
    assert problem(deleted, 422)["source"]["field"] == "status"
    nobody = await client.put(
        path, json={"description": "d", "status": "completed", "assignee_id": NOBODY}, headers=FULL
    )
    assert problem(nobody, 422)["source"]["field"] == "assignee_id"
    assert (await client.get(path, headers=FULL)).json()["action"]["description"] != "d"


# --- attachments -----------------------------------------------------------------------------------------
async def test_an_attachment_is_worked_out_from_its_url_or_its_external_id(client: httpx.AsyncClient) -> None:
    by_url = {"resource_type": "arbitrary_url", "url": "https://example.com/runbook", "title": "Runbook"}
    made_by_url = await made(
        client, "/v1/incident_attachments", {"incident_id": SEEDED_INCIDENT, "resource": by_url}
    )
    assert made_by_url["incident_attachment"]["resource"] == {
        "resource_type": "arbitrary_url",
        "external_id": "https://example.com/runbook",
        "permalink": "https://example.com/runbook",
        "title": "Runbook",
    }
    by_id = {"resource_type": "sentry_issue", "external_id": "CHECKOUT-12"}
    made_by_id = await made(
        client, "/v1/incident_attachments", {"incident_id": SEEDED_INCIDENT, "resource": by_id}
    )
    resource = made_by_id["incident_attachment"]["resource"]
    assert resource["external_id"] == resource["title"] == "CHECKOUT-12"
    assert resource["permalink"].endswith("/external/sentry_issue/CHECKOUT-12")
    found = await client.get(
        "/v1/incident_attachments",
        params={"external_id": "CHECKOUT-12", "resource_type": "sentry_issue"},
        headers=VIEWER,
    )
    assert [a["id"] for a in found.json()["incident_attachments"]] == [
        made_by_id["incident_attachment"]["id"]
    ]
    assert (
        await client.delete(f"/v1/incident_attachments/{SEEDED_ATTACHMENT}", headers=FULL)
    ).status_code == 204
    left = await client.get(
        "/v1/incident_attachments", params={"incident_id": SEEDED_INCIDENT}, headers=VIEWER
    )
    assert SEEDED_ATTACHMENT not in [a["id"] for a in left.json()["incident_attachments"]]
    assert (
        await client.delete(f"/v1/incident_attachments/{SEEDED_ATTACHMENT}", headers=FULL)
    ).status_code == 404


@pytest.mark.parametrize(
    "resource",
    [
        {"resource_type": "sentry_issue", "external_id": "S-1", "url": "https://example.com/s/1"},  # both
        {"resource_type": "sentry_issue"},  # neither
        {"resource_type": "arbitrary_url", "external_id": "S-1"},  # an arbitrary link without its url
    ],
)
async def test_an_attachment_needs_exactly_one_of_external_id_and_url(
    client: httpx.AsyncClient, resource: dict[str, Any]
) -> None:
    answer = await client.post(
        "/v1/incident_attachments", json={"incident_id": SEEDED_INCIDENT, "resource": resource}, headers=FULL
    )
    assert problem(answer, 422)["source"]["field"] == "resource"


async def test_the_attachment_list_takes_external_id_and_resource_type_together(
    client: httpx.AsyncClient,
) -> None:
    alone = await client.get("/v1/incident_attachments", params={"external_id": "4821"}, headers=VIEWER)
    assert problem(alone, 422)["source"]["field"] == "resource_type"
    everything = (await client.get("/v1/incident_attachments", headers=VIEWER)).json()["incident_attachments"]
    assert SEEDED_ATTACHMENT in [a["id"] for a in everything]


# --- memberships -----------------------------------------------------------------------------------------
async def test_a_membership_is_granted_once_and_revoked(client: httpx.AsyncClient, store: Store) -> None:
    secret = await new_incident(client, "members", visibility="private")
    body = {"incident_id": secret, "user_id": GRACE}
    granted = (await made(client, "/v1/incident_memberships", body))["incident_membership"]
    assert granted["user"]["id"] == GRACE and granted["user"]["name"] == "Grace Hopper"
    assert granted["incident_id"] == secret and "user_id" not in granted
    again = (await made(client, "/v1/incident_memberships", body))["incident_membership"]
    assert again == granted  # the membership already held, answered again
    assert len(store.listing("incident_memberships", {"incident_id": secret})[0]) == 1
    for _ in range(2):  # revoking what is not held changes nothing
        revoked = await client.post("/v1/incident_memberships/actions/revoke", json=body, headers=FULL)
        assert revoked.status_code == 204, revoked.text
        assert store.listing("incident_memberships", {"incident_id": secret})[0] == []
    nobody = await client.post("/v1/incident_memberships", json={**body, "user_id": NOBODY}, headers=FULL)
    assert problem(nobody, 422)["source"]["field"] == "user_id"
    public = await made(
        client, "/v1/incident_memberships", {"incident_id": SEEDED_INCIDENT, "user_id": GRACE}
    )
    assert public["incident_membership"]["incident_id"] == SEEDED_INCIDENT  # kept, though it changes nothing


async def test_a_membership_does_not_let_an_api_key_see_the_incident(
    client: httpx.AsyncClient, editor: dict[str, str]
) -> None:
    full = {"Authorization": editor.pop("full")}
    answer = await client.post("/v2/incidents", json=incident_body("m", visibility="private"), headers=full)
    secret = answer.json()["incident"]["id"]
    await made(client, "/v1/incident_memberships", {"incident_id": secret, "user_id": ADA}, full)
    assert (await client.get(f"/v2/incidents/{secret}", headers=editor)).status_code == 404
    revoke = await client.post(
        "/v1/incident_memberships/actions/revoke",
        json={"incident_id": secret, "user_id": ADA},
        headers=editor,
    )
    assert problem(revoke, 422)["source"]["field"] == "incident_id"


# --- webhooks, over sockets, driven by the official SDK -------------------------------------------------------
RECORD_EVENTS = {*follow_ups.EVENTS, *actions.EVENTS, *memberships.EVENTS}  # what these objects announce


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    with serve(create_app(validate_responses=True)) as url:
        yield url


@pytest.fixture
def sandbox(served: str) -> Iterator[Sandbox]:
    with IncidentMock.connect(served) as mock, mock.sandbox() as made_:
        yield made_


@pytest.fixture
def sdk(sandbox: Sandbox) -> Iterator[AuthenticatedClient]:
    with AuthenticatedClient(
        base_url=sandbox.base_url, token=sandbox.keys.full, raise_on_unexpected_status=True
    ) as client:
        yield client


def deprecated(call: Callable[[], T | None]) -> T:
    """An SDK call to an operation the SDK announces it will drop (follow-ups and actions version 2)."""
    with pytest.deprecated_call():
        found = call()
    assert found is not None
    return found


def test_a_registered_endpoint_receives_the_follow_up_action_and_membership_events(
    sandbox: Sandbox, sdk: AuthenticatedClient
) -> None:
    with WebhookReceiver() as receiver:
        endpoint = sandbox.webhooks.register(receiver.url)  # every event
        receiver.secret = endpoint.secret
        private = incidents_v2_create.sync(
            client=sdk,
            body=IncidentsCreatePayloadV2(
                idempotency_key="wh-records",
                visibility=IncidentsCreatePayloadV2Visibility.PRIVATE,
                severity_id=MAJOR,
            ),
        )
        assert private is not None
        secret = private.incident.id
        public_fu = deprecated(
            lambda: follow_ups_v2_create.sync(
                client=sdk, body=FollowUpsCreatePayloadV2(incident_id=SEEDED_INCIDENT, title="Alert on p99")
            )
        ).follow_up
        assert isinstance(public_fu, FollowUpV2)
        updated_fu = deprecated(
            lambda: follow_ups_v2_update.sync(
                public_fu.id,
                client=sdk,
                body=FollowUpsUpdatePayloadV2(
                    title="Alert on p99", status=FollowUpsUpdatePayloadV2Status.COMPLETED
                ),
            )
        ).follow_up
        linked_fu = deprecated(
            lambda: follow_ups_v2_connect_external_issue.sync(
                public_fu.id,
                client=sdk,
                body=FollowUpsConnectExternalIssuePayloadV2(
                    provider=FollowUpsConnectExternalIssuePayloadV2Provider.JIRA,
                    url="https://example.atlassian.net/browse/PAY-7",
                ),
            )
        ).follow_up
        assert linked_fu.external_issue_reference and linked_fu.external_issue_reference.issue_name == "PAY-7"
        private_fu = deprecated(
            lambda: follow_ups_v2_create.sync(
                client=sdk, body=FollowUpsCreatePayloadV2(incident_id=secret, title="Hidden")
            )
        ).follow_up
        public_action = deprecated(
            lambda: actions_v2_create.sync(
                client=sdk, body=ActionsCreatePayloadV2(incident_id=SEEDED_INCIDENT, description="Roll back")
            )
        ).action
        private_action = deprecated(
            lambda: actions_v2_create.sync(
                client=sdk, body=ActionsCreatePayloadV2(incident_id=secret, description="Rotate keys")
            )
        ).action
        deprecated(
            lambda: actions_v2_update.sync(
                private_action.id,
                client=sdk,
                body=ActionsUpdatePayloadV2(
                    description="Rotate keys", status=ActionsUpdatePayloadV2Status.COMPLETED
                ),
            )
        )
        for incident_id in (SEEDED_INCIDENT, secret, secret):  # public: no event; a repeat: no event
            granted = incident_memberships_v1_create.sync(
                client=sdk, body=IncidentMembershipsCreatePayloadV1(incident_id=incident_id, user_id=GRACE)
            )
            assert granted is not None and granted.incident_membership.user.id == GRACE
        for _ in range(2):  # revoking what is no longer held: no event
            revoked = incident_memberships_v1_revoke.sync_detailed(
                client=sdk, body=IncidentMembershipsRevokePayloadV1(incident_id=secret, user_id=GRACE)
            )
            assert revoked.status_code == 204

        membership = {"incident_id": secret, "user_id": GRACE}
        expected = [
            ("public_incident.follow_up_created_v2", public_fu.id),
            ("public_incident.follow_up_created_v1", public_fu.id),
            ("public_incident.follow_up_updated_v2", public_fu.id),
            ("public_incident.follow_up_updated_v1", public_fu.id),
            ("public_incident.follow_up_updated_v2", public_fu.id),
            ("public_incident.follow_up_updated_v1", public_fu.id),
            ("private_incident.follow_up_created_v2", private_fu.id),
            ("private_incident.follow_up_created_v1", private_fu.id),
            ("public_incident.action_created_v1", public_action.id),
            ("private_incident.action_created_v1", private_action.id),
            ("private_incident.action_updated_v1", private_action.id),
            ("private_incident.membership_granted_v1", secret),
            ("private_incident.membership_revoked_v1", secret),
            ("private_incident.incident_created_v2", secret),  # the incident's own
        ]
        got = receiver.wait_for(count=len(expected), timeout=15)
        eventually(lambda: len(endpoint.messages()) == len(expected) and all(
            m.state == "delivered" for m in endpoint.messages()))  # fmt: skip
        assert len(endpoint.messages()) == len(expected)  # nothing more was sent
    seen = []
    bodies: dict[str, list[Any]] = {}
    for delivered in got:
        message = verified_by_both(endpoint.secret, delivered)
        event_type = message["event_type"]
        assert not list(payload_validator(SPEC, event_type).iter_errors(message)), event_type
        body = message[event_type]
        bodies.setdefault(event_type, []).append(body)
        if "membership" in event_type:
            assert body == membership
            seen.append((event_type, body["incident_id"]))
        else:
            if event_type.startswith("private_"):
                assert set(body) == {"id"}  # a private incident's object: its id only
            seen.append((event_type, body["id"]))
    assert sorted(seen) == sorted(expected)
    assert {e for e, _ in expected} - {"private_incident.incident_created_v2"} <= RECORD_EVENTS
    # a public message's body is the object as the API answered it
    created = [FollowUpV2.from_dict(b) for b in bodies["public_incident.follow_up_created_v2"]]
    assert created == [public_fu]
    updates = [FollowUpV2.from_dict(b) for b in bodies["public_incident.follow_up_updated_v2"]]
    assert len(updates) == 2 and updated_fu in updates and linked_fu in updates  # in either order
    [as_v1] = bodies["public_incident.follow_up_created_v1"]
    assert (as_v1["follow_up"], as_v1["description"]) == (True, "Alert on p99")
    [action_v1] = bodies["public_incident.action_created_v1"]
    assert (
        action_v1["follow_up"] is False
        and action_v1["description"] == "Roll back"
        and "creator" not in action_v1
    )
