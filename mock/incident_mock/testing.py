"""The testing kit's Python API: drive the mock's control plane (`control-plane.yaml`) from a test.

    with IncidentMock() as mock:              # the mock on a free loopback port, in a background thread
        with mock.sandbox() as sandbox:       # a fresh sandbox, deleted on exit
            call_my_code(sandbox.base_url, sandbox.keys.creator)
            [entry] = sandbox.wait_for("Incidents V2#Create", status=200)

`IncidentMock.connect(url, admin_token=...)` drives a mock running elsewhere (another process, a container,
a shared CI service). `AsyncIncidentMock` and `AsyncSandbox` are the same over `httpx.AsyncClient`.
The server side (Connexion, uvicorn) is imported only when this module starts a mock itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import warnings
from collections.abc import Awaitable, Callable, Generator, Mapping
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

import httpx

from incident_mock.receiver import Delivery, WebhookReceiver
from incident_mock.webhook_client import (
    AsyncWebhookEndpoint,
    AsyncWebhooks,
    WebhookEndpoint,
    WebhookMessage,
    Webhooks,
)

if TYPE_CHECKING:
    from incident_mock.server import MockServer

__all__ = [
    "AsyncIncidentMock",
    "AsyncSandbox",
    "AsyncWebhookEndpoint",
    "AsyncWebhooks",
    "ControlPlaneError",
    "Delivery",
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

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JournalEntry:
        return cls(**{field.name: data[field.name] for field in dataclasses.fields(cls)})

    def matches(self, operation_id: str | None = None, status: int | None = None) -> bool:
        """Whether the entry passes the filters the control plane's listing takes."""
        return (operation_id is None or self.operation_id == operation_id) and (
            status is None or self.status == status
        )

    def __str__(self) -> str:
        return f"#{self.sequence} {self.operation_id or '-'} {self.method} {self.path} -> {self.status}"


def _headers(admin_token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token}"} if admin_token else {}


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


def _creation_body(fixtures: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return {"fixtures": dict(fixtures)} if fixtures is not None else None


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
        self.webhooks = Webhooks(client, self._path, _checked)  # its webhook endpoints (webhook_client.py)

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

    def _page(
        self, operation_id: str | None, status: int | None, since: int | None, limit: int
    ) -> list[JournalEntry]:
        params = _query(operation_id, status, since, limit)
        return _entries(self._client.get(f"{self._path}/requests", params=params))


def _start(stack: ExitStack, options: Mapping[str, Any]) -> str:
    """Start a mock in a background thread, stopped when `stack` closes; its URL.

    Connexion 3.3 and Starlette warn about their own dependencies when imported (jsonschema's RefResolver,
    Starlette's test client over httpx); a suite run with `-W error` must not fail on that, so those
    warnings are ignored while the mock is imported and built."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from incident_mock.server import MockServer

        server = MockServer(**options)
    running: AbstractContextManager[MockServer] = server.running()
    return stack.enter_context(running).url


class _Mock:
    """What `IncidentMock` and `AsyncIncidentMock` share: the options, the URL and how to connect."""

    _usage = ""  # how to start one, named when it is not running

    def __init__(self, **server_options: Any) -> None:
        self._options = server_options
        self._url: str | None = None
        self.admin_token: str | None = server_options.get("admin_token")
        self._stack = ExitStack()
        self._started = False

    @classmethod
    def connect(cls, url: str, admin_token: str | None = None) -> Self:
        """A client of the mock at `url`; it starts nothing."""
        mock = cls()
        mock._url = url.rstrip("/")
        mock.admin_token = admin_token
        return mock

    @property
    def url(self) -> str:
        """The mock's base URL (the contract's API and the control plane)."""
        if self._url is None:
            raise RuntimeError(f"the mock is not running: use `{self._usage}`")
        return self._url


class IncidentMock(_Mock):
    """The mock, for tests. `with IncidentMock(**options) as mock:` starts one on a free loopback port
    (`options` go to `incident_mock.server.MockServer`: fixtures, admin_token, caps...) and stops it on exit;
    `IncidentMock.connect(url, admin_token=...)` drives one that runs elsewhere."""

    _usage = "with IncidentMock() as mock:"

    def __init__(self, **server_options: Any) -> None:
        super().__init__(**server_options)
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        """An httpx client of the control plane (it carries the admin token)."""
        if self._client is None:
            client = httpx.Client(base_url=self.url, headers=_headers(self.admin_token), timeout=TIMEOUT)
            self._client = self._stack.enter_context(client)
        return self._client

    def start(self) -> Self:
        """Start the mock (`with` does it); a connected client starts nothing."""
        if self._url is None:
            self._url = _start(self._stack, self._options)
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

    def sandbox(self, fixtures: Mapping[str, Any] | None = None) -> Sandbox:
        """A new sandbox, from the default fixtures or from `fixtures` (the control plane's `Fixtures`)."""
        response = _checked(self.client.post("/_mock/sandboxes", json=_creation_body(fixtures)))
        return Sandbox(self.client, response.json())

    def get_sandbox(self, sandbox_id: str) -> Sandbox:
        """An existing sandbox, by id (`default` for the fixtures' own keys)."""
        return Sandbox(self.client, _checked(self.client.get(f"/_mock/sandboxes/{sandbox_id}")).json())


# --- asynchronous --------------------------------------------------------------------------------------


class AsyncSandbox(_SandboxData):
    """`Sandbox` over `httpx.AsyncClient`: the same methods, awaited. An async context manager."""

    def __init__(self, client: httpx.AsyncClient, data: Mapping[str, Any]) -> None:
        super().__init__(data)
        self._client = client
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
            self._client = httpx.AsyncClient(
                base_url=self.url, headers=_headers(self.admin_token), timeout=TIMEOUT
            )
        return self._client

    async def __aenter__(self) -> Self:
        if self._url is None:
            self._url = await asyncio.to_thread(_start, self._stack, self._options)
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

    def sandbox(self, fixtures: Mapping[str, Any] | None = None) -> SandboxCreation:
        """A new sandbox: `sandbox = await mock.sandbox()`, or `async with mock.sandbox() as sandbox:`."""

        async def create() -> AsyncSandbox:
            response = _checked(await self.client.post("/_mock/sandboxes", json=_creation_body(fixtures)))
            return AsyncSandbox(self.client, response.json())

        return SandboxCreation(create)

    async def get_sandbox(self, sandbox_id: str) -> AsyncSandbox:
        response = _checked(await self.client.get(f"/_mock/sandboxes/{sandbox_id}"))
        return AsyncSandbox(self.client, response.json())
