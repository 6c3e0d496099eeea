"""Every operation of the contract through the official SDK's own endpoint function, over real sockets.

Generated from the contract: for each operation the test finds the SDK function with the same method and
path, fills it from the contract's own examples (each path and required query parameter's `example`, the
request body's `example`, parsed into the SDK's body model) and calls it with `mock-key-full` in a fresh
sandbox of the live mock (which validates its own answers against the contract). The answer must have the
documented success status and parse into the SDK's typed model. The contract's examples name objects of
the packaged fixtures, so this is also the proof that every documented example works against a fresh mock.
"""

from __future__ import annotations

import datetime as dt
import enum
import importlib
import inspect
import pkgutil
import typing
from collections.abc import Iterator
from contextlib import nullcontext
from types import ModuleType
from typing import Any

import httpx
import incident_io.api
import pytest
from incident_io import AuthenticatedClient
from incident_io.models import ErrorResponse

from incident_contract.document import load_spec
from incident_contract.operations import Operation, operations
from incident_mock.testing.sync import IncidentMock

Json = dict[str, Any]


class _Body:
    """Stands in for a body model while reading an SDK function's method and path."""

    def to_dict(self) -> Json:
        return {}


def _endpoints() -> dict[tuple[str, str], ModuleType]:
    """(METHOD, path template) -> the SDK's endpoint module, for every endpoint function of the SDK."""
    found: dict[tuple[str, str], ModuleType] = {}
    for group in pkgutil.iter_modules(incident_io.api.__path__):
        package = importlib.import_module(f"incident_io.api.{group.name}")
        for item in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{item.name}")
            params = inspect.signature(module._get_kwargs).parameters
            hints = typing.get_type_hints(module._get_kwargs)
            args: Json = {}
            for name, param in params.items():
                if param.default is inspect.Parameter.empty:
                    args[name] = _Body() if name == "body" else _placeholder(name, hints.get(name))
            kwargs = module._get_kwargs(**args)
            url = str(kwargs["url"])
            for name in args:
                url = url.replace(f"PATH{name}PATH", "{" + name + "}")
            found[(str(kwargs["method"]).upper(), url)] = module
    return found


def _placeholder(name: str, hint: Any) -> Any:
    """A value of the parameter's type; a string one is marked, to find it in the path."""
    for kind in typing.get_args(hint) or (hint,):
        if kind is dt.datetime:
            return dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        if inspect.isclass(kind) and issubclass(kind, enum.Enum):
            return next(iter(kind))
        if kind in (int, float):
            return 1
        if kind is bool:
            return False
    return f"PATH{name}PATH"


ENDPOINTS = _endpoints()
OPERATIONS = operations(load_spec())
# operations whose answer the SDK cannot parse, whatever the server sends: the SDK function is called for
# the request it makes, and the answer is checked without its parser
SDK_DEPRECATES = {
    f"{family} V2#{verb}"
    for family in ("Actions", "Follow-ups")
    for verb in ("List", "Create", "Show", "Update", "Delete")
} | {"Follow-ups V2#ConnectExternalIssue"}
SDK_CANNOT_PARSE = {
    # its parser wraps response.json() in BytesIO, which raises TypeError for every JSON document
    "Utilities V1#OpenAPIV3",
}


def _example(op: Operation, name: str) -> Any:
    param = op.parameter(name)
    if "example" in param:
        return param["example"]
    return param.get("schema", {}).get("example")


def _value(hint: Any, value: Any) -> Any:
    """A parameter value as the SDK function takes it: an enum member, a model, or as it is."""
    for kind in typing.get_args(hint) or (hint,):
        if kind is dt.datetime and isinstance(value, str):
            return dt.datetime.fromisoformat(value)
        if inspect.isclass(kind) and issubclass(kind, enum.Enum):
            return kind(value)
        if inspect.isclass(kind) and hasattr(kind, "from_dict") and isinstance(value, dict):
            return kind.from_dict(value)
    return value


def _arguments(op: Operation, module: ModuleType) -> Json:
    hints = typing.get_type_hints(module._get_kwargs)
    params = inspect.signature(module._get_kwargs).parameters
    args: Json = {}
    for name, param in params.items():
        if name == "body":
            args["body"] = _value(
                hints["body"], op.raw["requestBody"]["content"]["application/json"]["example"]
            )
        elif param.default is inspect.Parameter.empty or op.parameter(name).get("required"):
            args[name] = _value(hints.get(name), _example(op, name))
    return args


def _source_token(op: Operation, base_url: str, key: str, args: Json) -> None:
    """An operation authenticated by an alert source's token (not an API key) gets that source's token, as
    the sandbox answers it, in its `token` parameter."""
    if not any("alertSourceToken" in s for s in op.raw.get("security", [])):
        return
    source_id = args["alert_source_config_id"]
    shown = httpx.get(f"{base_url}/v2/alert_sources/{source_id}", headers={"Authorization": f"Bearer {key}"})
    args["token"] = shown.json()["alert_source"]["secret_token"]


@pytest.fixture(scope="module")
def mock(live_server: str) -> Iterator[IncidentMock]:
    with IncidentMock.connect(live_server) as connected:
        yield connected


def test_every_operation_has_an_sdk_endpoint_function() -> None:
    """The contract's operations are the SDK's: same method and path, so a real client reaches each one."""
    missing = [op.id for op in OPERATIONS.values() if (op.method, op.path) not in ENDPOINTS]
    assert missing == []


@pytest.mark.parametrize("opid", sorted(OPERATIONS))
def test_the_sdk_function_gets_the_documented_success_and_parses_it(mock: IncidentMock, opid: str) -> None:
    op = OPERATIONS[opid]
    module = ENDPOINTS[(op.method, op.path)]
    # the SDK warns on every call of an operation the published API deprecates (Incidents V1 ...), and on
    # some the published document does not (Actions V2, Follow-ups V2, which the SDK's v3 replaces)
    warned = (
        pytest.warns(DeprecationWarning, match="deprecated")
        if op.raw.get("deprecated") or opid in SDK_DEPRECATES
        else nullcontext()
    )
    with mock.sandbox() as sandbox:
        client = AuthenticatedClient(base_url=sandbox.base_url, token=sandbox.keys.full)
        args = _arguments(op, module)
        _source_token(op, sandbox.base_url, sandbox.keys.full, args)
        with client, warned:
            if opid in SDK_CANNOT_PARSE:
                raw = client.get_httpx_client().request(**module._get_kwargs(**args))
                assert raw.status_code == int(op.success_status), raw.content[:500]
                assert isinstance(raw.json(), dict)
                return
            response = module.sync_detailed(client=client, **args)
    assert response.status_code == int(op.success_status), response.content[:500]
    if response.content:
        assert response.parsed is not None and not isinstance(response.parsed, ErrorResponse)
