"""dispatch.py: the handler Dispatch calls is the very function Connexion resolved, for every operation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from connexion.apps.asynchronous import AsyncASGIApp

from incident_contract.operations import operations
from incident_mock.engine.context import Ctx
from incident_mock.http.dispatch import Dispatch, HandlerResolver, plan
from incident_mock.resources.organisation import HANDLERS
from tests.mock.conftest import FULL


def stack(app: Any) -> list[Any]:
    """Connexion's built middleware stack, outermost first (built by the first request)."""
    built = app.middleware.middleware_stack
    assert built is not None
    return list(built)


def only(app: Any, kind: type) -> Any:
    found = [layer for layer in stack(app) if isinstance(layer, kind)]
    assert len(found) == 1, kind
    return found[0]


async def test_dispatch_calls_the_functions_connexion_resolved(
    app: Any, client: httpx.AsyncClient, spec: dict[str, Any]
) -> None:
    assert (await client.get("/v1/severities", headers=FULL)).status_code == 200
    terminal = only(app, AsyncASGIApp)  # Connexion's own app, which would call the handler without Dispatch
    connexion_fns = {
        opid: operation.__wrapped__
        for apis in terminal.apis.values()
        for api in apis
        for opid, operation in api.operations.items()
    }
    dispatch = only(app, Dispatch)
    assert set(connexion_fns) == set(operations(spec)) == set(HANDLERS)
    for opid, fn in connexion_fns.items():
        found = dispatch.plan_for(opid)
        assert found is not None, opid
        assert found.handler is fn is HANDLERS[opid] is app.resolver.resolved[opid], opid


def test_the_resolver_refuses_an_operation_without_a_handler() -> None:
    resolver = HandlerResolver({"Known#Op": HANDLERS["Severities V1#List"]})
    assert resolver.lookup("Known#Op") is HANDLERS["Severities V1#List"]
    with pytest.raises(KeyError, match="Unknown#Op"):
        resolver.lookup("Unknown#Op")
    assert set(resolver.resolved) == {"Known#Op"}


def test_a_plan_takes_path_query_and_body_arguments_by_name(spec: dict[str, Any]) -> None:
    options = plan(spec, "Custom Field Options V1#List", HANDLERS["Custom Field Options V1#List"])
    assert options.path == ()
    assert dict(options.query) == {"custom_field_id": None, "page_size": 25, "after": None}
    assert not options.body
    update = plan(spec, "Severities V1#Update", HANDLERS["Severities V1#Update"])
    assert (update.path, update.query, update.body) == (("id",), (), True)


def test_every_plain_list_parameter_has_a_default_for_the_handler(spec: dict[str, Any]) -> None:
    listing = dict(plan(spec, "Incidents V2#List", HANDLERS["Incidents V2#List"]).query)
    assert listing["page_size"] == 25 and listing["sort_by"] and listing["filter_mode"]


def test_handlers_take_ctx_first() -> None:
    import inspect

    for opid, handler in HANDLERS.items():
        first = next(iter(inspect.signature(handler).parameters.values()))
        assert first.name == "ctx" and first.annotation in (Ctx, "Ctx"), opid


async def test_the_list_reads_the_query_as_the_validator_split_it(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The query string of GET /v2/incidents is split once, by the validator, and its filters still apply."""
    import incident_contract.query as grammar
    from incident_mock.http import validation

    calls: list[str] = []
    original = grammar.split

    def counting(raw: str, limit: int | None = None) -> list[tuple[str, str]]:
        calls.append(raw)
        return original(raw, limit)

    monkeypatch.setattr(grammar, "split", counting)
    monkeypatch.setattr(validation, "split", counting)
    query = "page_size=5&severity[one_of]=no-such-severity"
    answer = await client.get(f"/v2/incidents?{query}", headers=FULL)
    assert answer.status_code == 422 and answer.json()["errors"][0]["source"]["field"] == "severity"
    assert calls == [query]
