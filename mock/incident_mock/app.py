"""create_app(): Connexion serves openapi.yaml over a fresh in-memory store.

The spec owns routing, validation and the security wiring. `create_app` adds our stages around
Connexion's; a request goes through them in this order, each one module of `incident_mock.http` named for
its job, and they share one typed `RequestState` (wire/request_state.py). tests/mock/test_app.py checks
the order.

    (transport)      before any of this, http/transport.py caps the request head (431) and the time to send
                     a request (408), when served by incident_mock.server
 1. intake           request id, X-Request-Id, no-store and nosniff on every answer, the body read once
 2. hosts            the Host header names a host this mock serves (421), when `allowed_hosts` is given
 3. cors             CORS for the API's browser callers, when `cors_origins` is given
 4. control_stage    the control plane (/_mock/, its guard, routed and validated by control-plane.yaml,
                     kit/control_plane.py) and the live docs, outside the contract
 5. dashboard        kit/dashboard.py: /dashboard, read-only HTML of the sandboxes, their incidents and
                     journals (Basic auth, admin token)
 6. journaling       records each answered request in the journal of the caller's sandbox, or in the
                     unattributed journal when no sandbox claims it (kit/journal.py)
    (Connexion)      routing by openapi.yaml, through an index of the routes by their leading path segments
                     (`IndexedRouting`, http/connexion_internals.py: a request tries the routes of its own
                     resource, not all of them); just inside the router, `RouteNote` puts the operation it
                     matched into the request state
 7. authentication   Connexion's security middleware runs our bearer handler: 401, or the caller and the
                     sandbox its token belongs to (kit/sandboxes.py: one lookup by the token's digest)
 8. admission        403 for a missing scope, then 413 (the body Intake found too large), then the rate
                     limit (429)
 9. fault_injection  the fault armed in the caller's sandbox for this operation, if any: an error answer,
                     a delay, a cut connection, or a 500 after the operation ran (kit/faults.py)
10. validation       Connexion's request validation with our validators: 400, and 422 per field
    (Connexion)      response validation, when asked
11. dispatch         the operation Connexion routed to, called with the parsed arguments and the store of
                     the caller's sandbox

Every error, from any stage, goes through http/error_handler.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import connexion
from connexion.datastructures import MediaTypeDict
from connexion.middleware import MiddlewarePosition
from connexion.options import SwaggerUIOptions

from incident_contract.document import load_control_spec, load_spec
from incident_contract.facts import error_types, max_body_bytes
from incident_mock.domain.settings import DEFAULT_FIXTURES, MockSettings
from incident_mock.http.admission import Admission
from incident_mock.http.authentication import BearerAuthentication
from incident_mock.http.connexion_internals import (
    BodyValidator,
    QueryValidator,
    RouteNote,
    connexion_middlewares,
    trusted_contract,
)
from incident_mock.http.control_stage import Control
from incident_mock.http.cors import Cors
from incident_mock.http.dispatch import Dispatch, HandlerResolver
from incident_mock.http.error_handler import HANDLED, error_handler
from incident_mock.http.fault_injection import Injection
from incident_mock.http.hosts import HostCheck
from incident_mock.http.intake import Intake
from incident_mock.http.journaling import Recording
from incident_mock.http.permissions import Policy
from incident_mock.kit.dashboard import Dashboard
from incident_mock.kit.sandboxes import Sandboxes
from incident_mock.kit.webhooks import Hub
from incident_mock.resources.organisation import StoreHolder, served

__all__ = ["DEFAULT_FIXTURES", "MockSettings", "StoreHolder", "create_app"]


@asynccontextmanager
async def _lifespan(hub: Hub, app: object) -> AsyncIterator[None]:
    """Webhook deliveries start lazily on the server's loop; at shutdown they are cancelled and the
    client closed."""
    yield
    await hub.aclose()


def create_app(
    fixtures: Path | None = None, *, settings: MockSettings | None = None, **options: Any
) -> connexion.AsyncApp:
    """The mock as an ASGI app, run with `settings` (MockSettings, domain/settings.py), any of whose
    fields may also be given by name in `options` (`create_app(rate_limit=5)`), and `fixtures` first.

    `public_url` is where clients reach it (the served contract's `servers`, the `dashboard_url` and
    `permalink`s); `allowed_hosts` switches the Host check on (incident_mock.server always does);
    `admin_token` guards /_mock/; `cors_origins` switches CORS on for the API. `clock` is the time every
    sandbox's clock runs on (real time by default); `seed` makes generated ids reproducible.

    `app.sandboxes` holds every sandbox; `app.holder` is the default one (`app.holder.store` its store,
    `app.holder.reset()` rebuilds it from the fixtures); `app.settings` the settings it runs with."""
    if fixtures is not None:
        options["fixtures"] = fixtures
    settings = (settings or MockSettings()).replace(**options)
    spec = load_spec(settings.spec_file)
    sandboxes = Sandboxes(settings, spec)
    policy, limit, types = Policy(spec), max_body_bytes(spec), error_types(spec)
    # every operation served by its declaration or one behaviour module, or the mock does not start
    resolver = HandlerResolver(served(settings.spec_file))
    app = connexion.AsyncApp(
        "incident_mock",
        security_map={"bearer": partial(BearerAuthentication, policy, sandboxes)},  # 7
        # control_stage serves the docs and the contract; Connexion's own copies would put a router in front
        # of every request.
        swagger_ui_options=SwaggerUIOptions(swagger_ui=False, serve_spec=False),
        lifespan=partial(_lifespan, sandboxes.hub),
        middlewares=connexion_middlewares(),  # Connexion's, its router indexed
    )
    # Parsed once by libyaml (given a path, Connexion would parse it again in pure Python); the packaged
    # contract, checked by the test suite, is not checked against the meta-schema again at every start.
    with trusted_contract() if settings.spec_file is None else contextlib.nullcontext():
        app.add_api(
            load_spec(settings.spec_file),
            resolver=resolver,
            strict_validation=True,
            validate_responses=settings.validate_responses,
            validator_map={  # 10
                "body": MediaTypeDict({"*/*json": BodyValidator}),
                "parameter": QueryValidator.bound(spec),
            },
        )
    # The stages, in request order. At one position, the one added first ends up outermost.
    app.add_middleware(  # 1
        Intake, MiddlewarePosition.BEFORE_EXCEPTION, max_body=limit, ids=sandboxes.request_ids
    )
    if settings.allowed_hosts is not None:
        app.add_middleware(  # 2
            HostCheck, MiddlewarePosition.BEFORE_EXCEPTION, allowed=settings.allowed_hosts, types=types
        )
    if settings.cors_origins:
        app.add_middleware(Cors, MiddlewarePosition.BEFORE_EXCEPTION, origins=settings.cors_origins)  # 3
    app.add_middleware(  # 4
        Control,
        MiddlewarePosition.BEFORE_EXCEPTION,
        sandboxes=sandboxes,
        spec=spec,
        control_spec=load_control_spec(),
        types=types,
        public_url=settings.public_url,
        admin_token=settings.admin_token,
        create_token=settings.sandbox_create_token,
    )
    app.add_middleware(  # 5
        Dashboard, MiddlewarePosition.BEFORE_EXCEPTION, sandboxes=sandboxes, admin_token=settings.admin_token
    )
    app.add_middleware(Recording, MiddlewarePosition.BEFORE_EXCEPTION, sandboxes=sandboxes)  # 6
    app.add_middleware(RouteNote, MiddlewarePosition.BEFORE_SECURITY)  # just inside Connexion's router
    # Connexion: routing, then security (7, BearerAuthentication).
    app.add_middleware(  # 8
        Admission,
        MiddlewarePosition.BEFORE_VALIDATION,
        policy=policy,
        rate_limit=settings.rate_limit,
    )
    app.add_middleware(Injection, MiddlewarePosition.BEFORE_VALIDATION)  # 9, inside admission
    # Connexion: request validation (10, our validators), then response validation when asked.
    app.add_middleware(Dispatch, MiddlewarePosition.BEFORE_CONTEXT, resolver=resolver, spec=spec)  # 11
    on_error = error_handler(spec)
    for kind in HANDLED:
        app.add_error_handler(kind, on_error)
    app.settings = settings
    app.sandboxes = sandboxes
    app.webhooks = sandboxes.hub  # `await app.webhooks.aclose()` ends deliveries where no lifespan runs
    app.holder = sandboxes.default
    app.resolver = resolver
    return app
