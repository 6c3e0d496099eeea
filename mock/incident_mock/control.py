"""Routes outside the contract: the control plane under /_mock/, and the live docs.

The live docs are Swagger UI from the pinned swagger-ui-bundle package (offline assets, no CDN) at
/docs/, and the contract at /openapi.json and /openapi.yaml with `servers` set to the address the
request came to, so "try it out" calls this mock. They are served here by one dictionary lookup rather
than by Connexion's Swagger UI middleware, whose router every API request would otherwise pass through.
"""

from __future__ import annotations

import copy
import json
import mimetypes
from pathlib import Path
from typing import Any

import yaml
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from incident_contract.document import Spec
from incident_mock.responses import send_body
from incident_mock.store import StoreHolder

__all__ = ["Control"]

PREFIX = "/_mock/"
ASSETS = Path(swagger_ui_path)
INDEX = b"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>incident-contract API</title>
  <link rel="stylesheet" href="./swagger-ui.css">
  <link rel="icon" type="image/png" href="./favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="./swagger-ui-bundle.js"></script>
  <script src="./swagger-ui-standalone-preset.js"></script>
  <script src="./incident-contract.js"></script>
</body>
</html>
"""
INIT = b"""window.ui = SwaggerUIBundle({
  url: "../openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: "StandaloneLayout"
});
"""


class Control:
    def __init__(self, app: ASGIApp, holder: StoreHolder, spec: Spec) -> None:
        self.app, self.holder, self.spec = app, holder, spec
        self.assets = {f"/docs/{p.name}": p for p in ASSETS.iterdir() if p.is_file() and p.suffix != ".j2"}
        self.contracts: dict[tuple[str, str], bytes] = {}  # (base URL, format) -> document

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        method = scope.get("method")
        if path.startswith(PREFIX):
            await self._control(scope, receive, send, method, path[len(PREFIX) :])
        elif method in ("GET", "HEAD") and (
            path in ("/openapi.json", "/openapi.yaml") or path.startswith("/docs")
        ):
            await self._docs(scope, receive, send, path)
        else:
            await self.app(scope, receive, send)

    async def _control(self, scope: Scope, receive: Receive, send: Send, method: Any, route: str) -> None:
        if (method, route) == ("GET", "health"):
            body = json.dumps({"status": "ok", "incidents": len(self.holder.store.incidents)}).encode()
            await send_body(send, 200, body, b"application/json")
        elif (method, route) == ("POST", "reset"):
            self.holder.reset()
            await send_body(send, 200, b'{"status":"reset"}', b"application/json")
        else:
            await self.app(scope, receive, send)  # the router answers 404/405 in the contract's shape

    async def _docs(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        if path == "/docs":
            await send_body(send, 307, b"", b"text/plain", [(b"location", b"/docs/")])
        elif path == "/docs/":
            await send_body(send, 200, INDEX, b"text/html; charset=utf-8")
        elif path == "/docs/incident-contract.js":
            await send_body(send, 200, INIT, b"text/javascript")
        elif path in self.assets:
            guessed = mimetypes.guess_type(path)[0] or "application/octet-stream"
            await send_body(send, 200, self.assets[path].read_bytes(), guessed.encode())
        elif path in ("/openapi.json", "/openapi.yaml"):
            fmt = path.rsplit(".", 1)[1]
            kind = b"application/json" if fmt == "json" else b"application/yaml"
            await send_body(send, 200, self._contract(scope, fmt), kind)
        else:
            await self.app(scope, receive, send)

    def _contract(self, scope: Scope, fmt: str) -> bytes:
        """The contract, with `servers` naming the address this request came to."""
        host = Headers(scope=scope).get("host") or "{}:{}".format(*scope.get("server") or ("127.0.0.1", 8080))
        base = f"{scope.get('scheme', 'http')}://{host}"
        if (base, fmt) not in self.contracts:
            doc = copy.deepcopy(self.spec)
            doc["servers"] = [{"url": base, "description": "This mock."}]
            text = (
                json.dumps(doc) if fmt == "json" else yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
            )
            self.contracts[(base, fmt)] = text.encode()
        return self.contracts[(base, fmt)]
