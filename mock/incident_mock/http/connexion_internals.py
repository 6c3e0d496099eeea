"""The one module that relies on Connexion's internals (connexion is pinned exactly, 3.3.0).

- `routed_operation`: the operation Connexion's router chose, read from its private scope key
  (`scope["extensions"]["connexion_routing"]`); `RouteNote`, a stage just inside the router, copies it
  into the request state, so no other stage reads Connexion's key;
- `BodyValidator`: Connexion's JSON body validator with its private `_parse`, `_validate` and
  `_validator` replaced by http/validation.py's parsing and checking;
- `QueryValidator`: Connexion's parameter validator with its constructor and `validate` replaced by
  http/validation.py's query check, its plan built once per operation;
- `trusted_contract`: while it is open, Connexion loads a document without checking it against the
  OpenAPI meta-schema (its `Specification._validate_spec`), 1.5 of the 2.5 s a start took with the whole
  contract. The packaged contract is checked by the test suite (tests/contract/test_document.py), so
  app.py trusts it; a contract given with `spec_file` is still checked;
- `IndexedRouting`: Connexion's routing stage with each API's Starlette router replaced by an
  `IndexedRouter`, which tries only the routes whose leading literal path segments are the request's
  (`RouteIndex`), in their order, instead of every route one after another. What it answers is Starlette's
  (`Router.app`, whose steps it repeats: first full match, else the first route with the path but not the
  method (405), else the 307 to the path with its trailing slash toggled, else the default, Connexion's
  "no operation");
- `QuietSwaggerUI`: Connexion's Swagger UI stage, which, when it serves nothing (app.py turns its UI and
  its copy of the contract off: the control stage serves the docs), still sends every request through two
  empty routers to call the next stage with a copy of the request's scope; this one makes that copy and
  calls the next stage directly.

tests/mock/test_pinned_internals.py checks that each of these still has the shape used here, and
fails naming the pinned version if an upgrade changed it.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncGenerator, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from connexion.json_schema import Draft4RequestValidator
from connexion.middleware.main import ConnexionMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.spec import Specification
from connexion.validators import JSONRequestBodyValidator, ParameterValidator
from starlette._utils import get_route_path
from starlette.datastructures import URL
from starlette.responses import RedirectResponse
from starlette.routing import PARAM_REGEX, BaseRoute, Match, Mount, Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from incident_contract.document import Spec
from incident_contract.facts import max_query_parameters
from incident_mock.domain.problems import FORMATS
from incident_mock.http.validation import QueryPlan, check_body, check_query, parse_body
from incident_mock.wire.request_state import request_state

__all__ = [
    "PINNED",
    "ROUTING_KEY",
    "STARLETTE",
    "BodyValidator",
    "IndexedRouter",
    "IndexedRouting",
    "QueryValidator",
    "QuietSwaggerUI",
    "RouteIndex",
    "RouteNote",
    "connexion_middlewares",
    "routed_operation",
    "trusted_contract",
]

PINNED = "connexion==3.3.0"
STARLETTE = "starlette==1.10.0"  # IndexedRouter repeats its Router.app
ROUTING_KEY = "connexion_routing"  # where Connexion's router leaves what it matched, in scope["extensions"]

Json = dict[str, Any]
_TRUST = threading.Lock()


@contextmanager
def trusted_contract() -> Iterator[None]:
    """Connexion loads documents unchecked against the OpenAPI meta-schema while this is open."""
    with _TRUST:
        checked = Specification.__dict__["_validate_spec"]
        Specification._validate_spec = classmethod(lambda cls, spec: None)
        try:
            yield
        finally:
            Specification._validate_spec = checked


def routed_operation(scope: Scope) -> str | None:
    """The operationId Connexion's router matched for this request, if any."""
    routing = scope.get("extensions", {}).get(ROUTING_KEY)
    found = routing.get("operation_id") if isinstance(routing, dict) else None
    return found if isinstance(found, str) else None


class RouteNote:
    """Just inside Connexion's router: the operation it matched goes into the request state."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request_state(scope).operation_id = routed_operation(scope)
        await self.app(scope, receive, send)


class BodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
    """JSON request bodies: 400 when unreadable, 422 per invalid field (a bounded number of them)."""

    @property
    def _validator(self) -> Any:
        return Draft4RequestValidator(self._schema, format_checker=FORMATS)

    async def _parse(self, stream: AsyncGenerator[bytes, None], scope: Scope) -> Any:
        body = parse_body(b"".join([chunk async for chunk in stream]))
        request_state(scope).body = body  # what Dispatch hands the handler, once _validate has passed it
        return body

    def _validate(self, body: Any) -> Json | None:
        check_body(self._schema, body)
        return None


class QueryValidator(ParameterValidator):  # type: ignore[misc]
    """Parameters, checked by http/validation.py's `check_query`. `bound(spec)` is this validator with
    the contract's cap on the number of query parameters.

    Connexion builds this validator for every request, handing it the operation's own parameter list (the
    same list each time); what the checks need of that list is built once per operation (`QueryPlan`) and
    kept by the bound class, so it lives as long as the app."""

    max_pairs: int | None = None
    plans: ClassVar[dict[int, tuple[list[Json], QueryPlan]]] = {}

    @classmethod
    def bound(cls, spec: Spec) -> type[QueryValidator]:
        """This validator, refusing more query parameters than the contract's `x-max-query-parameters`."""
        return type(cls.__name__, (cls,), {"max_pairs": max_query_parameters(spec), "plans": {}})

    def __init__(self, parameters: list[Json], *_: Any, **__: Any) -> None:
        # Connexion's own __init__ only regroups the parameters, which QueryPlan has done once already.
        hit = self.plans.get(id(parameters))
        if hit is None or hit[0] is not parameters:
            hit = self.plans[id(parameters)] = (parameters, QueryPlan.of(parameters))
        self.plan = hit[1]

    def validate(self, scope: Scope) -> None:
        check_query(self.plan, scope, request_state(scope), self.max_pairs)


class RouteIndex:
    """A router's routes by their leading literal path segments (up to `DEPTH` of them).

    A `Route` whose path begins `/v2/incidents/` (or is `/v2/incidents`) can only match a path whose first
    two segments are `v2` and `incidents`: Starlette matches a path's literal text exactly and a parameter
    only where it stands. So a path's candidates are the routes filed under its own first segments and
    under each shorter prefix of them (routes with a parameter among their first segments, short paths,
    and every route that is not a plain `Route`, filed under no segment at all), in the router's order.
    Every candidate list is built here, from the routes alone, so what a client sends adds none."""

    DEPTH = 2

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self.size = len(routes)
        filed: dict[tuple[str, ...], list[int]] = {(): []}
        for position, route in enumerate(routes):
            key = self.literal_prefix(route)
            for length in range(len(key) + 1):
                filed.setdefault(key[:length], [])
            filed[key].append(position)
        self.candidates: dict[tuple[str, ...], list[BaseRoute]] = {}
        for key in filed:
            positions = sorted(p for length in range(len(key) + 1) for p in filed[key[:length]])
            self.candidates[key] = [routes[p] for p in positions]

    @classmethod
    def literal_prefix(cls, route: BaseRoute) -> tuple[str, ...]:
        """The segments a route's path starts with, up to DEPTH, before the first holding a parameter."""
        if type(route) is not Route:  # a Mount, a Host, a subclass: tried for every path
            return ()
        literal: list[str] = []
        for segment in route.path.split("/")[1 : cls.DEPTH + 1]:
            if PARAM_REGEX.search(segment):
                break
            literal.append(segment)
        return tuple(literal)

    def for_path(self, route_path: str) -> list[BaseRoute]:
        """The routes that may match `route_path`, in the router's order."""
        segments = tuple(route_path.split("/", self.DEPTH + 1)[1 : self.DEPTH + 1])
        for length in range(len(segments), 0, -1):
            found = self.candidates.get(segments[:length])
            if found is not None:
                return found
        return self.candidates[()]


class IndexedRouter(Router):
    """Starlette's Router, matching a request against its `RouteIndex` candidates only."""

    _index: RouteIndex | None = None

    @classmethod
    def replacing(cls, router: Router) -> IndexedRouter:
        """A router with `router`'s routes, default and trailing-slash redirects."""
        return cls(routes=router.routes, redirect_slashes=router.redirect_slashes, default=router.default)

    def index(self) -> RouteIndex:
        """The index of the routes, rebuilt when routes were added since it was built."""
        if self._index is None or self._index.size != len(self.routes):
            self._index = RouteIndex(self.routes)
        return self._index

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = self
        index = self.index()
        route_path = get_route_path(scope)
        partial: BaseRoute | None = None
        partial_scope: Scope = {}
        for route in index.for_path(route_path):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL and partial is None:
                partial, partial_scope = route, child_scope
        if partial is not None:  # the path is routed, the method is not: the route answers 405
            scope["route"] = partial
            scope.update(partial_scope)
            await partial.handle(scope, receive, send)
            return
        if self.redirect_slashes and route_path != "/":
            redirect_scope = dict(scope)
            if route_path.endswith("/"):
                redirect_scope["path"] = redirect_scope["path"].rstrip("/")
            else:
                redirect_scope["path"] = redirect_scope["path"] + "/"
            for route in index.for_path(get_route_path(redirect_scope)):
                match, _ = route.matches(redirect_scope)
                if match is not Match.NONE:
                    await RedirectResponse(url=str(URL(scope=redirect_scope)))(scope, receive, send)
                    return
        await self.default(scope, receive, send)


class IndexedRouting(RoutingMiddleware):  # type: ignore[misc]
    """Connexion's routing stage, each API it mounts routed by an `IndexedRouter`."""

    def add_api(self, *args: Any, **kwargs: Any) -> None:
        super().add_api(*args, **kwargs)
        replaced: list[tuple[Router, IndexedRouter]] = []
        for position, route in enumerate(self.router.routes):
            if isinstance(route, Mount) and type(route.app) is Router:
                replaced.append((route.app, IndexedRouter.replacing(route.app)))
                self.router.routes[position] = Mount(route.path, app=replaced[-1][1], name=route.name)
        for route in self.router.routes:  # an API chained behind another one on the same base path
            if isinstance(route, Mount) and isinstance(route.app, Router):
                for raw, indexed in replaced:
                    if route.app.default is raw:
                        route.app.default = indexed


class QuietSwaggerUI(SwaggerUIMiddleware):  # type: ignore[misc]
    """Connexion's Swagger UI stage, passing requests straight on while none of its APIs serves a path."""

    serves = False

    def add_api(self, *args: Any, **kwargs: Any) -> None:
        super().add_api(*args, **kwargs)
        self.serves = any(not isinstance(r, Mount) or r.routes for r in self.router.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.serves:
            await super().__call__(scope, receive, send)
            return
        await self.app(dict(scope), receive, send)  # what its router's default is handed: a copy


def connexion_middlewares() -> list[Any]:
    """Connexion's stages, with `QuietSwaggerUI` and `IndexedRouting` in place of its Swagger UI and
    routing stages (so a stage added at MiddlewarePosition.BEFORE_SWAGGER or BEFORE_ROUTING, which name
    Connexion's classes, finds none)."""
    ours = {SwaggerUIMiddleware: QuietSwaggerUI, RoutingMiddleware: IndexedRouting}
    return [ours.get(m, m) for m in ConnexionMiddleware.default_middlewares]
