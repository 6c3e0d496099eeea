"""The one handler Connexion calls for every exception: whatever was raised becomes an ErrorResponse.

Registered for our `ApiError`, Connexion's problems, Starlette's `HTTPException` (Connexion's unknown-path
404s and 405s arrive that way) and, as the catch-all, `Exception`. The body's `type` comes from the
contract's `x-error-types` and its `request_id` from the request state.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from incident_contract.document import HTTP_METHODS, Spec
from incident_contract.facts import error_types
from incident_mock.domain import errors
from incident_mock.domain.errors import ApiError, BadRequest, Internal, MethodNotAllowed, NotFound, error_body
from incident_mock.wire.request_state import request_state

__all__ = ["HANDLED", "as_api_error", "error_handler"]

log = logging.getLogger("incident_mock")
HANDLED: tuple[type[Exception], ...] = (ApiError, ProblemException, HTTPException, Exception)


def _allowed(spec: Spec, path: str) -> str | None:
    for template, item in spec["paths"].items():
        if re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", template), path):
            return ", ".join(m.upper() for m in HTTP_METHODS if m in item)
    return None


def as_api_error(exc: Exception, request: ConnexionRequest, spec: Spec) -> ApiError:
    """Our error for anything raised while answering `request`."""
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


def error_handler(spec: Spec) -> Callable[[ConnexionRequest, Exception], ConnexionResponse]:
    types = error_types(spec)

    def on_error(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        err = as_api_error(exc, request, spec)
        body = error_body(err, request_state(request.scope).request_id, types)
        return ConnexionResponse(
            status_code=err.status, mimetype="application/json", body=json.dumps(body), headers=err.headers
        )

    return on_error
