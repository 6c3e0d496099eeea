"""create_app(): Connexion serves openapi.yaml over a fresh in-memory store.

The spec owns routing, validation and the security wiring; this module plugs in our pieces: the
resolver table, the structured validators, the middleware, and one error path for every layer.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import connexion
import yaml
from connexion.datastructures import MediaTypeDict
from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from connexion.security import AbstractSecurityHandler
from incident_contract.document import HTTP_METHODS, Spec, load_spec, spec_path
from starlette.exceptions import HTTPException

from incident_mock.auth import Policy
from incident_mock.dispatch import Dispatch
from incident_mock.errors import ApiError, BadRequest, Internal, MethodNotAllowed, NotFound, error_body
from incident_mock.handlers import HANDLERS
from incident_mock.middleware import STATE, Envelope, Gate
from incident_mock.store import Store
from incident_mock.validation import BodyValidator, QueryValidator

from . import control, errors

__all__ = ["DEFAULT_FIXTURES", "StoreHolder", "create_app"]

log = logging.getLogger("incident_mock")
DEFAULT_FIXTURES = Path(__file__).with_name("fixtures.yaml")


class StoreHolder:
    """The app's current store; `reset()` swaps in a fresh one built from the fixtures."""

    def __init__(self, fixtures: Path) -> None:
        self.fixtures = fixtures
        self.store = self.build()

    def build(self) -> Store:
        with open(self.fixtures, encoding="utf-8") as fh:
            return Store(yaml.safe_load(fh))

    def reset(self) -> None:
        self.store = self.build()


def unreachable(**_: Any) -> Any:
    """What Connexion resolves every operationId to. Requests never get here: `Dispatch` answers
    every routed operation before Connexion's terminal app runs (see mock/dispatch.py)."""
    raise Internal(errors.INTERNAL)


class TableResolver(Resolver):  # type: ignore[misc]
    """Connexion needs a callable per operationId; refuse to start if the table lacks one."""

    def resolve_function_from_operation_id(self, operation_id: str) -> Callable[..., Any]:
        if operation_id not in HANDLERS:
            raise KeyError(f"no handler for {operation_id!r} in mock.handlers.HANDLERS")
        return unreachable


class TrustGate(AbstractSecurityHandler):  # type: ignore[misc]
    """Connexion's bearer check, satisfied by the caller that `Gate` already authenticated."""

    def get_fn(self, security_scheme: Any, required_scopes: Any) -> Callable[..., Any]:
        async def verify(request: ConnexionRequest) -> dict[str, Any]:
            caller = request.scope["extensions"][STATE]["caller"]
            return {"sub": caller.key.name, "caller": caller}

        return verify


def _allowed(spec: Spec, path: str) -> str | None:
    for template, item in spec["paths"].items():
        if re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", template), path):
            return ", ".join(m.upper() for m in HTTP_METHODS if m in item)
    return None


def _as_api_error(exc: Exception, request: ConnexionRequest, spec: Spec) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, HTTPException) and exc.status_code == 405:
        allowed = _allowed(spec, request.url.path) or ""
        message = errors.METHOD.format(method=request.method, path=request.url.path, allowed=allowed)
        return MethodNotAllowed(message, headers={"Allow": allowed})
    if isinstance(exc, HTTPException) and exc.status_code == 404:
        return NotFound(errors.NO_ROUTE.format(path=request.url.path))
    if isinstance(exc, HTTPException) and exc.status_code == 400:  # e.g. a multipart body without boundary
        return BadRequest(str(exc.detail))
    if isinstance(exc, ProblemException) and exc.status == 415:
        return BadRequest(errors.BAD_CONTENT_TYPE, code="invalid_content_type")
    if isinstance(exc, ProblemException) and 400 <= exc.status < 500:
        return BadRequest(str(exc.detail or exc.title))
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return Internal(errors.INTERNAL)


def create_app(
    fixtures: Path | None = None,
    *,
    validate_responses: bool = False,
    rate_limit: int | None = None,
    spec_file: Path | None = None,
) -> connexion.AsyncApp:
    spec = load_spec(spec_file)
    holder = StoreHolder(fixtures or DEFAULT_FIXTURES)
    app = connexion.AsyncApp(
        "incident_mock",
        security_map={"bearer": TrustGate},
        # mock/control.py serves the docs and the contract; Connexion's own copies would put a router
        # in front of every request.
        swagger_ui_options=SwaggerUIOptions(swagger_ui=False, serve_spec=False),
    )
    app.add_api(
        spec_file or spec_path(),
        resolver=TableResolver(),
        strict_validation=True,
        validate_responses=validate_responses,
        validator_map={"body": MediaTypeDict({"*/*json": BodyValidator}), "parameter": QueryValidator},
    )
    gate = {"policy": Policy(spec), "store": lambda: holder.store, "rate_limit": rate_limit}
    app.add_middleware(Gate, MiddlewarePosition.BEFORE_SECURITY, **gate)
    app.add_middleware(Dispatch, MiddlewarePosition.BEFORE_CONTEXT, store=lambda: holder.store, spec=spec)
    # Same position: the one added first ends up outermost.
    app.add_middleware(Envelope, MiddlewarePosition.BEFORE_EXCEPTION)
    app.add_middleware(control.Control, MiddlewarePosition.BEFORE_EXCEPTION, holder=holder, spec=spec)

    def on_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        err = _as_api_error(exc, request, spec)
        body = error_body(err, request.scope.get("extensions", {}).get(STATE, {}).get("request_id", ""))
        return ConnexionResponse(
            status_code=err.status, mimetype="application/json", body=json.dumps(body), headers=err.headers
        )

    for kind in (ApiError, ProblemException, HTTPException, Exception):
        app.add_error_handler(kind, on_error)
    app.holder = holder
    return app
