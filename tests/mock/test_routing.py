"""Routing through the index (http/connexion_internals.py's IndexedRouter): the same answer as Starlette's
linear router for every contract path and every method, with what a client may put in a path, and a number
of routes tried per request that does not grow with the contract."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Route, Router
from starlette.types import Receive, Scope, Send

from incident_mock.app import create_app
from incident_mock.http.connexion_internals import IndexedRouter, IndexedRouting, QuietSwaggerUI, RouteIndex
from tests.mock.conftest import FULL
from tests.mock.test_dispatch import only

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
VALUES = ("01JGZ0SEV0000000000000MAJ0", "a b", "a/b", "é", "x.y")  # as decoded from the raw path


class Endpoint:
    """An ASGI endpoint that records which route called it and with what path parameters."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["reached"] = (self.name, dict(scope.get("path_params", {})))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def twin_routers(app: Any) -> tuple[IndexedRouter, Router]:
    """The app's own indexed router, and Starlette's linear Router, over copies of the same routes whose
    endpoints record the route they belong to."""
    (mount,) = only(app, IndexedRouting).router.routes
    indexed = mount.app
    assert isinstance(indexed, IndexedRouter)
    copies = [
        Route(r.path, Endpoint(f"{i} {r.path} {sorted(r.methods)}"), methods=r.methods)
        for i, r in enumerate(indexed.routes)
    ]
    assert len(copies) == len(indexed.routes) >= 215
    default = Endpoint("default (no operation)")
    return IndexedRouter(routes=copies, default=default), Router(routes=copies, default=default)


async def answer(router: Router, method: str, path: str, root_path: str = "") -> tuple[Any, ...]:
    """What `router` does with a request: its status, headers, the endpoint it reached and the parameters."""
    scope: dict[str, Any] = {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": root_path,
        "query_string": b"",
        "headers": [(b"host", b"mock")],
        "scheme": "http",
        "server": ("mock", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await router.app(scope, receive, send)
    start = sent[0]
    return start["status"], sorted(start["headers"]), scope.get("reached"), scope.get("path_params")


def paths(spec: dict[str, Any]) -> Iterator[str]:
    """Every contract path with example values, and what a client may make of it."""
    for template in spec["paths"]:
        yield template
        names = template.count("{")
        for value in VALUES:
            filled = template
            for _ in range(names):
                filled = filled[: filled.index("{")] + value + filled[filled.index("}") + 1 :]
            yield filled
            yield filled + "/"
            yield filled + "//"
            yield filled + "/extra"
            yield filled.upper()
            yield "/" + filled
            yield filled.replace("/", "//", 2)
    yield from ("", "/", "//", "/v1", "/v2/", "/v9/incidents", "/v2/nothing", "/v2/incidents/a/b/c/d", "x")
    yield from ("/_mock/health", "/docs", "/docs/", "/openapi.yaml", "/dashboard")


async def build(app: Any) -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
        assert (await client.get("/_mock/health")).status_code == 200
    return app


async def test_every_contract_path_and_method_is_routed_as_starlettes_linear_router_does(
    spec: dict[str, Any],
) -> None:
    indexed, linear = twin_routers(await build(create_app()))
    cases = 0
    kinds: set[int] = set()
    for path, method in itertools.product(paths(spec), METHODS):
        for root_path in ("", "/api") if path.startswith("/v2/incidents") else ("",):
            full = root_path + path
            expected = await answer(linear, method, full, root_path)
            assert await answer(indexed, method, full, root_path) == expected, (method, full)
            kinds.add(expected[0])
            cases += 1
    assert cases > 20_000
    assert kinds == {299, 307, 405}  # routed (or the default, "no operation"), redirected, wrong method


class CountingMatches:
    """Counts Route.matches calls (every route Starlette tries for a request)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = Route.matches

        def matches(route: Route, scope: Scope) -> Any:
            self.calls += 1
            return original(route, scope)

        monkeypatch.setattr(Route, "matches", matches)

    async def tried(self, client: httpx.AsyncClient, method: str, path: str, status: int) -> int:
        self.calls = 0
        response = await client.request(method, path, headers=FULL)
        assert response.status_code == status, response.text
        return self.calls


REQUESTS = [
    ("GET", "/v2/incidents", 200),
    ("POST", "/v2/incidents", 400),
    ("GET", "/v1/severities", 200),
    ("GET", "/v1/severities/nope", 404),
    ("DELETE", "/v2/incidents", 405),
    ("GET", "/v2/incidents/", 307),
    ("GET", "/v2/nothing", 404),
]


def wide_contract(folder: Path) -> tuple[Path, int]:
    """The bench's wide contract: openapi.yaml and 36 synthetic resources, 180 more operations."""
    sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
    try:
        import wide_contract  # the bench's module
    finally:
        sys.path.pop(0)
    out = folder / "wide.yaml"
    return out, wide_contract.write(out)


async def test_the_routes_tried_for_a_request_do_not_grow_with_the_contract(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    wide, operations = wide_contract(tmp_path)
    assert operations >= 390
    counts = []
    for app in (create_app(), create_app(spec_file=wide)):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://mock"
        ) as client:
            counter = CountingMatches(monkeypatch)
            counts.append([await counter.tried(client, m, p, s) for m, p, s in REQUESTS])
            monkeypatch.undo()
    normal, grown = counts
    assert normal == grown
    # the incident list tries one route, the routes under /v2/incidents at most; a linear router tried
    # 28 of the 215 before the list's
    assert normal[0] == 1 and max(normal) <= 8, normal


def candidates(router: IndexedRouter, path: str) -> list[str]:
    return [route.path for route in router.index().for_path(path) if isinstance(route, Route)]


def test_the_index_tries_the_routes_of_the_requests_resource_only() -> None:
    def router(resources: int) -> IndexedRouter:
        routes = []
        for i in range(resources):
            routes += [Route(f"/v1/things{i}", Endpoint("list"), methods=["GET", "POST"])]
            routes += [Route(f"/v1/things{i}/{{id}}", Endpoint("one"), methods=["GET", "DELETE"])]
        routes.append(Route("/{anything}/x", Endpoint("anywhere"), methods=["GET"]))
        return IndexedRouter(routes=routes)

    small, large = router(3), router(3000)
    for path in ("/v1/things2", "/v1/things2/abc", "/v1/things2/", "/v9/x", "/v1/nothing"):
        assert candidates(small, path) == candidates(large, path)
        assert len(candidates(small, path)) <= 3
    assert candidates(large, "/v1/things2/abc") == ["/v1/things2", "/v1/things2/{id}", "/{anything}/x"]
    assert candidates(large, "/v9/x") == ["/{anything}/x"]


def test_a_route_added_after_the_first_request_is_indexed() -> None:
    router = IndexedRouter(routes=[Route("/v1/a", Endpoint("a"))])
    assert router.index().size == 1
    router.routes.append(Route("/v1/b", Endpoint("b")))
    assert candidates(router, "/v1/b") == ["/v1/b"]


def test_a_route_with_a_parameter_first_is_a_candidate_for_every_path() -> None:
    assert RouteIndex.literal_prefix(Route("/{version}/incidents", Endpoint("x"))) == ()
    assert RouteIndex.literal_prefix(Route("/v2/incidents.{format}", Endpoint("x"))) == ("v2",)
    assert RouteIndex.literal_prefix(Route("/v2/incidents/{id}", Endpoint("x"))) == ("v2", "incidents")


async def test_the_app_answers_misses_in_the_contracts_shape(client: httpx.AsyncClient) -> None:
    wrong_method = await client.delete("/v2/incidents", headers=FULL)
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "GET, POST"
    assert wrong_method.json()["type"] == "method_not_allowed"
    for missing in ("/v2/nothing", "/v1/severities/a%2Fb", "/v9/incidents"):
        answer = await client.get(missing, headers=FULL)
        assert answer.status_code == 404 and answer.json()["type"] == "not_found", missing
    slash = await client.get("/v2/incidents/", headers=FULL)
    assert slash.status_code == 307 and slash.headers["location"].endswith("/v2/incidents")
    spaced = await client.get("/v1/severities/a%20b", headers=FULL)
    assert spaced.status_code == 404 and "'a b'" in spaced.json()["errors"][0]["message"]
    assert (await client.get("/_mock/health")).status_code == 200
    assert (await client.get("/docs", headers=FULL)).status_code == 307


async def test_an_api_added_on_the_same_base_path_is_chained_behind_the_first_and_indexed() -> None:
    from connexion.resolver import Resolver
    from connexion.spec import Specification

    def spec(path: str) -> Specification:
        operation = {"operationId": path, "responses": {"200": {"description": "ok"}}}
        info = {"title": path, "version": "1"}
        return Specification.from_dict(
            {"openapi": "3.0.3", "info": info, "paths": {path: {"get": operation}}}
        )

    seen: list[Scope] = []

    async def terminal(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        pass

    routing = IndexedRouting(terminal)
    resolver = Resolver(function_resolver=lambda _: lambda: None)
    for path in ("/v1/first", "/v1/second"):
        routing.add_api(spec(path), base_path="/api", resolver=resolver)
    first, second = (route.app for route in routing.router.routes)
    assert isinstance(first, IndexedRouter) and isinstance(second, IndexedRouter) and first.default is second
    for path, operation in [
        ("/api/v1/first", "/v1/first"),
        ("/api/v1/second", "/v1/second"),
        ("/api/v1/x", None),
    ]:
        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "root_path": "",
            "query_string": b"",
            "headers": [],
        }
        await routing(scope, receive, send)
        assert seen[-1]["extensions"]["connexion_routing"]["operation_id"] == operation, path


async def test_the_swagger_ui_stage_passes_a_copy_of_the_scope_on_while_it_serves_nothing() -> None:
    from connexion.options import SwaggerUIOptions
    from connexion.spec import Specification

    spec = Specification.from_dict({"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}})
    seen: list[Scope] = []

    async def terminal(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        pass

    quiet, serving = QuietSwaggerUI(terminal), QuietSwaggerUI(terminal)
    quiet.add_api(spec, swagger_ui_options=SwaggerUIOptions(swagger_ui=False, serve_spec=False))
    serving.add_api(spec, swagger_ui_options=SwaggerUIOptions(swagger_ui=False, serve_spec=True))
    assert not quiet.serves and serving.serves
    scope = {"type": "http", "method": "GET", "path": "/openapi.json", "root_path": "", "headers": []}
    await quiet(scope, receive, send)
    assert seen[-1] == scope and seen[-1] is not scope
    await serving(dict(scope), receive, send)  # Connexion's stage answers the contract itself
    assert len(seen) == 1


async def test_the_app_routes_through_the_quiet_swagger_ui_stage_and_the_index(app: Any, client: Any) -> None:
    assert (await client.get("/v1/severities", headers=FULL)).status_code == 200
    assert only(app, QuietSwaggerUI).serves is False
    assert isinstance(only(app, IndexedRouting).router.routes[0].app, IndexedRouter)
