"""The testing kit's Python API: drive the mock's control plane (`control-plane.yaml`) from a test.

    with IncidentMock() as mock:              # the mock on a free loopback port, in a background thread
        with mock.sandbox() as sandbox:       # a fresh sandbox, deleted on exit
            call_my_code(sandbox.base_url, sandbox.keys.creator)
            [entry] = sandbox.wait_for("Incidents V2#Create", status=200)

`sandbox.clock` freezes, advances and releases the sandbox's clock (`mock.sandbox(seed=7,
frozen_at=...)` makes one whose ids are reproducible and whose clock starts frozen).
`IncidentMock.connect(url, admin_token=...)` drives a mock running elsewhere (another process, a container,
a shared CI service); `IncidentMock.connect(url, create_token=...)` one whose suites may only create
sandboxes (`--sandbox-create-token`). Either way, everything after a sandbox's create is sent with that
sandbox's own control token, which manages it alone. `AsyncIncidentMock` and `AsyncSandbox` are the same
over `httpx.AsyncClient`.

Faults (the control plane's `Faults#...`), armed per sandbox for one operationId or all of them:

    fault = sandbox.fail("Incidents V2#Create", status=500, times=1)     # an error the operation declares
    sandbox.fail("Incidents V2#Create", kind="after_commit")             # stored, then a 500 (then="cut")
    sandbox.fail(kind="drop", probability=0.1, seed=7)                   # cut before anything is stored
    sandbox.fail("Incidents V2#List", kind="delay", seconds=0.2, max_seconds=1.0, times=5)
    fault.remove(); sandbox.faults(); sandbox.clear_faults()

Each fired fault shows in the journal entry of its request (`JournalEntry.fault`).
The server side (Connexion, uvicorn) is imported only when a mock is started here (`testing.local`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Self

import httpx

from incident_mock.testing.receiver import Delivery, WebhookReceiver
from incident_mock.testing.webhook_api import (
    AsyncWebhookEndpoint,
    AsyncWebhooks,
    WebhookEndpoint,
    WebhookMessage,
    Webhooks,
)

__all__ = [
    "AsyncClockControl",
    "AsyncFault",
    "AsyncIncidentMock",
    "AsyncSandbox",
    "AsyncWebhookEndpoint",
    "AsyncWebhooks",
    "ClockControl",
    "ControlPlaneError",
    "Delivery",
    "Fault",
    "IncidentMock",
    "JournalEntry",
    "Keys",
    "Sandbox",
    "SandboxCreation",
    "WebhookEndpoint",
    "WebhookMessage",
    "WebhookReceiver",
    "Webhooks",
]

PAGE = 1000  # the control plane's largest `limit`
TIMEOUT = httpx.Timeout(15.0)
FIRST_POLL, LAST_POLL = 0.005, 0.1  # wait_for polls the journal at growing intervals between these


class ControlPlaneError(Exception):
    """The control plane answered with an error; `status` and `body` are its answer."""

    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        super().__init__(f"{method} {url}: {status} {body}")
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Keys:
    """A sandbox's tokens, by the fixtures' token each one stands for (its `replaces`)."""

    tokens: Mapping[str, str]

    def __getitem__(self, replaces: str) -> str:
        try:
            return self.tokens[replaces]
        except KeyError:
            raise KeyError(f"the sandbox has no key replacing {replaces!r}: {sorted(self.tokens)}") from None

    @property
    def full(self) -> str:
        """Stands for `mock-key-full` (every role)."""
        return self["mock-key-full"]

    @property
    def creator(self) -> str:
        """Stands for `mock-key-creator` (creates incidents)."""
        return self["mock-key-creator"]

    @property
    def viewer(self) -> str:
        """Stands for `mock-key-viewer` (reads only)."""
        return self["mock-key-viewer"]


@dataclass(frozen=True)
class JournalEntry:
    """One request a sandbox was sent, and what it answered (the control plane's `JournalEntry`)."""

    sequence: int
    time: str
    operation_id: str
    method: str
    path: str
    query: str
    status: int
    key_id: str
    request_id: str
    replayed: bool
    retry_after: str | None
    duration_ms: float
    request_body: Any = dataclasses.field(repr=False)
    request_body_bytes: int
    request_body_truncated: bool
    response_body: Any = dataclasses.field(repr=False)
    response_body_bytes: int
    response_body_truncated: bool
    fault: Mapping[str, Any] | None = None  # the fault that fired on it: id, kind, status, then, seconds

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JournalEntry:
        return cls(
            **{field.name: data[field.name] for field in dataclasses.fields(cls) if field.name in data}
        )

    def matches(self, operation_id: str | None = None, status: int | None = None) -> bool:
        """Whether the entry passes the filters the control plane's listing takes."""
        return (operation_id is None or self.operation_id == operation_id) and (
            status is None or self.status == status
        )

    def __str__(self) -> str:
        return f"#{self.sequence} {self.operation_id or '-'} {self.method} {self.path} -> {self.status}"


@dataclass(frozen=True)
class _FaultData:
    """A fault armed in a sandbox (the control plane's `Fault`)."""

    id: str
    kind: str
    operation_id: str | None
    status: int | None
    retry_after: int | None
    then: str | None
    seconds: float | None
    max_seconds: float | None
    times: int | None
    probability: float | None
    seed: int | None
    remaining: int | None  # firings left; None when only its probability bounds it
    fired: int


@dataclass(frozen=True)
class Fault(_FaultData):
    """A fault armed in a sandbox; `remove()` disarms it (already removed is fine)."""

    _remove: Callable[[], None] = dataclasses.field(repr=False, compare=False, default=lambda: None)

    def remove(self) -> None:
        self._remove()


@dataclass(frozen=True)
class AsyncFault(_FaultData):
    """`Fault` of an `AsyncSandbox`: `await fault.remove()`."""

    _remove: Callable[[], Awaitable[None]] | None = dataclasses.field(repr=False, compare=False, default=None)

    async def remove(self) -> None:
        if self._remove is not None:
            await self._remove()


def _fault_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {field.name: data[field.name] for field in dataclasses.fields(_FaultData)}


def _fault_body(operation_id: str | None, options: Mapping[str, Any]) -> dict[str, Any]:
    """The control plane's FaultPayload: the options given (None means left out)."""
    body = {name: value for name, value in options.items() if value is not None}
    if operation_id is not None:
        body["operation_id"] = operation_id
    return body


class _ControlAuth(httpx.Auth):
    """The token of each control-plane request: a sandbox's own control token on its operations
    (/_mock/sandboxes/{id}/...), the mock's token (admin or create-only) elsewhere."""

    def __init__(self, token: str | None, sandboxes: Mapping[str, str]) -> None:
        self.token, self.sandboxes = token, sandboxes

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        parts = request.url.path.split("/", 4)  # '', '_mock', 'sandboxes', id, ...
        own = (
            self.sandboxes.get(parts[3]) if len(parts) > 3 and parts[1:3] == ["_mock", "sandboxes"] else None
        )
        token = own or self.token
        if token:
            request.headers["Authorization"] = f"Bearer {token}"
        yield request


def _checked(response: httpx.Response) -> httpx.Response:
    if response.status_code >= 400:
        request = response.request
        raise ControlPlaneError(request.method, str(request.url), response.status_code, response.text)
    return response


def _query(operation_id: str | None, status: int | None, since: int | None, limit: int) -> dict[str, Any]:
    query: dict[str, Any] = {"limit": limit}
    if operation_id is not None:
        query["operation_id"] = operation_id
    if status is not None:
        query["status"] = status
    if since:
        query["since"] = since
    return query


def _entries(response: httpx.Response) -> list[JournalEntry]:
    """The journal entries of a page the control plane answered."""
    return [JournalEntry.from_json(entry) for entry in _checked(response).json()["requests"]]


def _deleted(response: httpx.Response) -> None:
    """Check a sandbox deletion's answer: already deleted (404) is fine."""
    if response.status_code != 404:
        _checked(response)


def _creation_body(
    fixtures: Mapping[str, Any] | None, seed: int | None, frozen_at: dt.datetime | None
) -> dict[str, Any] | None:
    body: dict[str, Any] = {}
    if fixtures is not None:
        body["fixtures"] = dict(fixtures)
    if seed is not None:
        body["seed"] = seed
    if frozen_at is not None:
        body["frozen_at"] = _instant(frozen_at)
    return body or None


def _instant(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("a clock's moment must be timezone-aware (e.g. tzinfo=datetime.UTC)")
    return moment.isoformat()


def _seconds(duration: float | dt.timedelta) -> float:
    return duration.total_seconds() if isinstance(duration, dt.timedelta) else float(duration)


def _moment(response: httpx.Response) -> dt.datetime:
    """The `now` of a control-plane ClockResult."""
    return dt.datetime.fromisoformat(_checked(response).json()["clock"]["now"])


class ClockControl:
    """A sandbox's clock (`sandbox.clock`): `now()`, `freeze(at=None)`, `advance(seconds or timedelta)`,
    `release(keep_offset=True)`; each returns the moment the clock shows after it (timezone-aware, UTC)."""

    def __init__(self, client: httpx.Client, path: str) -> None:
        self._client, self._path = client, f"{path}/clock"

    def now(self) -> dt.datetime:
        return _moment(self._client.get(self._path))

    def state(self) -> dict[str, Any]:
        """The control plane's SandboxClock: now, frozen, offset_seconds."""
        result: dict[str, Any] = _checked(self._client.get(self._path)).json()["clock"]
        return result

    def freeze(self, at: dt.datetime | None = None) -> dt.datetime:
        """Stop the clock at `at` (default: the moment it shows)."""
        body = {"at": _instant(at)} if at is not None else None
        return _moment(self._client.post(f"{self._path}/actions/freeze", json=body))

    def advance(self, duration: float | dt.timedelta) -> dt.datetime:
        """Move the clock forward (seconds, or a timedelta): frozen, to a later instant; running, by a larger
        offset."""
        body = {"seconds": _seconds(duration)}
        return _moment(self._client.post(f"{self._path}/actions/advance", json=body))

    def release(self, keep_offset: bool = True) -> dt.datetime:
        """Let the clock run again, from the moment it shows (or on real time with keep_offset=False)."""
        body = {"keep_offset": keep_offset}
        return _moment(self._client.post(f"{self._path}/actions/release", json=body))


class AsyncClockControl:
    """`ClockControl` over `httpx.AsyncClient`: the same methods, awaited."""

    def __init__(self, client: httpx.AsyncClient, path: str) -> None:
        self._client, self._path = client, f"{path}/clock"

    async def now(self) -> dt.datetime:
        return _moment(await self._client.get(self._path))

    async def state(self) -> dict[str, Any]:
        result: dict[str, Any] = _checked(await self._client.get(self._path)).json()["clock"]
        return result

    async def freeze(self, at: dt.datetime | None = None) -> dt.datetime:
        body = {"at": _instant(at)} if at is not None else None
        return _moment(await self._client.post(f"{self._path}/actions/freeze", json=body))

    async def advance(self, duration: float | dt.timedelta) -> dt.datetime:
        body = {"seconds": _seconds(duration)}
        return _moment(await self._client.post(f"{self._path}/actions/advance", json=body))

    async def release(self, keep_offset: bool = True) -> dt.datetime:
        body = {"keep_offset": keep_offset}
        return _moment(await self._client.post(f"{self._path}/actions/release", json=body))


class _Waiter:
    """The bookkeeping of wait_for, shared by the sync and async sandboxes: it reads only entries newer
    than the last one seen (`since`), and polls at growing intervals up to LAST_POLL."""

    def __init__(
        self, operation_id: str | None, status: int | None, since: int | None, count: int, timeout: float
    ) -> None:
        self.operation_id, self.status, self.count = operation_id, status, count
        self.since = since or 0
        self.deadline = time.monotonic() + timeout
        self.interval = FIRST_POLL
        self.seen: list[JournalEntry] = []
        self.found: list[JournalEntry] = []

    def feed(self, page: list[JournalEntry]) -> bool:
        """Take new entries; True once enough match. Raises AssertionError past the deadline."""
        if page:
            self.since = page[-1].sequence
            self.seen += page
            self.found += [entry for entry in page if entry.matches(self.operation_id, self.status)]
        if len(self.found) >= self.count:
            self.found = self.found[: self.count]
            return True
        if len(page) == PAGE:
            self.interval = 0.0  # more to read at once
        elif time.monotonic() >= self.deadline:
            raise AssertionError(self.failure())
        return False

    def pause(self) -> float:
        pause = min(self.interval, max(0.0, self.deadline - time.monotonic()))
        self.interval = min(LAST_POLL, max(FIRST_POLL, self.interval * 2))
        return pause

    def failure(self) -> str:
        what = " and ".join(
            part
            for part in (
                f"operation_id {self.operation_id!r}" if self.operation_id is not None else "",
                f"status {self.status}" if self.status is not None else "",
            )
            if part
        )
        seen = len(self.seen)
        lines = [
            f"expected {self.count} request(s) matching {what or 'anything'} after sequence "
            f"{self.since if not self.seen else self.seen[0].sequence - 1}, found {len(self.found)}; "
            f"the journal got {seen} new entr{'y' if seen == 1 else 'ies'}" + (":" if seen else "")
        ]
        lines += [f"  {entry}" for entry in self.seen[-50:]]
        return "\n".join(lines)


class _SandboxData:
    """What the control plane says about a sandbox."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        sandbox = data["sandbox"]
        self.id: str = sandbox["id"]
        self.base_url: str = sandbox["base_url"]
        self.keys = Keys({key["replaces"]: key["token"] for key in sandbox["keys"]})
        self.info: Mapping[str, Any] = sandbox
        self.seed: int | None = sandbox.get("seed")
        self.control_token: str | None = sandbox.get("control_token")  # manages this sandbox alone
        self._path = f"/_mock/sandboxes/{self.id}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} at {self.base_url}>"


# --- synchronous ---------------------------------------------------------------------------------------


class Sandbox(_SandboxData):
    """One sandbox: `.id`, `.base_url`, `.keys` (`.full`, `.creator`, `.viewer`), its journal and lifecycle.
    A context manager: it is deleted on exit."""

    def __init__(self, client: httpx.Client, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        self._client = client
        self.clock = ClockControl(client, self._path)
        self.webhooks = Webhooks(client, self._path, _checked)  # its webhook endpoints (webhook_api.py)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.delete()

    def requests(
        self, operation_id: str | None = None, status: int | None = None, since: int | None = None
    ) -> list[JournalEntry]:
        """The journal's entries (oldest first) for that operationId and status, after sequence `since`."""
        entries: list[JournalEntry] = []
        while True:
            page = self._page(operation_id, status, since, PAGE)
            entries += page
            if len(page) < PAGE:
                return entries
            since = page[-1].sequence

    def count(
        self, operation_id: str | None = None, status: int | None = None, since: int | None = None
    ) -> int:
        """How many journal entries match."""
        return len(self.requests(operation_id, status, since))

    def find(
        self, operation_id: str | None = None, status: int | None = None, since: int | None = None
    ) -> JournalEntry | None:
        """The oldest matching journal entry, or None."""
        page = self._page(operation_id, status, since, 1)
        return page[0] if page else None

    def wait_for(
        self,
        operation_id: str | None = None,
        status: int | None = None,
        since: int | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[JournalEntry]:
        """Wait until the journal holds `count` matching entries after `since` and return them (WireMock's
        `verify`); raises AssertionError listing what arrived when `timeout` seconds pass first."""
        waiter = _Waiter(operation_id, status, since, count, timeout)
        while not waiter.feed(self._page(None, None, waiter.since, PAGE)):
            time.sleep(waiter.pause())
        return waiter.found

    def reset(self) -> None:
        """Rebuild the sandbox from its fixtures and empty its journal; the tokens stay."""
        _checked(self._client.post(f"{self._path}/actions/reset"))

    def clear_requests(self) -> None:
        """Empty the journal (sequence numbers go on)."""
        _checked(self._client.post(f"{self._path}/requests/actions/clear"))

    def delete(self) -> None:
        """Delete the sandbox (already deleted is fine)."""
        _deleted(self._client.delete(self._path))

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
        response = self._client.post(f"{self._path}/faults", json=_fault_body(operation_id, options))
        return self._fault(_checked(response).json()["fault"])

    def faults(self) -> list[Fault]:
        """The faults armed in the sandbox, spent ones included, in arming order."""
        found = _checked(self._client.get(f"{self._path}/faults")).json()["faults"]
        return [self._fault(data) for data in found]

    def remove_fault(self, fault_id: str) -> None:
        """Disarm one fault (already removed is fine)."""
        _deleted(self._client.delete(f"{self._path}/faults/{fault_id}"))

    def clear_faults(self) -> None:
        """Disarm every fault of the sandbox."""
        _checked(self._client.post(f"{self._path}/faults/actions/clear"))

    def _fault(self, data: Mapping[str, Any]) -> Fault:
        fault_id = data["id"]
        return Fault(**_fault_fields(data), _remove=lambda: self.remove_fault(fault_id))

    def _page(
        self, operation_id: str | None, status: int | None, since: int | None, limit: int
    ) -> list[JournalEntry]:
        params = _query(operation_id, status, since, limit)
        return _entries(self._client.get(f"{self._path}/requests", params=params))


class _Mock:
    """What `IncidentMock` and `AsyncIncidentMock` share: the options, the URL and how to connect."""

    _usage = ""  # how to start one, named when it is not running

    def __init__(self, **server_options: Any) -> None:
        self._options = server_options
        self._url: str | None = None
        self.admin_token: str | None = server_options.get("admin_token")
        self.create_token: str | None = None
        self._control_tokens: dict[str, str] = {}  # sandbox id -> its control token
        self._stack = ExitStack()
        self._started = False

    @classmethod
    def connect(cls, url: str, admin_token: str | None = None, *, create_token: str | None = None) -> Self:
        """A client of the mock at `url`; it starts nothing. `create_token` (the mock's
        `--sandbox-create-token`) instead of `admin_token` lets it create sandboxes and manage those alone."""
        mock = cls()
        mock._url = url.rstrip("/")
        mock.admin_token, mock.create_token = admin_token, create_token
        return mock

    def _auth(self) -> _ControlAuth:
        return _ControlAuth(self.admin_token or self.create_token, self._control_tokens)

    def _made(self, data: Mapping[str, Any]) -> Mapping[str, Any]:
        """Remember a sandbox's control token: its own operations are sent with it from now on."""
        sandbox = data["sandbox"]
        if sandbox.get("control_token"):
            self._control_tokens[sandbox["id"]] = sandbox["control_token"]
        return data

    @property
    def url(self) -> str:
        """The mock's base URL (the contract's API and the control plane)."""
        if self._url is None:
            raise RuntimeError(f"the mock is not running: use `{self._usage}`")
        return self._url


class IncidentMock(_Mock):
    """The mock, for tests. `with IncidentMock(**options) as mock:` starts one on a free loopback port
    (`options` go to `incident_mock.server.MockServer`: fixtures, admin_token, seed, caps...) and stops it on
    exit; `IncidentMock.connect(url, admin_token=...)` drives one that runs elsewhere."""

    _usage = "with IncidentMock() as mock:"

    def __init__(self, **server_options: Any) -> None:
        super().__init__(**server_options)
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        """An httpx client of the control plane (it carries the admin token)."""
        if self._client is None:
            client = httpx.Client(base_url=self.url, auth=self._auth(), timeout=TIMEOUT)
            self._client = self._stack.enter_context(client)
        return self._client

    def start(self) -> Self:
        """Start the mock (`with` does it); a connected client starts nothing."""
        if self._url is None:
            from incident_mock.testing.local import start

            self._url = start(self._stack, self._options)
            self._started = True
        return self

    def close(self) -> None:
        """Close the client, and stop the mock if this object started it."""
        self._client = None
        self._stack.close()
        if self._started:
            self._url, self._started = None, False

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def health(self) -> dict[str, Any]:
        """The mock's liveness and version."""
        result: dict[str, Any] = _checked(self.client.get("/_mock/health")).json()
        return result

    def sandbox(
        self,
        fixtures: Mapping[str, Any] | None = None,
        *,
        seed: int | None = None,
        frozen_at: dt.datetime | None = None,
    ) -> Sandbox:
        """A new sandbox, from the default fixtures or from `fixtures` (the control plane's `Fixtures`); its
        ids seeded by `seed`, its clock frozen at `frozen_at` when given."""
        body = _creation_body(fixtures, seed, frozen_at)
        response = _checked(self.client.post("/_mock/sandboxes", json=body))
        return Sandbox(self.client, self._made(response.json()))

    def get_sandbox(self, sandbox_id: str) -> Sandbox:
        """An existing sandbox, by id (`default` for the fixtures' own keys)."""
        found = _checked(self.client.get(f"/_mock/sandboxes/{sandbox_id}")).json()
        return Sandbox(self.client, self._made(found))


# --- asynchronous --------------------------------------------------------------------------------------


class AsyncSandbox(_SandboxData):
    """`Sandbox` over `httpx.AsyncClient`: the same methods, awaited. An async context manager."""

    def __init__(self, client: httpx.AsyncClient, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        self._client = client
        self.clock = AsyncClockControl(client, self._path)
        self.webhooks = AsyncWebhooks(client, self._path, _checked)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.delete()

    async def requests(
        self, operation_id: str | None = None, status: int | None = None, since: int | None = None
    ) -> list[JournalEntry]:
        entries: list[JournalEntry] = []
        while True:
            page = await self._page(operation_id, status, since, PAGE)
            entries += page
            if len(page) < PAGE:
                return entries
            since = page[-1].sequence

    async def count(
        self, operation_id: str | None = None, status: int | None = None, since: int | None = None
    ) -> int:
        return len(await self.requests(operation_id, status, since))

    async def find(
        self, operation_id: str | None = None, status: int | None = None, since: int | None = None
    ) -> JournalEntry | None:
        page = await self._page(operation_id, status, since, 1)
        return page[0] if page else None

    async def wait_for(
        self,
        operation_id: str | None = None,
        status: int | None = None,
        since: int | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[JournalEntry]:
        waiter = _Waiter(operation_id, status, since, count, timeout)
        while not waiter.feed(await self._page(None, None, waiter.since, PAGE)):
            await asyncio.sleep(waiter.pause())
        return waiter.found

    async def reset(self) -> None:
        _checked(await self._client.post(f"{self._path}/actions/reset"))

    async def clear_requests(self) -> None:
        _checked(await self._client.post(f"{self._path}/requests/actions/clear"))

    async def delete(self) -> None:
        _deleted(await self._client.delete(self._path))

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
        options = dict(kind=kind, status=status, times=times, probability=probability, seed=seed)
        options.update(retry_after=retry_after, then=then, seconds=seconds, max_seconds=max_seconds)
        response = await self._client.post(f"{self._path}/faults", json=_fault_body(operation_id, options))
        return self._fault(_checked(response).json()["fault"])

    async def faults(self) -> list[AsyncFault]:
        found = _checked(await self._client.get(f"{self._path}/faults")).json()["faults"]
        return [self._fault(data) for data in found]

    async def remove_fault(self, fault_id: str) -> None:
        _deleted(await self._client.delete(f"{self._path}/faults/{fault_id}"))

    async def clear_faults(self) -> None:
        _checked(await self._client.post(f"{self._path}/faults/actions/clear"))

    def _fault(self, data: Mapping[str, Any]) -> AsyncFault:
        fault_id = data["id"]
        return AsyncFault(**_fault_fields(data), _remove=lambda: self.remove_fault(fault_id))

    async def _page(
        self, operation_id: str | None, status: int | None, since: int | None, limit: int
    ) -> list[JournalEntry]:
        params = _query(operation_id, status, since, limit)
        return _entries(await self._client.get(f"{self._path}/requests", params=params))


class SandboxCreation:
    """What `AsyncIncidentMock.sandbox()` returns: `await` it, or use it as `async with` (deleted on exit)."""

    def __init__(self, create: Callable[[], Awaitable[AsyncSandbox]]) -> None:
        self._create = create
        self._sandbox: AsyncSandbox | None = None

    def __await__(self) -> Generator[Any, None, AsyncSandbox]:
        return self._awaited().__await__()

    async def _awaited(self) -> AsyncSandbox:
        return await self._create()

    async def __aenter__(self) -> AsyncSandbox:
        self._sandbox = await self._create()
        return self._sandbox

    async def __aexit__(self, *exc: object) -> None:
        if self._sandbox is not None:
            await self._sandbox.delete()


class AsyncIncidentMock(_Mock):
    """`IncidentMock` over `httpx.AsyncClient`: `async with AsyncIncidentMock() as mock:` starts a mock in a
    background thread; `AsyncIncidentMock.connect(url, admin_token=...)` drives one running elsewhere."""

    _usage = "async with AsyncIncidentMock() as mock:"

    def __init__(self, **server_options: Any) -> None:
        super().__init__(**server_options)
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self.url, auth=self._auth(), timeout=TIMEOUT)
        return self._client

    async def __aenter__(self) -> Self:
        if self._url is None:
            from incident_mock.testing.local import start

            self._url = await asyncio.to_thread(start, self._stack, self._options)
            self._started = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._started:
            await asyncio.to_thread(self._stack.close)
            self._url, self._started = None, False

    async def health(self) -> dict[str, Any]:
        result: dict[str, Any] = _checked(await self.client.get("/_mock/health")).json()
        return result

    def sandbox(
        self,
        fixtures: Mapping[str, Any] | None = None,
        *,
        seed: int | None = None,
        frozen_at: dt.datetime | None = None,
    ) -> SandboxCreation:
        """A new sandbox: `sandbox = await mock.sandbox()`, or `async with mock.sandbox() as sandbox:`."""
        body = _creation_body(fixtures, seed, frozen_at)

        async def create() -> AsyncSandbox:
            response = _checked(await self.client.post("/_mock/sandboxes", json=body))
            return AsyncSandbox(self.client, self._made(response.json()))

        return SandboxCreation(create)

    async def get_sandbox(self, sandbox_id: str) -> AsyncSandbox:
        response = _checked(await self.client.get(f"/_mock/sandboxes/{sandbox_id}"))
        return AsyncSandbox(self.client, self._made(response.json()))
