"""What the two halves of the Python API share, all of it free of I/O: the control plane's answers as
objects (sandbox data, journal entries, faults, webhook messages), how a journal is filtered, how a wait
polls, and the bodies the control plane takes.

`aio.py` is the API, written once, over `httpx.AsyncClient`; `sync.py` is generated from it (`make sync`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import difflib
import functools
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Self, TypeVar

import httpx

__all__ = [
    "ControlPlaneError",
    "FaultData",
    "JournalEntry",
    "Keys",
    "WebhookMessage",
]

PAGE = 1000  # the control plane's largest `limit`
TIMEOUT = httpx.Timeout(15.0)
FIRST_POLL, LAST_POLL = 0.005, 0.1  # wait_for polls the journal at growing intervals between these
T = TypeVar("T")
Where = Callable[["JournalEntry"], bool]


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

    def matches(
        self,
        operation_id: str | None = None,
        status: int | None = None,
        *,
        body: Mapping[str, Any] | None = None,
        where: Where | None = None,
    ) -> bool:
        """Whether the entry passes the filters of `Sandbox.requests`: its operationId and status, a request
        body holding `body` (a subset: every key given, with an equal value; nested objects likewise, lists
        and other values equal), and `where(entry)` true."""
        return (
            (operation_id is None or self.operation_id == operation_id)
            and (status is None or self.status == status)
            and (body is None or _holds(self.request_body, body))
            and (where is None or where(self))
        )

    def __str__(self) -> str:
        return f"#{self.sequence} {self.operation_id or '-'} {self.method} {self.path} -> {self.status}"


def _holds(actual: Any, expected: Any) -> bool:
    """Whether `actual` holds `expected`: objects key by key (a subset, at any depth), the rest equal."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and _holds(actual[key], value) for key, value in expected.items()
        )
    return bool(actual == expected)


@functools.cache
def operation_ids() -> frozenset[str]:
    """The contract's operationIds (read once from the packaged contract)."""
    from incident_contract.document import load_spec
    from incident_contract.operations import operations

    return frozenset(operations(load_spec()))


def known_operation(operation_id: str | None) -> str | None:
    """`operation_id` itself when the contract has it (or None); ValueError naming the close ones if not."""
    if operation_id is None or operation_id in operation_ids():
        return operation_id
    by_folded = {known.casefold(): known for known in sorted(operation_ids())}
    folded = operation_id.casefold()
    close = [folded] if folded in by_folded else difflib.get_close_matches(folded, by_folded, n=3, cutoff=0.6)
    hint = (
        f"did you mean {' or '.join(repr(by_folded[c]) for c in close)}?"
        if close
        else f"the contract's are {', '.join(map(repr, by_folded.values()))}"
    )
    raise ValueError(f"no operation of the contract has the id {operation_id!r}: {hint}")


@dataclass(frozen=True)
class JournalFilter:
    """The filters of one journal query: operationId and status go to the control plane, `body` and `where`
    are applied here, to the entries it answers."""

    operation_id: str | None = None
    status: int | None = None
    body: Mapping[str, Any] | None = None
    where: Where | None = None

    def __post_init__(self) -> None:
        known_operation(self.operation_id)

    @property
    def by_server(self) -> bool:
        """Whether the control plane applies every filter (so its first entry is the first match)."""
        return self.body is None and self.where is None

    def query(self, since: int | None, limit: int) -> dict[str, Any]:
        """The control plane's query parameters for a page after sequence `since`."""
        query: dict[str, Any] = {"limit": limit}
        if self.operation_id is not None:
            query["operation_id"] = self.operation_id
        if self.status is not None:
            query["status"] = self.status
        if since:
            query["since"] = since
        return query

    def __call__(self, entry: JournalEntry) -> bool:
        return entry.matches(self.operation_id, self.status, body=self.body, where=self.where)

    def describe(self) -> str:
        parts = [
            f"operation_id {self.operation_id!r}" if self.operation_id is not None else "",
            f"status {self.status}" if self.status is not None else "",
            f"a body holding {dict(self.body)!r}" if self.body is not None else "",
            f"where={getattr(self.where, '__name__', self.where)}" if self.where is not None else "",
        ]
        return " and ".join(part for part in parts if part) or "anything"


@dataclass(frozen=True)
class FaultData:
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


def fault_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {field.name: data[field.name] for field in dataclasses.fields(FaultData)}


def fault_body(operation_id: str | None, options: Mapping[str, Any]) -> dict[str, Any]:
    """The control plane's FaultPayload: the options given (None means left out)."""
    body = {name: value for name, value in options.items() if value is not None}
    if operation_id is not None:
        body["operation_id"] = operation_id
    return body


@dataclass(frozen=True)
class WebhookMessage:
    """One message of an endpoint's delivery log (the control plane's `WebhookMessage`)."""

    id: str
    event_type: str
    created_at: str
    state: str  # pending, delivered, failed
    next_attempt_at: str | None
    error: str | None
    attempts: list[dict[str, Any]] = dataclasses.field(repr=False)
    payload: Any = dataclasses.field(repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WebhookMessage:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


def registration(
    url: str,
    event_types: Sequence[str] | None,
    secret: str | None,
    time_scale: float | None,
    attempt_timeout: float | None,
    out_of_order: bool,
) -> dict[str, Any]:
    """The control plane's WebhookRegistration."""
    body: dict[str, Any] = {"url": url}
    optional = {
        "event_types": list(event_types) if event_types is not None else None,
        "secret": secret,
        "time_scale": time_scale,
        "attempt_timeout_seconds": attempt_timeout,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if out_of_order:
        body["out_of_order"] = True
    return body


class ControlAuth(httpx.Auth):
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


def checked(response: httpx.Response) -> httpx.Response:
    """The response, or ControlPlaneError when it is an error."""
    if response.status_code >= 400:
        request = response.request
        raise ControlPlaneError(request.method, str(request.url), response.status_code, response.text)
    return response


def entries(response: httpx.Response) -> list[JournalEntry]:
    """The journal entries of a page the control plane answered."""
    return [JournalEntry.from_json(entry) for entry in checked(response).json()["requests"]]


def deleted(response: httpx.Response) -> None:
    """Check a deletion's answer: already deleted (404) is fine."""
    if response.status_code != 404:
        checked(response)


def creation_body(
    fixtures: Mapping[str, Any] | None, seed: int | None, frozen_at: dt.datetime | None
) -> dict[str, Any] | None:
    """The control plane's SandboxCreation body, None when nothing is asked for."""
    body: dict[str, Any] = {}
    if fixtures is not None:
        body["fixtures"] = dict(fixtures)
    if seed is not None:
        body["seed"] = seed
    if frozen_at is not None:
        body["frozen_at"] = instant(frozen_at)
    return body or None


def instant(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("a clock's moment must be timezone-aware (e.g. tzinfo=datetime.UTC)")
    return moment.isoformat()


def seconds(duration: float | dt.timedelta) -> float:
    return duration.total_seconds() if isinstance(duration, dt.timedelta) else float(duration)


def moment(response: httpx.Response) -> dt.datetime:
    """The `now` of a control-plane ClockResult."""
    return dt.datetime.fromisoformat(checked(response).json()["clock"]["now"])


async def in_thread(work: Callable[[], T]) -> T:
    """Run blocking work (starting or stopping a mock in this process) off the event loop."""
    return await asyncio.to_thread(work)


def in_place(work: Callable[[], T]) -> T:
    """`in_thread` of the sync half: do the work now."""
    return work()


class Waiter:
    """The bookkeeping of wait_for: it reads only entries newer than the last one seen (`since`), and polls
    at growing intervals up to LAST_POLL."""

    def __init__(self, match: JournalFilter, since: int | None, count: int, timeout: float) -> None:
        self.match, self.count = match, count
        self.since = since or 0
        self.deadline = time.monotonic() + timeout
        self.interval = FIRST_POLL
        self.seen: list[JournalEntry] = []
        self.found: list[JournalEntry] = []

    def query(self) -> dict[str, Any]:
        """Every entry after the last one seen: a journal with gaps then tells what did arrive."""
        return JournalFilter().query(self.since, PAGE)

    def feed(self, page: list[JournalEntry]) -> bool:
        """Take new entries; True once enough match. Raises AssertionError past the deadline."""
        if page:
            self.since = page[-1].sequence
            self.seen += page
            self.found += [entry for entry in page if self.match(entry)]
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
        seen = len(self.seen)
        lines = [
            f"expected {self.count} request(s) matching {self.match.describe()} after sequence "
            f"{self.since if not self.seen else self.seen[0].sequence - 1}, found {len(self.found)}; "
            f"the journal got {seen} new entr{'y' if seen == 1 else 'ies'}" + (":" if seen else "")
        ]
        lines += [f"  {entry}" for entry in self.seen[-50:]]
        return "\n".join(lines)


class SandboxData:
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


class EndpointData:
    """What the control plane says about a webhook endpoint."""

    def __init__(self, path: str, data: Mapping[str, Any]) -> None:
        webhook = data["webhook"]
        self.id: str = webhook["id"]
        self.url: str = webhook["url"]
        self.secret: str = webhook["secret"]
        self.event_types: list[str] = webhook["event_types"]
        self.info: Mapping[str, Any] = webhook
        self._path = f"{path}/{self.id}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} -> {self.url}>"


class MockData:
    """What both mocks hold: the options, the URL, the admin token and how to start one in this process."""

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

    def _auth(self) -> ControlAuth:
        """Every sandbox's operations go with its own control token, the rest with the mock's token."""
        return ControlAuth(self.admin_token or self.create_token, self._control_tokens)

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

    def _launch(self) -> None:
        """Start a mock in this process (blocking), unless this client is connected to one."""
        if self._url is None:
            from incident_mock.testing.local import start

            self._url = start(self._stack, self._options)
            self._started = True

    def _stop(self) -> None:
        """Stop the mock this object started, if any (blocking)."""
        self._stack.close()
        if self._started:
            self._url, self._started = None, False
