"""The testing kit's Python API: drive the mock's control plane (`control-plane.yaml`) from a test.

    # the mock on a free loopback port, in a background thread; a fresh sandbox, deleted on exit
    async with AsyncIncidentMock() as mock, mock.sandbox() as sandbox:
        call_my_code(sandbox.base_url, sandbox.keys.creator)
        [entry] = await sandbox.wait_for("Incidents V2#Create", status=200)

The journal is read with `requests`, `count`, `find` and `wait_for`, each filtered by operationId (one the
contract declares: a misspelt one is a ValueError naming the close ones), status, `since` (a sequence
number), `body` (a subset of the request body) and `where` (a predicate):

    await sandbox.requests("Incidents V2#Create", body={"visibility": "private"})
    await sandbox.count(where=lambda entry: entry.status >= 500)

`sandbox.clock` freezes, advances and releases the sandbox's clock (`mock.sandbox(seed=7,
frozen_at=...)` makes one whose ids are reproducible and whose clock starts frozen).
`AsyncIncidentMock.connect(url, admin_token=...)` (or `create_token=...`, the mock's
`--sandbox-create-token`: each sandbox is then managed with its own control token) drives a mock running
elsewhere (another process, a container, a shared CI service).

Faults (the control plane's `Faults#...`), armed per sandbox for one operationId or all of them:

    fault = await sandbox.fail("Incidents V2#Create", status=500, times=1)  # an error it declares
    await sandbox.fail("Incidents V2#Create", kind="after_commit")  # stored, then a 500 (then="cut")
    await sandbox.fail(kind="drop", probability=0.1, seed=7)  # cut before anything is stored
    await sandbox.fail("Incidents V2#List", kind="delay", seconds=0.2, max_seconds=1.0, times=5)
    await fault.remove(); await sandbox.faults(); await sandbox.clear_faults()

Each fired fault shows in the journal entry of its request (`JournalEntry.fault`). A sandbox's webhook
endpoints are `sandbox.webhooks`:

    endpoint = await sandbox.webhooks.register(receiver.url, time_scale=0.0001)
    [message] = await endpoint.messages()  # the delivery log: attempts, state, next attempt
    await endpoint.redeliver(message.id)

Nobody is paged in a sandbox, so `await sandbox.acknowledge_escalation(escalation_id)` does what a paged
person would: the escalation becomes `acked`.

The server side (Connexion, uvicorn) is imported only when a mock is started here (`testing.local`).
"""
# sync.py is generated from this module by `make sync` (unasync): edit this one, then run it.

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Generator, Mapping, Sequence
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
    in_thread,
    instant,
    moment,
    registration,
    seconds,
)


class AsyncClockControl:
    """A sandbox's clock (`sandbox.clock`) over `httpx.AsyncClient`: `now()`, `freeze(at=None)`,
    `advance(seconds or timedelta)`, `release(keep_offset=True)`; each returns the moment the clock shows
    after it (timezone-aware, UTC)."""

    def __init__(self, client: httpx.AsyncClient, path: str) -> None:
        self._client, self._path = client, f"{path}/clock"

    async def now(self) -> dt.datetime:
        """The moment the clock shows."""
        return moment(await self._client.get(self._path))

    async def state(self) -> dict[str, Any]:
        """The control plane's SandboxClock: now, frozen, offset_seconds."""
        result: dict[str, Any] = checked(await self._client.get(self._path)).json()["clock"]
        return result

    async def freeze(self, at: dt.datetime | None = None) -> dt.datetime:
        """Stop the clock at `at` (default: the moment it shows)."""
        body = {"at": instant(at)} if at is not None else None
        return moment(await self._client.post(f"{self._path}/actions/freeze", json=body))

    async def advance(self, duration: float | dt.timedelta) -> dt.datetime:
        """Move the clock forward (seconds, or a timedelta): frozen, to a later instant; running, by a larger
        offset."""
        body = {"seconds": seconds(duration)}
        return moment(await self._client.post(f"{self._path}/actions/advance", json=body))

    async def release(self, keep_offset: bool = True) -> dt.datetime:
        """Let the clock run again, from the moment it shows (or on real time with keep_offset=False)."""
        body = {"keep_offset": keep_offset}
        return moment(await self._client.post(f"{self._path}/actions/release", json=body))


@dataclass(frozen=True)
class AsyncFault(FaultData):
    """A fault armed in a sandbox (`AsyncSandbox.fail`); `await fault.remove()` disarms it (already removed
    is fine)."""

    _sandbox: AsyncSandbox | None = field(repr=False, compare=False, default=None)

    async def remove(self) -> None:
        """Disarm the fault (already removed is fine)."""
        if self._sandbox is not None:
            await self._sandbox.remove_fault(self.id)


class AsyncWebhookEndpoint(EndpointData):
    """A webhook endpoint of a sandbox: `.id`, `.url`, `.secret` (whsec_..., to verify deliveries with),
    `.event_types`, and its delivery log."""

    def __init__(self, client: httpx.AsyncClient, path: str, data: Mapping[str, Any]) -> None:
        super().__init__(path, data)
        self._client = client

    async def messages(self, limit: int = 1000) -> list[WebhookMessage]:
        """The delivery log, oldest first."""
        response = await self._client.get(f"{self._path}/messages", params={"limit": limit})
        return [WebhookMessage.from_json(m) for m in checked(response).json()["messages"]]

    async def redeliver(self, message_id: str) -> WebhookMessage:
        """One more attempt of the message, at once (same webhook-id and body, fresh signature)."""
        response = await self._client.post(f"{self._path}/messages/{message_id}/actions/redeliver")
        return WebhookMessage.from_json(checked(response).json()["message"])

    async def delete(self) -> None:
        """Forget the endpoint; its deliveries stop (already deleted is fine)."""
        deleted(await self._client.delete(self._path))


class AsyncWebhooks:
    """`sandbox.webhooks`: register and list the sandbox's endpoints."""

    def __init__(self, client: httpx.AsyncClient, sandbox_path: str) -> None:
        self._client, self._path = client, f"{sandbox_path}/webhooks"

    async def register(
        self,
        url: str,
        event_types: Sequence[str] | None = None,
        secret: str | None = None,
        time_scale: float | None = None,
        *,
        attempt_timeout: float | None = None,
        out_of_order: bool = False,
    ) -> AsyncWebhookEndpoint:
        """Register an endpoint for `event_types` (default: all), signing with `secret` (default: a fresh
        one); `time_scale` shrinks the retry schedule (0.0001: hours become a second or so),
        `attempt_timeout` bounds each attempt in seconds, `out_of_order` sends a window's messages in a
        shuffled order."""
        body = registration(url, event_types, secret, time_scale, attempt_timeout, out_of_order)
        answer = checked(await self._client.post(self._path, json=body)).json()
        return AsyncWebhookEndpoint(self._client, self._path, answer)

    async def list(self) -> list[AsyncWebhookEndpoint]:
        """The sandbox's endpoints."""
        answer = checked(await self._client.get(self._path)).json()
        return [AsyncWebhookEndpoint(self._client, self._path, {"webhook": w}) for w in answer["webhooks"]]

    async def get(self, endpoint_id: str) -> AsyncWebhookEndpoint:
        """One endpoint, by id."""
        answer = checked(await self._client.get(f"{self._path}/{endpoint_id}")).json()
        return AsyncWebhookEndpoint(self._client, self._path, answer)


class AsyncSandbox(SandboxData):
    """One sandbox: `.id`, `.base_url`, `.keys` (`.full`, `.creator`, `.viewer`), `.seed`, its journal, clock,
    faults, webhook endpoints and lifecycle. `async with` it: it is deleted on exit.

    The journal's readers (`requests`, `count`, `find`, `wait_for`) take the same filters: `operation_id`
    (one of the contract's; a misspelt one is a ValueError naming the close ones), `status`, `since` (a
    sequence number: only later entries), `body` (the request body holds it: every key given with an equal
    value, nested objects likewise) and `where` (a predicate on the `JournalEntry`)."""

    def __init__(self, client: httpx.AsyncClient, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        self._client = client
        self.clock = AsyncClockControl(client, self._path)
        self.webhooks = AsyncWebhooks(client, self._path)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.delete()

    async def requests(
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
            page = await self._page(match.query(since, PAGE))
            found += filter(match, page)
            if len(page) < PAGE:
                return found
            since = page[-1].sequence

    async def count(
        self,
        operation_id: str | None = None,
        status: int | None = None,
        since: int | None = None,
        *,
        body: Mapping[str, Any] | None = None,
        where: Where | None = None,
    ) -> int:
        """How many journal entries match."""
        return len(await self.requests(operation_id, status, since, body=body, where=where))

    async def find(
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
            page = await self._page(match.query(since, limit))
            first = next(filter(match, page), None)
            if first is not None or len(page) < limit:
                return first
            since = page[-1].sequence

    async def wait_for(
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
        while not waiter.feed(await self._page(waiter.query())):
            await asyncio.sleep(waiter.pause())
        return waiter.found

    async def reset(self) -> None:
        """Rebuild the sandbox from its fixtures and empty its journal; the tokens stay."""
        checked(await self._client.post(f"{self._path}/actions/reset"))

    async def clear_requests(self) -> None:
        """Empty the journal (sequence numbers go on)."""
        checked(await self._client.post(f"{self._path}/requests/actions/clear"))

    async def delete(self) -> None:
        """Delete the sandbox (already deleted is fine)."""
        deleted(await self._client.delete(self._path))

    async def fail(
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
    ) -> AsyncFault:
        """Arm a fault for `operation_id` (every operation when None): `kind` error (`status`, default 500,
        one the operation declares; `retry_after` for a 429), after_commit (`then` "error" or "cut"), drop,
        or delay (`seconds`, up to `max_seconds`). It fires on the next `times` matching requests (1 when
        neither `times` nor `probability` is given), or with `probability`, drawn from `seed`.
        ControlPlaneError (422) for a status the operation does not declare."""
        options = dict(kind=kind, status=status, times=times, probability=probability, seed=seed)
        options.update(retry_after=retry_after, then=then, seconds=seconds, max_seconds=max_seconds)
        response = await self._client.post(f"{self._path}/faults", json=fault_body(operation_id, options))
        return AsyncFault(**fault_fields(checked(response).json()["fault"]), _sandbox=self)

    async def faults(self) -> list[AsyncFault]:
        """The faults armed in the sandbox, spent ones included, in arming order."""
        found = checked(await self._client.get(f"{self._path}/faults")).json()["faults"]
        return [AsyncFault(**fault_fields(data), _sandbox=self) for data in found]

    async def remove_fault(self, fault_id: str) -> None:
        """Disarm one fault (already removed is fine)."""
        deleted(await self._client.delete(f"{self._path}/faults/{fault_id}"))

    async def clear_faults(self) -> None:
        """Disarm every fault of the sandbox."""
        checked(await self._client.post(f"{self._path}/faults/actions/clear"))

    async def acknowledge_escalation(self, escalation_id: str) -> dict[str, Any]:
        """Acknowledge one of the sandbox's escalations, as someone paged would (nobody is paged in a
        sandbox): a triggered one becomes `acked`; the escalation as the API shows it. ControlPlaneError: 404
        for an unknown id, 422 for one cancelled, expired or resolved."""
        path = f"{self._path}/escalations/{escalation_id}/actions/acknowledge"
        escalation: dict[str, Any] = checked(await self._client.post(path)).json()["escalation"]
        return escalation

    async def _page(self, query: Mapping[str, Any]) -> list[JournalEntry]:
        return entries(await self._client.get(f"{self._path}/requests", params=query))


class AsyncIncidentMock(MockData):
    """The mock, for tests, over `httpx.AsyncClient`. `async with AsyncIncidentMock(**options) as mock:`
    starts one on a free loopback port, in a background thread (`options` go to
    `incident_mock.server.MockServer`: fixtures, admin_token, seed, caps...) and stops it on exit;
    `AsyncIncidentMock.connect(url, admin_token=...)` drives one that runs elsewhere."""

    _usage = "async with AsyncIncidentMock() as mock:"

    def __init__(self, **server_options: Any) -> None:
        super().__init__(**server_options)
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        """An httpx client of the control plane (it carries the admin token)."""
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self.url, auth=self._auth(), timeout=TIMEOUT)
        return self._client

    async def start(self) -> Self:
        """Start the mock (`async with` does it); a connected client starts nothing."""
        await in_thread(self._launch)
        return self

    async def close(self) -> None:
        """Close the client, and stop the mock if this object started it."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        await in_thread(self._stop)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def health(self) -> dict[str, Any]:
        """The mock's liveness and version."""
        result: dict[str, Any] = checked(await self.client.get("/_mock/health")).json()
        return result

    def sandbox(
        self,
        fixtures: Mapping[str, Any] | None = None,
        *,
        seed: int | None = None,
        frozen_at: dt.datetime | None = None,
    ) -> SandboxCreation:
        """A new sandbox, from the default fixtures or from `fixtures` (the control plane's `Fixtures`); its
        ids seeded by `seed`, its clock frozen at `frozen_at` when given. `async with mock.sandbox() as
        sandbox:` deletes it on exit."""
        return SandboxCreation(self.client, self._created(creation_body(fixtures, seed, frozen_at)))

    async def get_sandbox(self, sandbox_id: str) -> AsyncSandbox:
        """An existing sandbox, by id (`default` for the fixtures' own keys)."""
        found = checked(await self.client.get(f"/_mock/sandboxes/{sandbox_id}")).json()
        return AsyncSandbox(self.client, self._made(found))

    async def _created(self, body: Mapping[str, Any] | None) -> Mapping[str, Any]:
        """Create a sandbox; the control plane's answer."""
        answer: Mapping[str, Any] = checked(await self.client.post("/_mock/sandboxes", json=body)).json()
        return self._made(answer)


# --- async only: not carried to sync.py, which spells `SandboxCreation(client, data)` as `Sandbox(...)` ---


class SandboxCreation:
    """What `AsyncIncidentMock.sandbox()` returns: `await` it for the `AsyncSandbox`, or use it as
    `async with` (the sandbox is deleted on exit)."""

    def __init__(self, client: httpx.AsyncClient, data: Awaitable[Mapping[str, Any]]) -> None:
        self._client, self._data = client, data
        self._sandbox: AsyncSandbox | None = None

    def __await__(self) -> Generator[Any, None, AsyncSandbox]:
        return self._create().__await__()

    async def _create(self) -> AsyncSandbox:
        return AsyncSandbox(self._client, await self._data)

    async def __aenter__(self) -> AsyncSandbox:
        self._sandbox = await self._create()
        return self._sandbox

    async def __aexit__(self, *exc: object) -> None:
        if self._sandbox is not None:
            await self._sandbox.delete()
