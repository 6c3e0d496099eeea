"""The mock on a socket: one construction for `incident-mock` and for tests that need a real server.

`MockServer` refuses an exposed address without an admin token, binds the socket first (so the real port
is known, even for port 0), derives the public URL from it unless one is given, builds the app with the
Host check, the admin token and CORS, and runs it under uvicorn with the transport limits of
`incident_mock.http.transport`. `run()` blocks (the CLI); `running()` serves from a background thread and
stops on exit (tests, and the testing kit's Python API to come).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from starlette.types import ASGIApp

from incident_contract.document import load_spec
from incident_contract.facts import error_types
from incident_mock.app import create_app
from incident_mock.domain.ids import Ids
from incident_mock.domain.settings import MockSettings, TransportLimits
from incident_mock.http.transport import CleanStopServer, protocol_class
from incident_mock.kit.sandboxes import Sandboxes

__all__ = [
    "MockServer",
    "Refused",
    "bind",
    "is_loopback",
    "open_files_limit",
    "public_url_for",
    "raise_descriptor_limit",
    "uvicorn_server",
]

EXPOSED = (
    "refusing to listen on {host} without an admin token: pass --admin-token (or set {env}) or bind 127.0.0.1"
)
ADMIN_TOKEN_ENV = "INCIDENT_MOCK_ADMIN_TOKEN"
BAD_PUBLIC_URL = (
    "--public-url must be an http(s) URL naming a host, such as http://mock.internal:8080: {url!r}"
)


class Refused(Exception):
    """The mock will not start so; the message is the one-line reason."""


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach an address bound to `host`."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # any other name may resolve anywhere


def open_files_limit() -> int:
    """The soft limit on open files (a large number where there is none)."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return 1 << 20
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return 1 << 20 if soft == resource.RLIM_INFINITY else int(soft)


def raise_descriptor_limit(wanted: int = 65536) -> int:
    """Lift the soft limit on open files towards the hard one (1,024 is common): idle connections are
    closed by the request deadline, but a client that keeps reconnecting can hold as many as it opens in
    that time. Returns the soft limit in force."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return -1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: a free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host.strip("[]"), port), family=family, backlog=2048)
    except OSError as exc:
        raise Refused(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def public_url_for(sock: socket.socket) -> str:
    """The URL of a bound socket; a wildcard address is named by its loopback equivalent."""
    host, port = sock.getsockname()[:2]
    address = ipaddress.ip_address(host)
    if address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else "127.0.0.1")
    name = f"[{address}]" if address.version == 6 else str(address)
    return f"http://{name}:{port}"


def _is_base_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
        return (
            parts.scheme in ("http", "https") and bool(parts.hostname) and not (parts.query or parts.fragment)
        )
    except ValueError:  # a bad port or bracket
        return False


def uvicorn_server(
    app: ASGIApp, limits: TransportLimits, *, log_level: str = "warning", access_log: bool = False
) -> uvicorn.Server:
    """uvicorn with our protocol: any ASGI app (the mock, or a test's variant of it) gets the limits."""
    config = uvicorn.Config(
        app,
        http=protocol_class(limits, error_types(load_spec()), _request_ids(app)),
        ws="none",
        lifespan="on",
        log_level=log_level,
        access_log=access_log,
    )
    return CleanStopServer(config)


def _request_ids(app: ASGIApp) -> Ids | None:
    """The mock's own request ids, for the transport's answers (an app that is not the mock has none)."""
    sandboxes = getattr(app, "sandboxes", None)
    return sandboxes.request_ids if isinstance(sandboxes, Sandboxes) else None


class MockServer:
    """The mock on a loopback (or, with an admin token, any) socket, bound at once; `run()` or
    `running()` serves it. Built from `settings` (MockSettings), any of whose fields may also be given by
    name (`MockServer(port=0, seed=7)`)."""

    def __init__(self, *, settings: MockSettings | None = None, **options: Any) -> None:
        settings = (settings or MockSettings()).replace(**options)
        host = settings.host
        if not settings.admin_token and not is_loopback(host):
            raise Refused(EXPOSED.format(host=host, env=ADMIN_TOKEN_ENV))
        if settings.public_url is not None and not _is_base_url(settings.public_url):
            raise Refused(BAD_PUBLIC_URL.format(url=settings.public_url))
        self.socket = bind(host, settings.port)
        self.port = int(self.socket.getsockname()[1])
        self.address = public_url_for(self.socket)  # where it listens
        self.url = (settings.public_url or self.address).rstrip("/")  # where clients are told to reach it
        hosts = [host, urlsplit(self.url).hostname or "", *(settings.allowed_hosts or ())]
        transport = settings.transport
        if transport.max_connections is None:  # keep descriptors for the listener, files and the log
            transport = dataclasses.replace(transport, max_connections=max(64, open_files_limit() - 128))
        self.settings = settings.replace(
            public_url=self.url,
            allowed_hosts=tuple(h for h in hosts if h),
            admin_token=settings.admin_token or None,
            transport=transport,
        )
        try:
            self.app = create_app(settings=self.settings)
        except BaseException:
            self.socket.close()
            raise
        self.server = uvicorn_server(
            self.app, transport, log_level=settings.log_level, access_log=settings.access_log
        )

    def run(self) -> None:
        """Serve until the process is interrupted."""
        self.server.run(sockets=[self.socket])

    @contextmanager
    def running(self, timeout: float = 15) -> Iterator[MockServer]:
        """Serve from a background thread; stops the server on exit."""
        thread = threading.Thread(target=self.run, name="incident-mock", daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("incident-mock did not start")
            time.sleep(0.01)
        try:
            yield self
        finally:
            self.server.should_exit = True
            thread.join(timeout=timeout)
            self.socket.close()
