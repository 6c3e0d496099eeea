"""The live docs: Swagger UI at /docs/, the contract at /openapi.json and /openapi.yaml, the control plane's
document at /control-plane.json and /control-plane.yaml, and `GET /`.

Swagger UI comes from the pinned swagger-ui-bundle package (offline assets, no CDN). The contract is
served with `servers` naming the mock's public URL (`--public-url`, by default the address it is bound
to), so "try it out" calls this mock. It is never built from a client's Host header: each format is
rendered once. An app built without a public URL (in-process, or behind a plain uvicorn) names the
socket address of the first request it serves, the server's own and never the client's choice.
`GET /` redirects to the docs, with the links in a JSON body for clients that do not follow redirects.
Swagger UI shows the contract first, and a list above it switches to the control plane's document.
Swagger UI shows no `x-webhooks`, so /docs/webhooks.html is the docs generator's webhooks page for the
contract (incident_contract.docs), linked from beside the list, as are the guides at /docs/guides/ (the
generator's guide pages, rendered on first request).
"""

from __future__ import annotations

import copy
import json
import mimetypes
from pathlib import Path

import yaml
from starlette.types import Scope, Send
from swagger_ui_bundle import swagger_ui_path

from incident_contract.docs.site import guide_pages, resources_page, webhooks_page
from incident_contract.document import Spec
from incident_mock.wire.responses import send_body

__all__ = ["LiveDocs"]

ASSETS = Path(swagger_ui_path)
CONTRACTS = ("/openapi.json", "/openapi.yaml")
CONTROL = ("/control-plane.json", "/control-plane.yaml")
WEBHOOKS = "/docs/webhooks.html"
RESOURCES = "/docs/resources.html"
GUIDES = "/docs/guides/"
BACK = (
    '<p><strong>incident-contract API</strong><a href="./">Reference (Swagger UI)</a>'
    '<a href="./guides/">Guides</a><a href="./resources.html">Resources</a></p>'
)
GUIDES_BACK = (
    '<p><strong>incident-contract API</strong><a href="../">Reference (Swagger UI)</a>'
    '<a href="../webhooks.html">Webhooks</a></p>'
)
TO_DOCS = [(b"location", b"/docs/")]  # relative: a redirect never repeats the client's Host
INDEX = b"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>incident-contract API</title>
  <link rel="stylesheet" href="./swagger-ui.css">
  <link rel="icon" type="image/png" href="./favicon-32x32.png">
</head>
<body>
  <p style="font-family: sans-serif; margin: 0.5rem 1.25rem">
    <label>Document: <select id="document"></select></label>
    <a href="./webhooks.html" style="margin-left: 1rem">Webhooks</a>
    <a href="./guides/" style="margin-left: 1rem">Guides</a>
    <a href="./resources.html" style="margin-left: 1rem">Resources</a>
  </p>
  <div id="swagger-ui"></div>
  <script src="./swagger-ui-bundle.js"></script>
  <script src="./swagger-ui-standalone-preset.js"></script>
  <script src="./incident-contract.js"></script>
</body>
</html>
"""
# "Try it out" calls the first server. The page's own origin reaches this mock for sure (the page came from
# it), while the public URL may name a proxy or another spelling of the host (localhost for 127.0.0.1),
# which would make every call cross-origin: so the page's origin goes first when it differs.
INIT = b"""const documents = [
  ["../openapi.json", "incident-contract API (openapi.yaml)"],
  ["../control-plane.json", "The mock's control plane, /_mock/ (control-plane.yaml)"]
];
Promise.all(documents.map(([url]) => fetch(url).then((response) => response.json()))).then((specs) => {
  for (const spec of specs) {
    if (!spec.servers.some((server) => server.url === window.location.origin)) {
      spec.servers.unshift({url: window.location.origin, description: "The address of this page."});
    }
  }
  const select = document.getElementById("document");
  documents.forEach(([url, name], i) => select.add(new Option(name, String(i))));
  window.ui = SwaggerUIBundle({
    spec: specs[0],
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout"
  });
  select.addEventListener("change", () => {
    window.ui.specActions.updateSpec(JSON.stringify(specs[Number(select.value)]));
  });
});
"""


class LiveDocs:
    def __init__(self, spec: Spec, public_url: str | None, control_spec: Spec | None = None) -> None:
        self.spec, self.public_url = spec, public_url
        self.documents = {"openapi": spec, **({"control-plane": control_spec} if control_spec else {})}
        self.assets = {f"/docs/{p.name}": p for p in ASSETS.iterdir() if p.is_file() and p.suffix != ".j2"}
        self.contracts: dict[str, bytes] = {}  # path -> document: four entries at most
        self.webhooks = webhooks_page(spec, BACK).encode()
        self.resources = resources_page(spec, BACK).encode()  # the x-resources declarations
        self._guides: dict[str, bytes] | None = None  # file name -> page, rendered on first request

    @staticmethod
    def serves(method: str, path: str) -> bool:
        return method in ("GET", "HEAD") and (path in ("/", *CONTRACTS, *CONTROL) or path.startswith("/docs"))

    async def answer(self, scope: Scope, send: Send, path: str) -> bool:
        """Answer a docs path; False if it is none of ours (the router answers 404)."""
        if path == "/":
            base = self.base(scope)
            links = {
                "docs": f"{base}/docs/",
                "openapi": [f"{base}{c}" for c in CONTRACTS],
                "control_plane": [f"{base}{c}" for c in CONTROL],
            }
            await send_body(send, 307, json.dumps(links).encode(), b"application/json", TO_DOCS)
        elif path == "/docs":
            await send_body(send, 307, b"", b"text/plain", TO_DOCS)
        elif path == "/docs/":
            await send_body(send, 200, INDEX, b"text/html; charset=utf-8")
        elif path == WEBHOOKS:
            await send_body(send, 200, self.webhooks, b"text/html; charset=utf-8")
        elif path == RESOURCES:
            await send_body(send, 200, self.resources, b"text/html; charset=utf-8")
        elif path == GUIDES[:-1]:
            await send_body(send, 307, b"", b"text/plain", [(b"location", GUIDES.encode())])
        elif path.startswith(GUIDES) and (page := self.guides().get(path[len(GUIDES) :] or "index.html")):
            await send_body(send, 200, page, b"text/html; charset=utf-8")
        elif path == "/docs/incident-contract.js":
            await send_body(send, 200, INIT, b"text/javascript")
        elif path in self.assets:
            guessed = mimetypes.guess_type(path)[0] or "application/octet-stream"
            await send_body(send, 200, self.assets[path].read_bytes(), guessed.encode())
        elif path in CONTRACTS or (path in CONTROL and "control-plane" in self.documents):
            fmt = path.rsplit(".", 1)[1]
            kind = b"application/json" if fmt == "json" else b"application/yaml"
            await send_body(send, 200, self._contract(scope, path), kind)
        else:
            return False
        return True

    def guides(self) -> dict[str, bytes]:
        if self._guides is None:
            self._guides = {name: html.encode() for name, html in guide_pages(GUIDES_BACK).items()}
        return self._guides

    def base(self, scope: Scope) -> str:
        """The mock's base URL: its public URL, or the address of the socket that served `scope`."""
        if self.public_url is None:  # the socket's address: the server's, never the client's choice
            host, port = scope.get("server") or ("127.0.0.1", 80)
            name = f"[{host}]" if ":" in host else host
            self.public_url = f"{scope.get('scheme', 'http')}://{name}" + (f":{port}" if port else "")
        return self.public_url

    def _contract(self, scope: Scope, path: str) -> bytes:
        """A document (the contract or the control plane's), with `servers` naming this mock; rendered once
        per document and format."""
        name, fmt = path[1:].rsplit(".", 1)
        if path not in self.contracts:
            doc = copy.deepcopy(self.documents[name])
            doc["servers"] = [{"url": self.base(scope), "description": "This mock."}]
            text = (
                json.dumps(doc) if fmt == "json" else yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
            )
            self.contracts[path] = text.encode()
        return self.contracts[path]
