"""The private parts of pinned libraries the mock relies on still have the shape it uses.

http/connexion_internals.py (connexion, and the router of starlette) and http/transport.py (uvicorn) are the only modules that reach
into them; an upgrade that changes them fails here, naming the version they were written against."""

from __future__ import annotations

import inspect
from importlib.metadata import version

import uvicorn
from connexion.validators import JSONRequestBodyValidator, ParameterValidator
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle

from incident_mock.http.connexion_internals import PINNED, ROUTING_KEY, STARLETTE, routed_operation

UVICORN = "uvicorn==0.54.0"


def test_the_pins_are_the_versions_installed() -> None:
    assert f"connexion=={version('connexion')}" == PINNED, f"connexion_internals.py is written for {PINNED}"
    assert f"starlette=={version('starlette')}" == STARLETTE, (
        f"IndexedRouter repeats {STARLETTE}'s Router.app"
    )
    assert f"uvicorn=={version('uvicorn')}" == UVICORN, f"transport.py is written for {UVICORN}"


def test_connexion_body_validator_hooks() -> None:
    why = f"http/connexion_internals.py overrides these of JSONRequestBodyValidator ({PINNED})"
    assert list(inspect.signature(JSONRequestBodyValidator._parse).parameters) == [
        "self",
        "stream",
        "scope",
    ], why
    assert list(inspect.signature(JSONRequestBodyValidator._validate).parameters) == ["self", "body"], why
    assert isinstance(inspect.getattr_static(JSONRequestBodyValidator, "_validator"), property), why
    assert "self._schema" in inspect.getsource(JSONRequestBodyValidator), why


def test_connexion_parameter_validator_hooks() -> None:
    why = f"http/connexion_internals.py replaces ParameterValidator's constructor and validate ({PINNED})"
    assert list(inspect.signature(ParameterValidator.__init__).parameters)[:2] == ["self", "parameters"], why
    assert list(inspect.signature(ParameterValidator.validate).parameters) == ["self", "scope"], why


def test_connexion_routing_key() -> None:
    why = f"RouteNote reads the operation from scope['extensions'][{ROUTING_KEY!r}] ({PINNED})"
    from connexion.middleware import routing

    assert ROUTING_KEY in inspect.getsource(routing), why
    assert "operation_id" in inspect.getsource(routing), why
    assert routed_operation({"extensions": {ROUTING_KEY: {"operation_id": "A#B"}}}) == "A#B"


def test_uvicorn_protocol_hooks() -> None:
    why = f"http/transport.py subclasses HttpToolsProtocol and uvicorn.Server ({UVICORN})"
    for name in ("data_received", "connection_made", "connection_lost", "on_message_begin",
                 "on_headers_complete", "on_message_complete", "send_400_response"):  # fmt: skip
        assert callable(getattr(HttpToolsProtocol, name, None)), f"{name}: {why}"
    for name in ("disconnected", "response_complete", "response_started", "scope"):
        assert name in inspect.getsource(RequestResponseCycle.__init__), f"{name}: {why}"
    for name in ("cycle", "pipeline", "server_state", "connections", "timeout_keep_alive"):
        assert f"self.{name}" in inspect.getsource(HttpToolsProtocol.__init__), f"{name}: {why}"
    assert 408 in STATUS_LINE and 431 in STATUS_LINE, why
    assert "_captured_signals" in inspect.getsource(uvicorn.Server.capture_signals), why
    assert "force_exit" in inspect.getsource(uvicorn.Server.shutdown), why


def test_starlette_router_steps_and_connexion_routing_stage() -> None:
    why = f"IndexedRouter repeats Router.app ({STARLETTE}) and replaces Connexion's router ({PINNED})"
    from connexion.middleware import routing
    from connexion.middleware.main import ConnexionMiddleware
    from starlette.routing import Router

    steps = inspect.getsource(Router.app)
    for step in ("for route in self.routes:", "route.matches(scope)", "Match.PARTIAL and partial is None",
                 "partial.handle(", "self.redirect_slashes and route_path != \"/\"", ".rstrip(\"/\")",
                 "RedirectResponse(url=str(redirect_url))", "await self.default(scope, receive, send)"):  # fmt: skip
        assert step in steps, f"{step}: {why}"
    assert routing.RoutingMiddleware in ConnexionMiddleware.default_middlewares, why
    assert "self.router.mount(api.base_path, app=api.router)" in inspect.getsource(routing), why
    assert "self.router = Router(default=" in inspect.getsource(routing.RoutingAPI), why


def test_connexion_swagger_ui_stage_hands_on_a_copy_of_the_scope() -> None:
    why = f"QuietSwaggerUI hands the next stage a copy of the scope, as SwaggerUIMiddleware does ({PINNED})"
    from connexion.middleware.main import ConnexionMiddleware
    from connexion.middleware.swagger_ui import SwaggerUIMiddleware

    assert "_original_scope.set(scope.copy())" in inspect.getsource(SwaggerUIMiddleware.__call__), why
    assert "await self.app(original_scope, receive, send)" in inspect.getsource(
        SwaggerUIMiddleware.default_fn
    ), why
    assert SwaggerUIMiddleware in ConnexionMiddleware.default_middlewares, why
