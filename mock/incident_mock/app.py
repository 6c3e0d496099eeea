"""create_app(): Connexion serves openapi.yaml over a fresh in-memory store.

The spec owns routing, validation and the security wiring. A request goes through these stages, in this
order, each one module named for its job; they share one typed `RequestState` (request_state.py):

1. intake          request id, X-Request-Id on every answer, the body read once up to the limit
2. control         the control plane (/_mock/) and the live docs, outside the contract
   (Connexion)     routing by openapi.yaml
3. authentication  Connexion's security runs our bearer handler: 401, or the caller
4. admission       403 for a missing scope, then 413, then the rate limit (429)
5. validation      Connexion's request validation with our validators: 400 and 422 per field
   (Connexion)     response validation, when asked
6. dispatch        the handler Connexion resolved for the operation, called with the parsed arguments

Every error, from any stage, goes through error_handler.py.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import connexion
import yaml
from connexion.datastructures import MediaTypeDict
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions

from incident_contract.document import load_spec, spec_path
from incident_contract.facts import max_body_bytes
from incident_mock.admission import Admission
from incident_mock.auth import Policy
from incident_mock.authentication import BearerAuthentication
from incident_mock.control import Control
from incident_mock.dispatch import Dispatch, HandlerResolver
from incident_mock.error_handler import HANDLED, error_handler
from incident_mock.handlers import HANDLERS
from incident_mock.intake import Intake
from incident_mock.store import Rules, Store
from incident_mock.validation import BodyValidator, QueryValidator

__all__ = ["DEFAULT_FIXTURES", "StoreHolder", "create_app"]

DEFAULT_FIXTURES = Path(__file__).with_name("fixtures.yaml")


class StoreHolder:
    """The app's current store; `reset()` swaps in a fresh one built from the fixtures."""

    def __init__(self, fixtures: Path, rules: Rules) -> None:
        self.fixtures, self.rules = fixtures, rules
        self.store = self.build()

    def build(self) -> Store:
        with open(self.fixtures, encoding="utf-8") as fh:
            return Store(yaml.safe_load(fh), self.rules)

    def reset(self) -> None:
        self.store = self.build()


def create_app(
    fixtures: Path | None = None,
    *,
    validate_responses: bool = False,
    rate_limit: int | None = None,
    spec_file: Path | None = None,
) -> connexion.AsyncApp:
    spec = load_spec(spec_file)
    holder = StoreHolder(fixtures or DEFAULT_FIXTURES, Rules.from_spec(spec))

    def store() -> Store:
        return holder.store

    policy, limit = Policy(spec), max_body_bytes(spec)
    resolver = HandlerResolver(HANDLERS)
    app = connexion.AsyncApp(
        "incident_mock",
        security_map={"bearer": partial(BearerAuthentication, policy, store)},
        # control.py serves the docs and the contract; Connexion's own copies would put a router in front
        # of every request.
        swagger_ui_options=SwaggerUIOptions(swagger_ui=False, serve_spec=False),
    )
    app.add_api(
        spec_file or spec_path(),
        resolver=resolver,
        strict_validation=True,
        validate_responses=validate_responses,
        validator_map={"body": MediaTypeDict({"*/*json": BodyValidator}), "parameter": QueryValidator},
    )
    # The stages we add, in request order. At one position, the one added first ends up outermost.
    stages: list[tuple[type, MiddlewarePosition, dict[str, Any]]] = [
        (Intake, MiddlewarePosition.BEFORE_EXCEPTION, {"max_body": limit}),
        (Control, MiddlewarePosition.BEFORE_EXCEPTION, {"holder": holder, "spec": spec}),
        (
            Admission,
            MiddlewarePosition.BEFORE_VALIDATION,
            {"policy": policy, "max_body": limit, "rate_limit": rate_limit},
        ),
        (Dispatch, MiddlewarePosition.BEFORE_CONTEXT, {"resolver": resolver, "store": store, "spec": spec}),
    ]
    for stage, position, options in stages:
        app.add_middleware(stage, position, **options)
    on_error = error_handler(spec)
    for kind in HANDLED:
        app.add_error_handler(kind, on_error)
    app.holder = holder
    app.resolver = resolver
    return app
