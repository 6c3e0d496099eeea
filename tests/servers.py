"""A real uvicorn server on 127.0.0.1 in a background thread, for tests that need a socket.

It serves with the mock's own transport (incident_mock.server): the same protocol, limits and binding
as `incident-mock`, and the socket is bound before the server starts, so no other process can take
the port in between.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from incident_mock.domain.settings import TransportLimits
from incident_mock.server import bind, public_url_for, uvicorn_server


def free_port() -> int:
    """A port free right now (for tests that start a server in another process, or need a closed port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve an ASGI app on a free loopback port; yields the base URL, stops the server on exit."""
    sock = bind("127.0.0.1", 0)
    server = uvicorn_server(app, TransportLimits())
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield public_url_for(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
