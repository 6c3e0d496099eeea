"""Stage 4, control: the control plane under /_mock/ and the live docs, outside the contract.

The control plane's operations are described by their own document, control-plane.yaml, which routes and
validates them (control_plane.py); this stage guards them.

The control plane can wipe the state, so a web page the developer happens to visit must not reach it:
- with an admin token (`--admin-token`), every /_mock/ request must carry `Authorization: Bearer
  <token>`: the admin token, a sandbox's control token for that sandbox's operations, or the
  sandbox-create token for a create (401 or 403 otherwise, compared in constant time: control_plane.Guard);
- a request a browser sent from another origin (an `Origin` that is not this mock's own, or
  `Sec-Fetch-Site: cross-site`/`same-site`) is 403 `cross_origin_request`;
- a request with a body, or with a Content-Type, must be `application/json` holding an object (400
  `invalid_content_type` otherwise): a form post or a `text/plain` beacon never reaches an operation.
  A bodiless POST without a Content-Type is what curl and test clients send; browsers always add an
  Origin to those.
These run before any route, so they carry over to whatever the control plane grows into. A request whose
body passes 64 KiB (a sandbox's own fixtures document) is read, checked and answered in a worker thread,
one at a time, so that other clients are served meanwhile. The docs are `live_docs.LiveDocs`, the
contract's and the control plane's. `/_mock/health` tells liveness and the mock's version, nothing about
the data.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from incident_contract.document import Spec
from incident_mock.domain import errors
from incident_mock.domain.errors import (
    ApiError,
    BadRequest,
    Forbidden,
)
from incident_mock.domain.problems import read_json
from incident_mock.http.live_docs import LiveDocs
from incident_mock.kit.control_plane import ControlPlane, Guard
from incident_mock.kit.sandboxes import Sandboxes
from incident_mock.wire.request_state import request_state
from incident_mock.wire.responses import send_body, send_error

__all__ = ["PREFIX", "Control", "mock_version"]

PREFIX = "/_mock/"
CROSS_ORIGIN = "The control plane does not answer requests that a browser sent from another origin ({origin})"
NOT_AN_OBJECT = "The request body must be a JSON object"
JSON_TYPES = (b"application/json",)
IN_THREAD = 64 * 1024  # bytes of body from which a request is answered in a worker thread


def mock_version() -> str:
    try:
        return version("incident-contract")
    except PackageNotFoundError:  # run from a source tree without installing
        return "unknown"


class Control:
    def __init__(
        self,
        app: ASGIApp,
        *,
        sandboxes: Sandboxes,
        spec: Spec,
        control_spec: Spec,
        types: Mapping[int, str],
        public_url: str | None = None,
        admin_token: str | None = None,
        create_token: str | None = None,
    ) -> None:
        self.app, self.types = app, types
        self.docs = LiveDocs(spec, public_url, control_spec)
        self.guard = Guard(sandboxes, admin_token, create_token)
        self.plane = ControlPlane(control_spec, sandboxes, mock_version())
        self.one_at_a_time = asyncio.Lock()  # requests answered in a worker thread

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if path.startswith(PREFIX):
            try:
                refusal = self.refusal(scope)
                if refusal is not None:
                    raise refusal
                raw = await self._body(scope, receive)
                query = scope.get("query_string", b"").decode("latin-1")
                work = partial(self._answer, raw, method, path, query, self.docs.base(scope))
                # A large body (a sandbox's own fixtures) is parsed, checked and built from in a worker
                # thread, so that the loop goes on serving other clients meanwhile; one at a time.
                if len(raw) > IN_THREAD:
                    async with self.one_at_a_time:
                        status, answer = await asyncio.to_thread(work)
                else:
                    status, answer = work()
            except ApiError as err:
                await send_error(send, scope, err, self.types)
                return
            data = b"" if answer is None else json.dumps(answer, separators=(",", ":")).encode()
            await send_body(send, status, data, None if answer is None else b"application/json")
        elif not (LiveDocs.serves(method, path) and await self.docs.answer(scope, send, path)):
            await self.app(scope, receive, send)

    def _answer(self, raw: bytes, method: str, path: str, query: str, base: str) -> tuple[int, Any]:
        return self.plane.answer(method, path, query, _parsed(raw), base)

    def refusal(self, scope: Scope) -> ApiError | None:
        """Why a /_mock/ request may not go on (its headers alone), or None."""
        headers = Headers(scope=scope)
        denied = self.guard.refusal(scope["method"], scope["path"], headers.get("authorization", ""))
        if denied is not None:
            return denied
        origin = headers.get("origin")
        site = headers.get("sec-fetch-site", "")
        if site in ("cross-site", "same-site") or (origin is not None and not _same_origin(origin, headers)):
            return Forbidden(CROSS_ORIGIN.format(origin=(origin or site)[:100]), code="cross_origin_request")
        kind = headers.get("content-type")
        has_body = headers.get("content-length", "0") != "0"  # Intake turned any body into a length
        if (kind is not None or has_body) and (kind or "").encode().partition(b";")[0] not in JSON_TYPES:
            return BadRequest(errors.BAD_CONTENT_TYPE, code="invalid_content_type")
        return request_state(scope).too_large

    @staticmethod
    async def _body(scope: Scope, receive: Receive) -> bytes:
        """The body Intake read (and replays), or nothing when none was sent."""
        if Headers(scope=scope).get("content-length", "0") == "0":
            return b""
        message = await receive()
        return bytes(message.get("body", b""))


def _parsed(body: bytes) -> Any:
    """The body as a JSON object, None when there is none; BadRequest, or 422 for a lone surrogate."""
    if not body:
        return None
    parsed = read_json(body)
    if not isinstance(parsed, dict):
        if parsed is None and not body.strip():
            return None  # blank: no body
        raise BadRequest(NOT_AN_OBJECT)
    return parsed


def _same_origin(origin: str, headers: Headers) -> bool:
    """Whether an Origin header names the host the request was sent to (the Host check has vetted that)."""
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == headers.get("host", "").lower()
