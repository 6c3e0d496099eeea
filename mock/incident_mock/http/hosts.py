"""Stage 2, hosts: the Host header must name a host this mock serves (DNS rebinding).

A web page on `evil.example` whose name the attacker re-points at 127.0.0.1 can make the developer's
browser send it requests, but they still say `Host: evil.example`. So every request (the API, the control
plane, the docs) must name one of: `localhost`, `127.0.0.1`, `[::1]`, the address the mock is bound to,
the host of its public URL, or a name given with `--allowed-host`; any port. Anything else, no Host or
two, is 421 `misdirected_request` in the contract's shape, before any other stage reads the request.
The check is a set lookup: nothing is remembered per Host.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from incident_mock.domain.errors import ApiError
from incident_mock.wire.responses import send_error

__all__ = ["LOOPBACK", "HostCheck", "MisdirectedRequest", "host_name"]

LOOPBACK = ("localhost", "127.0.0.1", "::1")
UNKNOWN_HOST = "This server does not serve the host {host!r}; it serves {served}"


class MisdirectedRequest(ApiError):
    status, default_code = 421, "unknown_host"


def host_name(value: str) -> str:
    """The name of a Host header value or a host option, without port, brackets or a final dot."""
    value = value.strip().lower()
    if value.startswith("["):  # [v6] or [v6]:port
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") > 1:  # a bare IPv6 address (an option, never a valid Host header)
        return value
    return value.partition(":")[0].rstrip(".")


class HostCheck:
    def __init__(self, app: ASGIApp, *, allowed: Iterable[str], types: Mapping[int, str]) -> None:
        self.app, self.types = app, types
        self.allowed = frozenset({*LOOPBACK, *(host_name(h) for h in allowed)})
        self.served = ", ".join(sorted(self.allowed))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            named = [v for k, v in scope["headers"] if k == b"host"]
            host = named[0].decode("latin-1") if len(named) == 1 else ""
            if host_name(host) not in self.allowed:
                message = UNKNOWN_HOST.format(host=host[:100], served=self.served)
                await send_error(send, scope, MisdirectedRequest(message), self.types)
                return
        await self.app(scope, receive, send)
