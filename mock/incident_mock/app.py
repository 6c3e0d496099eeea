"""create_app(): Connexion serves openapi.yaml over a fresh in-memory store.

The spec owns routing, validation and the security wiring. `create_app` adds our stages around
Connexion's; a request goes through them in this order, each one module named for its job, and they
share one typed `RequestState` (request_state.py). tests/mock/test_app.py checks the order.

   (transport)     before any of this, incident_mock.transport caps the request head (431) and the time
                   to send a request (408), when served by incident_mock.server
1. intake          request id, X-Request-Id, no-store and nosniff on every answer, the body read once
2. hosts           the Host header names a host this mock serves (421), when `allowed_hosts` is given
3. cors            CORS for the API's browser callers, when `cors_origins` is given
4. control         the control plane (/_mock/, its guard, routed and validated by control-plane.yaml) and
                   the live docs, outside the contract; then the dashboard (dashboard.py: /dashboard,
                   read-only HTML of the sandboxes, their incidents and journals; Basic auth, admin token)
5. journal         records each answered request in the journal of the caller's sandbox, or in the
                   unattributed journal when no sandbox claims it (recording.py)
   (Connexion)     routing by openapi.yaml
6. authentication  Connexion's security middleware runs our bearer handler: 401, or the caller and the
                   sandbox its token belongs to (sandboxes.py: one lookup by the token's digest)
7. admission       403 for a missing scope, then 413, then the rate limit (429)
8. validation      Connexion's request validation with our validators: 400, and 422 per field
   (Connexion)     response validation, when asked
9. dispatch        the handler Connexion resolved for the operation, called with the parsed arguments and
                   the store of the caller's sandbox

Every error, from any stage, goes through error_handler.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import connexion
from connexion.datastructures import MediaTypeDict
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions

from incident_contract.document import load_control_spec, load_spec, spec_path
from incident_contract.facts import error_types, max_body_bytes
from incident_mock.admission import Admission
from incident_mock.auth import Policy
from incident_mock.authentication import BearerAuthentication
from incident_mock.clock import Clock
from incident_mock.control import Control
from incident_mock.cors import Cors
from incident_mock.dashboard import Dashboard
from incident_mock.dispatch import Dispatch, HandlerResolver
from incident_mock.error_handler import HANDLED, error_handler
from incident_mock.handlers import HANDLERS
from incident_mock.hosts import HostCheck
from incident_mock.intake import Intake
from incident_mock.limits import DEFAULTS, Limits
from incident_mock.recording import Recording
from incident_mock.sandboxes import Sandboxes
from incident_mock.store import DEFAULT_FIXTURES, Rules, StoreHolder
from incident_mock.validation import BodyValidator, QueryValidator
from incident_mock.webhooks import Hub, WebhookSettings

__all__ = ["DEFAULT_FIXTURES", "StoreHolder", "create_app"]


@asynccontextmanager
async def _lifespan(hub: Hub, app: object) -> AsyncIterator[None]:
    """Webhook deliveries start lazily on the server's loop; at shutdown they are cancelled and the
    client closed."""
    yield
    await hub.aclose()


def create_app(
    fixtures: Path | None = None,
    *,
    validate_responses: bool = False,
    rate_limit: int | None = None,
    spec_file: Path | None = None,
    limits: Limits = DEFAULTS,
    clock: Clock | None = None,
    public_url: str | None = None,
    allowed_hosts: Sequence[str] | None = None,
    admin_token: str | None = None,
    cors_origins: Sequence[str] = (),
    webhooks: WebhookSettings | None = None,
) -> connexion.AsyncApp:
    """The mock as an ASGI app. `public_url` is where clients reach it (the served contract's `servers`,
    the `dashboard_url` and `permalink`s); `allowed_hosts` switches the Host check on (incident_mock.server
    always does); `admin_token` guards /_mock/; `cors_origins` switches CORS on for the API.

    `app.sandboxes` holds every sandbox; `app.holder` is the default one (`app.holder.store` its store,
    `app.holder.reset()` rebuilds it from the fixtures)."""
    spec = load_spec(spec_file)
    dashboard = f"{public_url.rstrip('/')}/dashboard" if public_url else None
    sandboxes = Sandboxes(
        fixtures or DEFAULT_FIXTURES,
        Rules.from_spec(spec),
        dashboard,
        contract=spec,
        limits=limits,
        clock=clock,
        webhooks=webhooks,
    )
    policy, limit, types = Policy(spec), max_body_bytes(spec), error_types(spec)
    resolver = HandlerResolver(HANDLERS)
    app = connexion.AsyncApp(
        "incident_mock",
        security_map={"bearer": partial(BearerAuthentication, policy, sandboxes)},  # stage 6
        # control.py serves the docs and the contract; Connexion's own copies would put a router in front
        # of every request.
        swagger_ui_options=SwaggerUIOptions(swagger_ui=False, serve_spec=False),
        lifespan=partial(_lifespan, sandboxes.hub),
    )
    app.add_api(
        spec_file or spec_path(),
        resolver=resolver,
        strict_validation=True,
        validate_responses=validate_responses,
        validator_map={  # 8
            "body": MediaTypeDict({"*/*json": BodyValidator}),
            "parameter": QueryValidator.bound(spec),
        },
    )
    # The stages, in request order. At one position, the one added first ends up outermost.
    app.add_middleware(Intake, MiddlewarePosition.BEFORE_EXCEPTION, max_body=limit)  # 1
    if allowed_hosts is not None:
        app.add_middleware(  # 2
            HostCheck, MiddlewarePosition.BEFORE_EXCEPTION, allowed=allowed_hosts, types=types
        )
    if cors_origins:
        app.add_middleware(Cors, MiddlewarePosition.BEFORE_EXCEPTION, origins=cors_origins)  # 3
    app.add_middleware(  # 4
        Control,
        MiddlewarePosition.BEFORE_EXCEPTION,
        sandboxes=sandboxes,
        spec=spec,
        control_spec=load_control_spec(),
        types=types,
        max_body=limit,
        public_url=public_url,
        admin_token=admin_token,
    )
    app.add_middleware(  # 4, the dashboard
        Dashboard, MiddlewarePosition.BEFORE_EXCEPTION, sandboxes=sandboxes, admin_token=admin_token
    )
    app.add_middleware(Recording, MiddlewarePosition.BEFORE_EXCEPTION, sandboxes=sandboxes)  # 5
    # Connexion: routing, then security (stage 6, BearerAuthentication).
    app.add_middleware(  # 7
        Admission, MiddlewarePosition.BEFORE_VALIDATION, policy=policy, max_body=limit, rate_limit=rate_limit
    )
    # Connexion: request validation (stage 8, our validators), then response validation when asked.
    app.add_middleware(Dispatch, MiddlewarePosition.BEFORE_CONTEXT, resolver=resolver, spec=spec)  # 9
    on_error = error_handler(spec)
    for kind in HANDLED:
        app.add_error_handler(kind, on_error)
    app.sandboxes = sandboxes
    app.webhooks = sandboxes.hub  # `await app.webhooks.aclose()` ends deliveries where no lifespan runs
    app.holder = sandboxes.default
    app.resolver = resolver
    return app
