"""One error path: a small exception tree and one renderer for the contract's ErrorResponse.

Every layer (our stages, the validators, the handlers, Connexion's problems, Starlette's HTTP
exceptions, the catch-all) ends up in `error_body`, so every non-2xx answer has the same shape. A class
fixes the status and the default code; the `type` of each status is the contract's (`x-error-types` in
openapi.yaml, read by `incident_contract.facts.error_types`), never restated here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

__all__ = [
    "ApiError",
    "BadRequest",
    "ConnectionCut",
    "Forbidden",
    "Internal",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "TooManyRequests",
    "Unauthorized",
    "ValidationFailed",
    "error_body",
    "invalid_key",
    "shortened",
]

# Message templates: every message the mock sends comes from here.
MISSING_AUTH = "No API key was sent: use the header Authorization: Bearer <API key>"
INVALID_KEY = "The API key is not valid"
MISSING_SCOPE = "This API key lacks the scope {scope}, granted by the role(s) {roles}"
NOT_FOUND = "No {kind} with id {id!r}"
NOT_FOUND_REFERENCE = (
    "No incident with id {id!r}: use the incident's id or the number of its reference ({number})"
)
NO_ROUTE = "No operation at {path}"
METHOD = "{method} is not allowed on {path}; allowed: {allowed}"
TOO_LARGE = "Request bodies are limited to {limit} bytes"
RATE = "Too many requests: this key may make {limit} requests a minute; retry after {retry} s"
INTERNAL = "An unexpected error occurred"
REQUIRED = "{field} is required"
UNKNOWN_FIELD = "{field} is not a known field"
INVALID = "{field} is invalid: {detail}"
REUSED = "This idempotency key was already used with a different payload"
BAD_JSON = "The request body is not valid JSON: {detail}"
BAD_ENCODING = "The request body is not valid UTF-8"
BAD_CONTENT_TYPE = "Send the request body as application/json"
CAPACITY = (
    "The server holds its maximum of {limit} {what} ({cap}): nothing was stored. "
    "{frees}, or start the mock with a larger {option}"
)
LONE_SURROGATE = "{field} is invalid: it holds a lone surrogate (\\u{code:04x}), which is not valid Unicode"


class ApiError(Exception):
    """An error answer. Subclasses fix the status and default code; instances carry the entries."""

    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "api_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        pointer: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        entry: dict[str, Any] = {"code": code or self.default_code, "message": message}
        if field is not None:
            entry["source"] = {"field": field, "pointer": pointer if pointer is not None else f"/{field}"}
        self.errors: list[dict[str, Any]] = [entry]
        self.headers: dict[str, str] = dict(headers or {})
        self.extra: dict[str, Any] = {}

    @classmethod
    def many(cls, entries: list[dict[str, Any]]) -> ApiError:
        """One answer carrying several entries (each already shaped as an ErrorSingle)."""
        err = cls(entries[0]["message"])
        err.errors = entries
        return err

    @property
    def code(self) -> str:
        return str(self.errors[0]["code"])


class BadRequest(ApiError):
    status, default_code = 400, "invalid_request"


class Unauthorized(ApiError):
    status, default_code = 401, "invalid_authorization"


CHALLENGE = {"WWW-Authenticate": "Bearer"}  # every 401 names the scheme it wants


def shortened(value: str, limit: int = 100) -> str:
    """A value a client sent, as a message quotes it: its first `limit` characters, then "..." if longer."""
    return value if len(value) <= limit else value[:limit] + "..."


def invalid_key() -> Unauthorized:
    """The 401 for a token that names no key (or no longer does: its sandbox was deleted)."""
    return Unauthorized(INVALID_KEY, headers=CHALLENGE)


class Forbidden(ApiError):
    status, default_code = 403, "missing_scope"


class NotFound(ApiError):
    status, default_code = 404, "not_found"


class MethodNotAllowed(ApiError):
    status, default_code = 405, "method_not_allowed"


class PayloadTooLarge(ApiError):
    status, default_code = 413, "payload_too_large"


class ValidationFailed(ApiError):
    status, default_code = 422, "invalid_value"

    @classmethod
    def invalid(cls, field: str, detail: str, pointer: str | None = None) -> ValidationFailed:
        """422 invalid_value naming the field (or query parameter) and what is wrong with it."""
        return cls(INVALID.format(field=field, detail=detail), field=field, pointer=pointer)


class TooManyRequests(ApiError):
    status, default_code = 429, "too_many_requests"


class Internal(ApiError):
    status, default_code = 500, "api_error"


class ConnectionCut(BaseException):
    """Raised by a stage to cut the client's connection without an answer (a fault: drop, after_commit).

    A BaseException, so that no error handler turns it into a 500 on the way out: under uvicorn the mock's
    protocol (transport.py) catches it and closes the connection; in-process (httpx's ASGITransport) it
    reaches the client as this exception."""


def error_body(err: ApiError, request_id: str, types: Mapping[int, str]) -> dict[str, Any]:
    """The ErrorResponse body for an error; `types` is the contract's status -> type table."""
    return {
        "type": types[err.status],
        "status": err.status,
        "request_id": request_id,
        "errors": err.errors,
        **err.extra,
    }


def entry(code: str, message: str, field: str, pointer: str) -> dict[str, Any]:
    """One ErrorSingle with a source."""
    return {"code": code, "message": message, "source": {"field": field, "pointer": pointer}}
