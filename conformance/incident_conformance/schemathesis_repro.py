"""How a Schemathesis request is shown: the curl line that sends it again, redacted like the suite's own.

Schemathesis' own code samples mask values by its sanitisation settings (`[Filtered]` by default, and any
body field whose name holds `key`). A reproduction here is built from the request as it was sent, with
`target.redact_headers` applied to the headers only: the API key and secret-looking --header values are
`[REDACTED]`; body values (idempotency keys included) are shown as sent. An `ignored_auth` failure is
shown as the probe Schemathesis sent without the run's key: its bad credential (Schemathesis' own made-up
token, or none at all) is shown, since a reproduction that hides it reproduces nothing.
"""

from __future__ import annotations

import shlex
from typing import Any

from schemathesis.config import SanitizationConfig
from schemathesis.core import curl
from schemathesis.core.failures import Failure as StFailure
from schemathesis.openapi.checks import IgnoredAuth
from schemathesis.specs.openapi._auth_retry import INVALID_AUTH_HEADERS, INVALID_CREDENTIAL
from schemathesis.transport.prepare import prepare_request

from incident_conformance.context import RunContext
from incident_conformance.target import REDACTED, redact_headers

__all__ = ["MADE_UP", "credential_sent", "reproduce", "request_url", "sanitization"]

MADE_UP = frozenset({*INVALID_AUTH_HEADERS.values(), INVALID_CREDENTIAL})  # Schemathesis' bad credentials
_AS_SENT = SanitizationConfig(enabled=False)


def sanitization(ctx: RunContext) -> dict[str, Any]:
    """Schemathesis' output sanitisation: only credentials (never body fields such as idempotency_key)."""
    secret = sorted({name.lower() for name in ctx.full.headers if redact_headers({name: "x"}) != {name: "x"}})
    return {
        "keys-to-sanitize": ["authorization", "proxy-authorization", "cookie", "set-cookie", *secret],
        "sensitive-markers": ["authorization", "password", "secret"],
        "replacement": REDACTED,
    }


def request_url(ctx: RunContext, case: Any) -> str:
    """The URL Schemathesis sends a case to, as sent (percent-encoded)."""
    return str(prepare_request(case, None, config=_AS_SENT, base_url=ctx.full.base_url).url)


def reproduce(ctx: RunContext, case: Any, failure: StFailure | None = None) -> str | None:
    """A curl line for `case` as it was sent; for an ignored_auth failure, the probe that got through."""
    keyless = isinstance(failure, IgnoredAuth)  # probes are sent without the run's key
    headers = {**ctx.full.headers, **({} if keyless else {"Authorization": f"Bearer {ctx.full.key}"})}
    configured = {name.lower() for name in ctx.full.headers}
    own = {  # values Schemathesis generated or made up (a bad credential), never the run's own
        value
        for name, value in (case.headers or {}).items()
        if isinstance(value, str) and name.lower() not in configured and ctx.full.key not in value
    }
    try:
        request = prepare_request(case, headers, config=_AS_SENT, base_url=ctx.full.base_url)
        command = curl.generate(
            method=str(request.method),
            url=str(request.url),
            body=request.body,
            verify=True,
            headers=redact_headers({k: str(v) for k, v in request.headers.items()}, MADE_UP | own),
            known_generated_headers=dict(case.headers or {}),
        ).command
    except Exception:  # a reproduction is a courtesy; never let it hide the failure itself
        return None
    if ctx.options.ca_bundle:
        command += f" --cacert {shlex.quote(ctx.options.ca_bundle)}"
    return command


def credential_sent(ctx: RunContext, case: Any, failure: StFailure | None) -> str:
    """For an ignored_auth failure, the credential its probe carried (it is Schemathesis' own, not a key)."""
    if not isinstance(failure, IgnoredAuth):
        return ""
    sent = [v for k, v in (case.headers or {}).items() if k.lower() == "authorization" and isinstance(v, str)]
    if not sent:
        return "sent without an Authorization header"
    value = (
        sent[0]
        if ctx.full.key not in sent[0]
        else redact_headers({"Authorization": sent[0]})["Authorization"]
    )
    return f"sent with Authorization: {value}"
