"""The testing kit's Python API (`incident_mock.testing`) against a mock it starts itself."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest

from incident_mock.testing import (
    AsyncIncidentMock,
    ControlPlaneError,
    IncidentMock,
    JournalEntry,
    Sandbox,
)
from tests.mock.seed import MAJOR

CREATE, LIST = "Incidents V2#Create", "Incidents V2#List"


def create(sandbox: Sandbox, key: str, token: str | None = None) -> httpx.Response:
    body = {"idempotency_key": key, "visibility": "public", "severity_id": MAJOR, "name": f"Alert {key}"}
    headers = {"Authorization": f"Bearer {token or sandbox.keys.creator}"}
    return httpx.post(f"{sandbox.base_url}/v2/incidents", json=body, headers=headers)


def names(sandbox: Sandbox) -> list[str]:
    answer = httpx.get(
        f"{sandbox.base_url}/v2/incidents", headers={"Authorization": f"Bearer {sandbox.keys.viewer}"}
    )
    assert answer.status_code == 200, answer.text
    return sorted(incident["name"] for incident in answer.json()["incidents"])


def test_a_sandbox_has_its_own_tokens_and_is_deleted_on_exit(mock: IncidentMock) -> None:
    assert mock.health()["status"] == "ok"
    with mock.sandbox() as sandbox:
        assert sandbox.base_url == mock.url
        tokens = {sandbox.keys.full, sandbox.keys.creator, sandbox.keys.viewer}
        assert len(tokens) == 3 and not tokens & {"mock-key-full", "mock-key-creator", "mock-key-viewer"}
        assert sandbox.keys["mock-key-viewer"] == sandbox.keys.viewer
        with pytest.raises(KeyError, match="no key replacing"):
            sandbox.keys["mock-key-other"]
        assert create(sandbox, "one").status_code == 200
        assert mock.get_sandbox(sandbox.id).info["incidents"] == len(names(sandbox))
    answer = create(sandbox, "two")
    assert answer.status_code == 401, "a deleted sandbox's tokens stop working"
    sandbox.delete()  # deleting twice is fine
    with pytest.raises(ControlPlaneError) as raised:
        mock.get_sandbox(sandbox.id)
    assert raised.value.status == 404


def test_sandboxes_are_isolated(mock: IncidentMock) -> None:
    with mock.sandbox() as first, mock.sandbox() as second:
        assert create(first, "first").status_code == 200
        assert "Alert first" in names(first) and "Alert first" not in names(second)
        assert first.count(CREATE) == 1 and second.count(CREATE) == 0


def test_count_find_and_requests_filter_the_journal(sandbox: Sandbox) -> None:
    assert sandbox.requests() == [] and sandbox.find() is None
    assert create(sandbox, "a").status_code == 200
    assert create(sandbox, "a").status_code == 200  # an idempotent replay
    assert create(sandbox, "b", token=sandbox.keys.viewer).status_code == 403
    names(sandbox)
    entries = sandbox.requests()
    assert [e.sequence for e in entries] == [1, 2, 3, 4]
    assert all(isinstance(e, JournalEntry) for e in entries)
    assert sandbox.count(CREATE) == 3 and sandbox.count(CREATE, status=200) == 2
    assert sandbox.count(status=403) == 1 and sandbox.count(LIST) == 1
    assert sandbox.count(CREATE, since=2) == 1
    first = sandbox.find(CREATE, status=200)
    assert first is not None and first.sequence == 1 and not first.replayed
    assert first.request_body["idempotency_key"] == "a"
    assert first.response_body["incident"]["name"] == "Alert a"
    replay = sandbox.find(CREATE, since=1)
    assert replay is not None and replay.replayed
    assert sandbox.find("Severities V1#Create") is None
    assert "Bearer" not in repr(entries) and sandbox.keys.creator not in repr(entries)


def test_reset_and_clear(sandbox: Sandbox) -> None:
    before = names(sandbox)
    assert create(sandbox, "gone").status_code == 200
    sandbox.clear_requests()
    assert sandbox.requests() == []
    names(sandbox)
    entry = sandbox.find()
    assert entry is not None and entry.sequence == 3, "sequence numbers go on after a clear"
    sandbox.reset()
    assert sandbox.count() == 0
    assert names(sandbox) == before, "a reset rebuilds the sandbox from its fixtures, same tokens"


def test_wait_for_times_out_with_what_it_saw(sandbox: Sandbox) -> None:
    names(sandbox)
    with pytest.raises(AssertionError) as raised:
        sandbox.wait_for(CREATE, timeout=0.05)
    message = str(raised.value)
    assert "'Incidents V2#Create'" in message and "#1 Incidents V2#List GET /v2/incidents -> 200" in message
    with pytest.raises(AssertionError, match="expected 2 request"):
        sandbox.wait_for(LIST, count=2, timeout=0.05)


def test_wait_for_sees_a_request_sent_from_another_thread(sandbox: Sandbox) -> None:
    names(sandbox)
    since = sandbox.requests()[-1].sequence
    go = threading.Event()
    answers: list[int] = []

    def bridge() -> None:
        go.wait(5)
        answers.extend(create(sandbox, f"thread-{n}").status_code for n in range(2))

    thread = threading.Thread(target=bridge)
    thread.start()
    try:
        go.set()
        found = sandbox.wait_for(CREATE, status=200, since=since, count=2, timeout=10)
    finally:
        thread.join()
    assert answers == [200, 200]
    assert [e.request_body["idempotency_key"] for e in found] == ["thread-0", "thread-1"]
    [again] = sandbox.wait_for(LIST, timeout=0.05)  # already in the journal: no wait
    assert again.sequence == since


def test_connect_drives_a_running_mock_with_its_admin_token() -> None:
    with IncidentMock(admin_token="s3cret") as started:
        with IncidentMock.connect(started.url) as anonymous, pytest.raises(ControlPlaneError) as raised:
            anonymous.sandbox()
        assert raised.value.status == 401
        with (
            IncidentMock.connect(started.url + "/", admin_token="s3cret") as client,
            client.sandbox() as sandbox,
        ):
            assert create(sandbox, "remote").status_code == 200
            assert sandbox.count(CREATE, status=200) == 1
        assert started.url == client.url
    with pytest.raises(RuntimeError, match="not running"):
        _ = started.url


async def test_async_variant(mock: IncidentMock) -> None:
    async with AsyncIncidentMock.connect(mock.url) as amock:
        assert (await amock.health())["status"] == "ok"
        async with amock.sandbox() as sandbox, httpx.AsyncClient(base_url=sandbox.base_url) as http:
            headers = {"Authorization": f"Bearer {sandbox.keys.creator}"}
            body = {"idempotency_key": "async", "visibility": "public", "severity_id": MAJOR, "name": "A"}
            waiting = asyncio.create_task(sandbox.wait_for(CREATE, status=200, timeout=10))
            answer = await http.post("/v2/incidents", json=body, headers=headers)
            assert answer.status_code == 200
            [entry] = await waiting
            assert entry.response_body["incident"]["id"] == answer.json()["incident"]["id"]
            assert await sandbox.count(CREATE) == 1 and await sandbox.count(status=500) == 0
            found = await sandbox.find(CREATE)
            assert found is not None and found.sequence == entry.sequence
            assert len(await sandbox.requests()) == 1
            await sandbox.clear_requests()
            assert await sandbox.find() is None
            await sandbox.reset()
            with pytest.raises(AssertionError, match="found 0"):
                await sandbox.wait_for(CREATE, timeout=0.05)
        other = await amock.sandbox()
        assert other.id != sandbox.id
        await other.delete()
        with pytest.raises(ControlPlaneError):
            await amock.get_sandbox(sandbox.id)
        assert (await amock.get_sandbox("default")).keys.full == "mock-key-full"


async def test_async_mock_starts_its_own_server() -> None:
    async with AsyncIncidentMock() as amock:
        url = amock.url
        sandbox = await amock.sandbox()
        assert sandbox.base_url == url
        await sandbox.delete()
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/_mock/health", timeout=2)


def send(sandbox: Sandbox, key: str, **extra: object) -> httpx.Response:
    body = {"idempotency_key": key, "visibility": "public", "severity_id": MAJOR, "name": key, **extra}
    headers = {"Authorization": f"Bearer {sandbox.keys.creator}"}
    return httpx.post(f"{sandbox.base_url}/v2/incidents", json=body, headers=headers)


def test_an_unknown_operation_id_is_an_error_naming_the_close_ones(sandbox: Sandbox) -> None:
    create(sandbox, "a")
    for read in (sandbox.requests, sandbox.count, sandbox.find, sandbox.wait_for):
        with pytest.raises(ValueError, match=r"'Incidents V2#create'.*did you mean 'Incidents V2#Create'\?"):
            read("Incidents V2#create")
    with pytest.raises(ValueError, match="did you mean 'Incidents V2#List' or "):  # the closest first
        sandbox.requests("incidents v2#lists")
    with pytest.raises(
        ValueError, match=r"no operation .* 'Nothing alike'.*the contract's are .*'Incidents V2#Create'"
    ):
        sandbox.count("Nothing alike")
    assert sandbox.count("Incidents V2#Create") == 1, "a known id still filters"


def test_the_journal_filters_on_request_body_fields_and_a_predicate(sandbox: Sandbox) -> None:
    assert send(sandbox, "a").status_code == 200
    assert send(sandbox, "b", visibility="private").status_code == 200
    retro = {"postmortem_document_url": "https://docs.example.com/pm/7", "external_id": 7}
    send(sandbox, "c", mode="retrospective", retrospective_incident_options=retro)
    names(sandbox)
    [private] = sandbox.requests(CREATE, body={"visibility": "private"})
    assert private.request_body["name"] == "b"
    nested = {"retrospective_incident_options": {"external_id": 7}}  # a subset of a nested object
    assert [e.request_body["name"] for e in sandbox.requests(body=nested)] == ["c"]
    assert sandbox.count(body={"retrospective_incident_options": {"external_id": 8}}) == 0
    assert sandbox.count(body={"visibility": "public", "name": "a"}) == 1
    assert sandbox.count(body={"visibility": "public", "name": "b"}) == 0, "every key given must match"
    assert sandbox.count(body={"no_such_field": None}) == 0, "a key the body lacks never matches"
    assert sandbox.count(body={}) == 3 and sandbox.count(LIST, body={}) == 0, "{}: any object body"

    def late(entry: JournalEntry) -> bool:
        return entry.sequence >= 2

    assert [e.sequence for e in sandbox.requests(where=late)] == [2, 3, 4]
    assert sandbox.count(CREATE, status=200, where=late, body={"visibility": "private"}) == 1
    found = sandbox.find(where=lambda e: e.method == "GET")
    assert found is not None and found.operation_id == LIST
    assert sandbox.find(CREATE, body={"name": "zzz"}) is None
    [waited] = sandbox.wait_for(CREATE, body={"name": "c"}, timeout=5)
    assert waited.sequence == 3
    with pytest.raises(AssertionError, match=r"a body holding \{'name': 'd'\}.*found 0"):
        sandbox.wait_for(CREATE, body={"name": "d"}, timeout=0.05)
    with pytest.raises(AssertionError, match="where=late"):
        sandbox.wait_for(LIST, where=late, count=2, timeout=0.05)


def test_body_and_where_filters_read_every_page(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    import incident_mock.testing.sync

    monkeypatch.setattr(incident_mock.testing.sync, "PAGE", 2)  # five entries: three pages
    for key in "abcde":
        assert send(sandbox, key).status_code == 200
    assert [e.request_body["name"] for e in sandbox.requests(CREATE)] == list("abcde")
    found = sandbox.find(CREATE, body={"name": "e"})
    assert found is not None and found.sequence == 5
    assert sandbox.find(body={"name": "f"}) is None
    assert sandbox.count(where=lambda e: e.sequence % 2 == 1) == 3


def test_matching_a_journal_entry() -> None:
    def entry(body: object) -> JournalEntry:
        fields = {name: None for name in JournalEntry.__dataclass_fields__}
        return JournalEntry(**{**fields, "operation_id": CREATE, "status": 200, "request_body": body})

    body = {"name": "x", "options": {"a": 1, "b": {"c": [1, 2]}}, "tags": ["p", "q"]}
    assert entry(body).matches(CREATE, 200, body={"options": {"b": {"c": [1, 2]}}})
    assert not entry(body).matches(body={"options": {"b": {"c": [1]}}}), "lists are compared whole"
    assert not entry(body).matches(body={"options": {"a": "1"}})
    assert not entry(body).matches(body={"tags": ["p"]})
    assert not entry("... [truncated: 9000 bytes in all]").matches(body={"name": "x"})
    assert not entry(None).matches(body={})
    assert entry(body).matches(where=lambda e: e.request_body["name"] == "x")
    assert not entry(body).matches(CREATE, 201)


async def test_the_async_journal_takes_the_same_filters(mock: IncidentMock) -> None:
    async with AsyncIncidentMock.connect(mock.url) as amock, amock.sandbox() as sandbox:
        headers = {"Authorization": f"Bearer {sandbox.keys.creator}"}
        async with httpx.AsyncClient(base_url=sandbox.base_url, headers=headers) as http:
            for key, visibility in (("a", "public"), ("b", "private")):
                body = {"idempotency_key": key, "visibility": visibility, "severity_id": MAJOR, "name": key}
                assert (await http.post("/v2/incidents", json=body)).status_code == 200
        [private] = await sandbox.requests(CREATE, body={"visibility": "private"})
        assert private.request_body["name"] == "b"
        assert await sandbox.count(where=lambda e: e.request_body["name"] == "a") == 1
        found = await sandbox.find(CREATE, body={"name": "b"})
        assert found is not None and found.sequence == 2
        [waited] = await sandbox.wait_for(body={"visibility": "public"}, timeout=5)
        assert waited.sequence == 1
        with pytest.raises(ValueError, match="did you mean 'Incidents V2#Create'"):
            await sandbox.count("Incidents V2 #Create")
