"""create_app(): Connexion serves openapi.yaml over a fresh in-memory store.

The spec owns routing, validation and the security wiring. `create_app` adds our stages around
Connexion's; a request goes through them in this order, each one module named for its job, and they
share one typed `RequestState` (request_state.py). tests/mock/test_app.py checks the order.

1. intake          request id, X-Request-Id on every answer, the body read once up to the limit
2. control         the control plane (/_mock/) and the live docs, outside the contract
   (Connexion)     routing by openapi.yaml
3. authentication  Connexion's security middleware runs our bearer handler: 401, or the caller
4. admission       403 for a missing scope, then 413, then the rate limit (429)
5. validation      Connexion's request validation with our validators: 400, and 422 per field
   (Connexion)     response validation, when asked
6. dispatch        the handler Connexion resolved for the operation, called with the parsed arguments

Every error, from any stage, goes through error_handler.py.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import connexion
from connexion.datastructures import MediaTypeDict
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions

from incident_contract.document import load_spec, spec_path
from incident_contract.facts import max_body_bytes
from incident_mock.admission import Admission
from incident_mock.auth import Policy
from incident_mock.authentication import BearerAuthentication
from incident_mock.clock import Clock
from incident_mock.control import Control
from incident_mock.dispatch import Dispatch, HandlerResolver
from incident_mock.error_handler import HANDLED, error_handler
from incident_mock.handlers import HANDLERS
from incident_mock.intake import Intake
from incident_mock.limits import DEFAULTS, Limits
from incident_mock.store import DEFAULT_FIXTURES, Rules, Store, StoreHolder
from incident_mock.validation import BodyValidator, QueryValidator

__all__ = ["DEFAULT_FIXTURES", "StoreHolder", "create_app"]


def create_app(
    fixtures: Path | None = None,
    *,
    validate_responses: bool = False,
    rate_limit: int | None = None,
    spec_file: Path | None = None,
    limits: Limits = DEFAULTS,
    clock: Clock | None = None,
) -> connexion.AsyncApp:
    spec = load_spec(spec_file)
    holder = StoreHolder(fixtures or DEFAULT_FIXTURES, Rules.from_spec(spec), limits=limits, clock=clock)

    def store() -> Store:
        return holder.store

    policy, limit = Policy(spec), max_body_bytes(spec)
    resolver = HandlerResolver(HANDLERS)
    app = connexion.AsyncApp(
        "incident_mock",
        security_map={"bearer": partial(BearerAuthentication, policy, store)},  # stage 3
        # control.py serves the docs and the contract; Connexion's own copies would put a router in front
        # of every request.
        swagger_ui_options=SwaggerUIOptions(swagger_ui=False, serve_spec=False),
    )
    app.add_api(
        spec_file or spec_path(),
        resolver=resolver,
        strict_validation=True,
        validate_responses=validate_responses,
        validator_map={  # 5
            "body": MediaTypeDict({"*/*json": BodyValidator}),
            "parameter": QueryValidator.bound(spec),
        },
    )
    # The stages, in request order. At one position, the one added first ends up outermost.
    app.add_middleware(Intake, MiddlewarePosition.BEFORE_EXCEPTION, max_body=limit)  # 1
    app.add_middleware(Control, MiddlewarePosition.BEFORE_EXCEPTION, holder=holder, spec=spec)  # 2
    # Connexion: routing, then security (stage 3, BearerAuthentication).
    app.add_middleware(  # 4
        Admission, MiddlewarePosition.BEFORE_VALIDATION, policy=policy, max_body=limit, rate_limit=rate_limit
    )
    # Connexion: request validation (stage 5, our validators), then response validation when asked.
    app.add_middleware(  # 6
        Dispatch, MiddlewarePosition.BEFORE_CONTEXT, resolver=resolver, store=store, spec=spec
    )
    on_error = error_handler(spec)
    for kind in HANDLED:
        app.add_error_handler(kind, on_error)
    app.holder = holder
    app.resolver = resolver
    return app
