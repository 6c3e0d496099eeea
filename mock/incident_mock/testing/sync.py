"""The testing kit's Python API: drive the mock's control plane (`control-plane.yaml`) from a test.

    # the mock on a free loopback port, in a background thread; a fresh sandbox, deleted on exit
    with IncidentMock() as mock, mock.sandbox() as sandbox:
        call_my_code(sandbox.base_url, sandbox.keys.creator)
        [entry] = sandbox.wait_for("Incidents V2#Create", status=200)

The journal is read with `requests`, `count`, `find` and `wait_for`, each filtered by operationId (one the
contract declares: a misspelt one is a ValueError naming the close ones), status, `since` (a sequence
number), `body` (a subset of the request body) and `where` (a predicate):

    sandbox.requests("Incidents V2#Create", body={"visibility": "private"})
    sandbox.count(where=lambda entry: entry.status >= 500)

`sandbox.clock` freezes, advances and releases the sandbox's clock (`mock.sandbox(seed=7,
frozen_at=...)` makes one whose ids are reproducible and whose clock starts frozen).
`IncidentMock.connect(url, admin_token=...)` (or `create_token=...`, the mock's
`--sandbox-create-token`: each sandbox is then managed with its own control token) drives a mock running
elsewhere (another process, a container, a shared CI service).

Faults (the control plane's `Faults#...`), armed per sandbox for one operationId or all of them:

    fault = sandbox.fail("Incidents V2#Create", status=500, times=1)  # an error it declares
    sandbox.fail("Incidents V2#Create", kind="after_commit")  # stored, then a 500 (then="cut")
    sandbox.fail(kind="drop", probability=0.1, seed=7)  # cut before anything is stored
    sandbox.fail("Incidents V2#List", kind="delay", seconds=0.2, max_seconds=1.0, times=5)
    fault.remove(); sandbox.faults(); sandbox.clear_faults()

Each fired fault shows in the journal entry of its request (`JournalEntry.fault`). A sandbox's webhook
endpoints are `sandbox.webhooks`:

    endpoint = sandbox.webhooks.register(receiver.url, time_scale=0.0001)
    [message] = endpoint.messages()  # the delivery log: attempts, state, next attempt
    endpoint.redeliver(message.id)

Nobody is paged in a sandbox, so `sandbox.acknowledge_escalation(escalation_id)` does what a paged
person would: the escalation becomes `acked`.

The server side (Connexion, uvicorn) is imported only when a mock is started here (`testing.local`).
"""
# Generated from aio.py by `make sync` (unasync): do not edit.

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import httpx

from incident_mock.testing.common import (
    PAGE,
    TIMEOUT,
    EndpointData,
    FaultData,
    JournalEntry,
    JournalFilter,
    MockData,
    SandboxData,
    Waiter,
    WebhookMessage,
    Where,
    checked,
    creation_body,
    deleted,
    entries,
    fault_body,
    fault_fields,
    in_place,
    instant,
    moment,
    registration,
    seconds,
)


class ClockControl:
    """A sandbox's clock (`sandbox.clock`) over `httpx.Client`: `now()`, `freeze(at=None)`,
    `advance(seconds or timedelta)`, `release(keep_offset=True)`; each returns the moment the clock shows
    after it (timezone-aware, UTC)."""

    def __init__(self, client: httpx.Client, path: str) -> None:
        self._client, self._path = client, f"{path}/clock"

    def now(self) -> dt.datetime:
        """The moment the clock shows."""
        return moment(self._client.get(self._path))

    def state(self) -> dict[str, Any]:
        """The control plane's SandboxClock: now, frozen, offset_seconds."""
        result: dict[str, Any] = checked(self._client.get(self._path)).json()["clock"]
        return result

    def freeze(self, at: dt.datetime | None = None) -> dt.datetime:
        """Stop the clock at `at` (default: the moment it shows)."""
        body = {"at": instant(at)} if at is not None else None
        return moment(self._client.post(f"{self._path}/actions/freeze", json=body))

    def advance(self, duration: float | dt.timedelta) -> dt.datetime:
        """Move the clock forward (seconds, or a timedelta): frozen, to a later instant; running, by a larger
        offset."""
        body = {"seconds": seconds(duration)}
        return moment(self._client.post(f"{self._path}/actions/advance", json=body))

    def release(self, keep_offset: bool = True) -> dt.datetime:
        """Let the clock run again, from the moment it shows (or on real time with keep_offset=False)."""
        body = {"keep_offset": keep_offset}
        return moment(self._client.post(f"{self._path}/actions/release", json=body))


@dataclass(frozen=True)
class Fault(FaultData):
    """A fault armed in a sandbox (`Sandbox.fail`); `fault.remove()` disarms it (already removed
    is fine)."""

    _sandbox: Sandbox | None = field(repr=False, compare=False, default=None)

    def remove(self) -> None:
        """Disarm the fault (already removed is fine)."""
        if self._sandbox is not None:
            self._sandbox.remove_fault(self.id)


class WebhookEndpoint(EndpointData):
    """A webhook endpoint of a sandbox: `.id`, `.url`, `.secret` (whsec_..., to verify deliveries with),
    `.event_types`, and its delivery log."""

    def __init__(self, client: httpx.Client, path: str, data: Mapping[str, Any]) -> None:
        super().__init__(path, data)
        self._client = client

    def messages(self, limit: int = 1000) -> list[WebhookMessage]:
        """The delivery log, oldest first."""
        response = self._client.get(f"{self._path}/messages", params={"limit": limit})
        return [WebhookMessage.from_json(m) for m in checked(response).json()["messages"]]

    def redeliver(self, message_id: str) -> WebhookMessage:
        """One more attempt of the message, at once (same webhook-id and body, fresh signature)."""
        response = self._client.post(f"{self._path}/messages/{message_id}/actions/redeliver")
        return WebhookMessage.from_json(checked(response).json()["message"])

    def delete(self) -> None:
        """Forget the endpoint; its deliveries stop (already deleted is fine)."""
        deleted(self._client.delete(self._path))


class Webhooks:
    """`sandbox.webhooks`: register and list the sandbox's endpoints."""

    def __init__(self, client: httpx.Client, sandbox_path: str) -> None:
        self._client, self._path = client, f"{sandbox_path}/webhooks"

    def register(
        self,
        url: str,
        event_types: Sequence[str] | None = None,
        secret: str | None = None,
        time_scale: float | None = None,
        *,
        attempt_timeout: float | None = None,
        out_of_order: bool = False,
    ) -> WebhookEndpoint:
        """Register an endpoint for `event_types` (default: all), signing with `secret` (default: a fresh
        one); `time_scale` shrinks the retry schedule (0.0001: hours become a second or so),
        `attempt_timeout` bounds each attempt in seconds, `out_of_order` sends a window's messages in a
        shuffled order."""
        body = registration(url, event_types, secret, time_scale, attempt_timeout, out_of_order)
        answer = checked(self._client.post(self._path, json=body)).json()
        return WebhookEndpoint(self._client, self._path, answer)

    def list(self) -> list[WebhookEndpoint]:
        """The sandbox's endpoints."""
        answer = checked(self._client.get(self._path)).json()
        return [WebhookEndpoint(self._client, self._path, {"webhook": w}) for w in answer["webhooks"]]

    def get(self, endpoint_id: str) -> WebhookEndpoint:
        """One endpoint, by id."""
        answer = checked(self._client.get(f"{self._path}/{endpoint_id}")).json()
        return WebhookEndpoint(self._client, self._path, answer)


class Sandbox(SandboxData):
    """One sandbox: `.id`, `.base_url`, `.keys` (`.full`, `.creator`, `.viewer`), `.seed`, its journal, clock,
    faults, webhook endpoints and lifecycle. `with` it: it is deleted on exit.

    The journal's readers (`requests`, `count`, `find`, `wait_for`) take the same filters: `operation_id`
    (one of the contract's; a misspelt one is a ValueError naming the close ones), `status`, `since` (a
    sequence number: only later entries), `body` (the request body holds it: every key given with an equal
    value, nested objects likewise) and `where` (a predicate on the `JournalEntry`)."""

    def __init__(self, client: httpx.Client, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        self._client = client
        self.clock = ClockControl(client, self._path)
        self.webhooks = Webhooks(client, self._path)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.delete()

    def requests(
        self,
        operation_id: str | None = None,
        status: int | None = None,
        since: int | None = None,
        *,
        body: Mapping[str, Any] | None = None,
        where: Where | None = None,
    ) -> list[JournalEntry]:
        """The matching journal entries, oldest first, e.g.
        `requests("Incidents V2#Create", body={"visibility": "private"})`."""
        match = JournalFilter(operation_id, status, body, where)
        found: list[JournalEntry] = []
        while True:
            page = self._page(match.query(since, PAGE))
            found += filter(match, page)
            if len(page) < PAGE:
                return found
            since = page[-1].sequence

    def count(
        self,
        operation_id: str | None = None,
        status: int | None = None,
        since: int | None = None,
        *,
        body: Mapping[str, Any] | None = None,
        where: Where | None = None,
    ) -> int:
        """How many journal entries match."""
        return len(self.requests(operation_id, status, since, body=body, where=where))

    def find(
        self,
        operation_id: str | None = None,
        status: int | None = None,
        since: int | None = None,
        *,
        body: Mapping[str, Any] | None = None,
        where: Where | None = None,
    ) -> JournalEntry | None:
        """The oldest matching journal entry, or None."""
        match = JournalFilter(operation_id, status, body, where)
        limit = 1 if match.by_server else PAGE
        while True:
            page = self._page(match.query(since, limit))
            first = next(filter(match, page), None)
            if first is not None or len(page) < limit:
                return first
            since = page[-1].sequence

    def wait_for(
        self,
        operation_id: str | None = None,
        status: int | None = None,
        since: int | None = None,
        *,
        body: Mapping[str, Any] | None = None,
        where: Where | None = None,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[JournalEntry]:
        """Wait until the journal holds `count` matching entries after `since` and return them (WireMock's
        `verify`); raises AssertionError listing what arrived when `timeout` seconds pass first."""
        waiter = Waiter(JournalFilter(operation_id, status, body, where), since, count, timeout)
        while not waiter.feed(self._page(waiter.query())):
            time.sleep(waiter.pause())
        return waiter.found

    def reset(self) -> None:
        """Rebuild the sandbox from its fixtures and empty its journal; the tokens stay."""
        checked(self._client.post(f"{self._path}/actions/reset"))

    def clear_requests(self) -> None:
        """Empty the journal (sequence numbers go on)."""
        checked(self._client.post(f"{self._path}/requests/actions/clear"))

    def delete(self) -> None:
        """Delete the sandbox (already deleted is fine)."""
        deleted(self._client.delete(self._path))

    def fail(
        self,
        operation_id: str | None = None,
        *,
        kind: str = "error",
        status: int | None = None,
        times: int | None = None,
        probability: float | None = None,
        seed: int | None = None,
        retry_after: int | None = None,
        then: str | None = None,
        seconds: float | None = None,
        max_seconds: float | None = None,
    ) -> Fault:
        """Arm a fault for `operation_id` (every operation when None): `kind` error (`status`, default 500,
        one the operation declares; `retry_after` for a 429), after_commit (`then` "error" or "cut"), drop,
        or delay (`seconds`, up to `max_seconds`). It fires on the next `times` matching requests (1 when
        neither `times` nor `probability` is given), or with `probability`, drawn from `seed`.
        ControlPlaneError (422) for a status the operation does not declare."""
        options = dict(kind=kind, status=status, times=times, probability=probability, seed=seed)
        options.update(retry_after=retry_after, then=then, seconds=seconds, max_seconds=max_seconds)
        response = self._client.post(f"{self._path}/faults", json=fault_body(operation_id, options))
        return Fault(**fault_fields(checked(response).json()["fault"]), _sandbox=self)

    def faults(self) -> list[Fault]:
        """The faults armed in the sandbox, spent ones included, in arming order."""
        found = checked(self._client.get(f"{self._path}/faults")).json()["faults"]
        return [Fault(**fault_fields(data), _sandbox=self) for data in found]

    def remove_fault(self, fault_id: str) -> None:
        """Disarm one fault (already removed is fine)."""
        deleted(self._client.delete(f"{self._path}/faults/{fault_id}"))

    def clear_faults(self) -> None:
        """Disarm every fault of the sandbox."""
        checked(self._client.post(f"{self._path}/faults/actions/clear"))

    def acknowledge_escalation(self, escalation_id: str) -> dict[str, Any]:
        """Acknowledge one of the sandbox's escalations, as someone paged would (nobody is paged in a
        sandbox): a triggered one becomes `acked`; the escalation as the API shows it. ControlPlaneError: 404
        for an unknown id, 422 for one cancelled, expired or resolved."""
        path = f"{self._path}/escalations/{escalation_id}/actions/acknowledge"
        escalation: dict[str, Any] = checked(self._client.post(path)).json()["escalation"]
        return escalation

    def _page(self, query: Mapping[str, Any]) -> list[JournalEntry]:
        return entries(self._client.get(f"{self._path}/requests", params=query))


class IncidentMock(MockData):
    """The mock, for tests, over `httpx.Client`. `with IncidentMock(**options) as mock:`
    starts one on a free loopback port, in a background thread (`options` go to
    `incident_mock.server.MockServer`: fixtures, admin_token, seed, caps...) and stops it on exit;
    `IncidentMock.connect(url, admin_token=...)` drives one that runs elsewhere."""

    _usage = "with IncidentMock() as mock:"

    def __init__(self, **server_options: Any) -> None:
        super().__init__(**server_options)
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        """An httpx client of the control plane (it carries the admin token)."""
        if self._client is None:
            self._client = httpx.Client(base_url=self.url, auth=self._auth(), timeout=TIMEOUT)
        return self._client

    def start(self) -> Self:
        """Start the mock (`with` does it); a connected client starts nothing."""
        in_place(self._launch)
        return self

    def close(self) -> None:
        """Close the client, and stop the mock if this object started it."""
        if self._client is not None:
            self._client.close()
            self._client = None
        in_place(self._stop)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def health(self) -> dict[str, Any]:
        """The mock's liveness and version."""
        result: dict[str, Any] = checked(self.client.get("/_mock/health")).json()
        return result

    def sandbox(
        self,
        fixtures: Mapping[str, Any] | None = None,
        *,
        seed: int | None = None,
        frozen_at: dt.datetime | None = None,
    ) -> Sandbox:
        """A new sandbox, from the default fixtures or from `fixtures` (the control plane's `Fixtures`); its
        ids seeded by `seed`, its clock frozen at `frozen_at` when given. `with mock.sandbox() as
        sandbox:` deletes it on exit."""
        return Sandbox(self.client, self._created(creation_body(fixtures, seed, frozen_at)))

    def get_sandbox(self, sandbox_id: str) -> Sandbox:
        """An existing sandbox, by id (`default` for the fixtures' own keys)."""
        found = checked(self.client.get(f"/_mock/sandboxes/{sandbox_id}")).json()
        return Sandbox(self.client, self._made(found))

    def _created(self, body: Mapping[str, Any] | None) -> Mapping[str, Any]:
        """Create a sandbox; the control plane's answer."""
        answer: Mapping[str, Any] = checked(self.client.post("/_mock/sandboxes", json=body)).json()
        return self._made(answer)
