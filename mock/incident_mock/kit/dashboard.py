"""The dashboard: a read-only web page of the sandboxes, their incidents and journals, outside the contract.

Routes (GET and HEAD only; anything else is 405):
- `/dashboard` (and `/dashboard/`): the default sandbox (the fixtures' keys), the identity's `dashboard_url`;
- `/dashboard/sandboxes/{sandbox_id}`: any sandbox, the `dashboard_url` of the keys it gave out;
- `{either of those}/incidents/{number}`: one incident, its `permalink`;
- `/dashboard/unattributed`: the requests no sandbox claimed (no key, an unknown key, a path outside the
  contract), newest first.
Every page lists the sandboxes and links the unattributed journal; a sandbox's page shows its incidents and
its journal, newest first; an incident's page shows the incident and the journal entries that name it.

Plain server-rendered HTML: every string is escaped (incident names are user input), inline CSS only and a
Content-Security-Policy that allows nothing else (no script, no image, no frame). The Host check runs before
it. With an admin token, every page asks for it by HTTP Basic auth (the browser's own prompt: any user name,
the token as password, compared in constant time); without the token set, private incidents and the journal
entries that name one (by id in the path, query or a body, by number in the path, or a request asking for
`visibility: private`) are not shown. The unattributed journal hides the entries that name a private incident
of any sandbox. A page gathers the private incidents' ids once and tests each entry against that set, so
hiding costs one pass over the journal whatever the number of private incidents.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from html import escape
from typing import Any
from urllib.parse import quote, unquote_plus

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from incident_mock.domain.errors import NotFound
from incident_mock.domain.records import IncidentRecord, timestamp
from incident_mock.kit.journal import Entry, Journal
from incident_mock.kit.sandboxes import DEFAULT_ID, Sandboxes, SandboxState
from incident_mock.wire.responses import send_body

__all__ = ["PREFIX", "Dashboard", "page_path"]

Json = dict[str, Any]
PREFIX = "/dashboard"
UNATTRIBUTED = f"{PREFIX}/unattributed"
HIDDEN = "Private incidents and their journal entries are not shown."
FEW = 16  # up to this many private ids, a body is searched for each before it is split into its strings
SHOWN = 500  # rows per table at most: the page of a sandbox with 100,000 incidents stays small
REALM = b'Basic realm="incident-mock dashboard", charset="UTF-8"'
HTML = b"text/html; charset=utf-8"
HEADERS = [
    (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; font-size: 0.9rem; margin-top: 0.5rem; }
th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } code, pre { font-family: ui-monospace, monospace; font-size: 0.85rem; }
pre { white-space: pre-wrap; max-width: 60rem; margin: 0; } nav a { margin-right: 0.75rem; }
.private { color: #8250df; } .note { color: #57606a; } .bad { color: #cf222e; }
"""


def page_path(sandbox_id: str) -> str:
    """The path of a sandbox's page (the default's is the dashboard's root)."""
    return PREFIX if sandbox_id == DEFAULT_ID else f"{PREFIX}/sandboxes/{quote(sandbox_id, safe='')}"


class Dashboard:
    """Stage 5 (after the control plane): answers /dashboard and below, passes everything else on."""

    def __init__(self, app: ASGIApp, *, sandboxes: Sandboxes, admin_token: str | None = None) -> None:
        self.app, self.sandboxes = app, sandboxes
        self.admin_token = admin_token.encode() if admin_token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            body = _page("Method not allowed", "<p>The dashboard is read-only: GET only.</p>")
            await send_body(send, 405, body, HTML, [*HEADERS, (b"allow", b"GET, HEAD")])
            return
        if self.admin_token is not None and not self._authorised(Headers(scope=scope)):
            body = _page("Admin token needed", "<p>Sign in with any user name and the admin token.</p>")
            await send_body(send, 401, body, HTML, [*HEADERS, (b"www-authenticate", REALM)])
            return
        status, body = self.render(path, private_ok=self.admin_token is not None)
        await send_body(send, status, body, HTML, HEADERS)

    def _authorised(self, headers: Headers) -> bool:
        scheme, _, encoded = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic" or self.admin_token is None:
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            return False
        return hmac.compare_digest(decoded.partition(b":")[2], self.admin_token)

    # --- pages -------------------------------------------------------------------------------------
    def render(self, path: str, private_ok: bool) -> tuple[int, bytes]:
        """The status and HTML of a dashboard path."""
        parts = [p for p in path[len(PREFIX) :].split("/") if p]
        sandbox_id = DEFAULT_ID
        if parts == ["unattributed"]:
            return 200, self._unattributed_page(private_ok)
        if parts[:1] == ["sandboxes"] and len(parts) >= 2:
            sandbox_id, parts = parts[1], parts[2:]
        sandbox = self.sandboxes.by_id.get(sandbox_id)
        if sandbox is None:
            return 404, self._not_found(f"No sandbox with id {sandbox_id[:100]!r}")
        if not parts:
            return 200, self._sandbox_page(sandbox, private_ok)
        if len(parts) == 2 and parts[0] == "incidents" and parts[1].isascii() and parts[1].isdigit():
            try:
                record = sandbox.store.find_incident(parts[1], private_ok)
            except NotFound:
                return 404, self._not_found(f"No incident INC-{parts[1][:20]} in sandbox {sandbox.id}")
            return 200, self._incident_page(sandbox, record, private_ok)
        return 404, self._not_found(f"No dashboard page at {path[:200]}")

    def _nav(self, current: str | None) -> str:
        links = []
        for sandbox in self.sandboxes:
            label = "default" if sandbox.id == DEFAULT_ID else sandbox.id
            link = _link(page_path(sandbox.id), label)
            links.append(f"<strong>{link}</strong>" if sandbox.id == current else link)
        other = _link(UNATTRIBUTED, "unattributed requests")
        other = f"<strong>{other}</strong>" if current == UNATTRIBUTED else other
        return f"<nav>Sandboxes ({len(links)}): {' '.join(links)} &middot; {other}</nav>"

    def _not_found(self, message: str) -> bytes:
        return _page("Not found", f"{self._nav(None)}<p class='bad'>{escape(message)}</p>")

    def _sandbox_page(self, sandbox: SandboxState, private_ok: bool) -> bytes:
        store, base = sandbox.store, page_path(sandbox.id)
        records = [r for r in store.incidents if private_ok or r.visibility != "private"]
        rows = [
            f"<tr><td><a href='{escape(base)}/incidents/{r.number}'>INC-{r.number}</a></td>"
            f"<td>{escape(r.name)}</td><td>{escape(_name(store.catalog.severities, r.severity_id))}</td>"
            f"<td>{escape(_name(store.catalog.statuses, r.status_id))}</td>"
            f"<td class='{escape(r.visibility)}'>{escape(r.visibility)}</td><td>{escape(r.mode)}</td>"
            f"<td>{escape(timestamp(r.created_at))}</td></tr>"
            for r in reversed(records[-SHOWN:])
        ]
        incidents = _table(
            ["Reference", "Name", "Severity", "Status", "Visibility", "Mode", "Created"],
            rows,
            len(records),
            "No incidents yet.",
        )
        entries = _visible(sandbox.journal, private_ok, [sandbox], numbers=True)
        hidden = "" if private_ok else f" {HIDDEN}"
        keys = ", ".join(f"<code>{escape(k.id)}</code> ({escape(k.name)})" for k in sandbox.keys)
        body = (
            f"{self._nav(sandbox.id)}"
            f"<p class='note'>Created {escape(timestamp(sandbox.created_at))}. Keys: {keys}.{hidden}</p>"
            f"<h2>Incidents, newest first</h2>{incidents}"
            f"<h2>Journal, newest first</h2>{_journal(entries, sandbox.journal.dropped)}"
        )
        title = "Default sandbox" if sandbox.id == DEFAULT_ID else f"SandboxState {sandbox.id}"
        return _page(title, body)

    def _incident_page(self, sandbox: SandboxState, record: IncidentRecord, private_ok: bool) -> bytes:
        store = sandbox.store
        facts = [
            ("Reference", f"INC-{record.number}"),
            ("ID", record.id),
            ("Name", record.name),
            ("Severity", _name(store.catalog.severities, record.severity_id)),
            ("Status", _name(store.catalog.statuses, record.status_id)),
            ("Type", _name(store.catalog.types, record.type_id)),
            ("Visibility", record.visibility),
            ("Mode", record.mode),
            ("Summary", record.summary or ""),
            ("Created by", str(record.creator.get("api_key", {}).get("name", ""))),
            ("Created", timestamp(record.created_at)),
            ("Updated", timestamp(record.updated_at)),
        ]
        rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts)
        about = _Named([record], numbers=True)
        entries = [e for e in _visible(sandbox.journal, private_ok, [sandbox], True) if e in about]
        back = f"<a href='{escape(page_path(sandbox.id))}'>&larr; {escape(sandbox.id)}</a>"
        body = (
            f"{self._nav(sandbox.id)}<p>{back}</p><table>{rows}</table>"
            f"<h2>Its journal entries, newest first</h2>{_journal(entries)}"
        )
        return _page(f"INC-{record.number}: {record.name}", body)

    def _unattributed_page(self, private_ok: bool) -> bytes:
        journal = self.sandboxes.unattributed
        entries = _visible(journal, private_ok, self.sandboxes, numbers=False)
        hidden = "" if private_ok else " Entries that name a private incident of any sandbox are not shown."
        body = (
            f"{self._nav(UNATTRIBUTED)}<p class='note'>Requests no sandbox claimed: no key, an unknown key, "
            f"or a path outside the contract.{hidden}</p>"
            f"<h2>Journal, newest first</h2>{_journal(entries, journal.dropped)}"
        )
        return _page("Unattributed requests", body)


class _Named:
    """Some incidents as a journal entry may name them, gathered once to test a whole journal in one pass:
    an id as a path segment, a query value or a string in a body; a number as a path segment under
    `incidents` (only in a sandbox's own journal: elsewhere a number names no incident)."""

    def __init__(self, records: Iterable[IncidentRecord], numbers: bool) -> None:
        records = list(records)
        self.ids = frozenset(r.id for r in records)
        # as a body holds them: between two quotes, raw or escaped; one holding a quote is looked for whole
        forms = {f for r in records for f in (r.id.encode(), json.dumps(r.id)[1:-1].encode())}
        self.quoted = frozenset(f for f in forms if b'"' not in f)
        self.awkward = [b'"' + f + b'"' for f in forms if b'"' in f]
        self.numbers = frozenset(str(r.number) for r in records) if numbers else frozenset()

    def __contains__(self, entry: Entry) -> bool:
        if not self.ids:
            return False
        segments = entry.path.split("/")
        if not self.ids.isdisjoint(segments):
            return True
        if "incidents" in segments and not self.numbers.isdisjoint(segments):
            return True
        if entry.query and not self.ids.isdisjoint(re.split("[&=]", unquote_plus(entry.query))):
            return True
        for body in (entry.request_body, entry.response_body):
            if any(f in body for f in self.awkward):
                return True
            if len(self.quoted) <= FEW and not any(f in body for f in self.quoted):
                continue  # a few ids: a substring search each says "none here" faster than splitting
            if body and not self.quoted.isdisjoint(body.split(b'"')):  # one C pass, whatever the ids
                return True
        return False


def _visible(
    journal: Journal, private_ok: bool, sandboxes: Iterable[SandboxState], numbers: bool
) -> list[Entry]:
    """A journal newest first, without the entries that name a private incident of `sandboxes` (or ask for
    one) unless allowed."""
    entries = list(reversed(journal.entries))
    if private_ok:
        return entries
    private = (r for sandbox in sandboxes for r in sandbox.store.incidents if r.visibility == "private")
    named = _Named(private, numbers)
    return [e for e in entries if e not in named and not _asks_private(e)]


def _name(table: Mapping[str, Json], item_id: str) -> str:
    found = table.get(item_id)
    return str(found.get("name", item_id)) if found is not None else item_id


def _asks_private(entry: Entry) -> bool:
    if b"private" not in entry.request_body:
        return False
    try:
        body = json.loads(entry.request_body)
    except (ValueError, RecursionError):
        return True  # truncated or not JSON: shown only with the token
    return not isinstance(body, dict) or body.get("visibility") == "private"


def _link(path: str, label: str) -> str:
    return f'<a href="{escape(path)}">{escape(label)}</a>'


def _journal(entries: list[Entry], dropped: int = 0) -> str:
    rows = [
        f"<tr><td>{e.sequence}</td><td>{escape(timestamp(e.time))}</td><td>{escape(e.method)}</td>"
        f"<td><code>{escape(e.path)}{escape('?' + e.query if e.query else '')}</code></td>"
        f"<td>{escape(e.operation_id)}</td><td>{e.status}</td><td>{escape(e.key_id)}</td>"
        f"<td>{'yes' if e.replayed else ''}</td><td>{e.duration_ms:.1f}</td></tr>"
        for e in entries[:SHOWN]
    ]
    heads = ["#", "Time", "Method", "Path", "Operation", "Status", "Key", "Replayed", "ms"]
    gone = (
        f"<p class='note'>{dropped} older entries were dropped (the journal's bounds).</p>" if dropped else ""
    )
    return _table(heads, rows, len(entries), "No requests recorded.") + gone


def _table(heads: Iterable[str], rows: list[str], total: int, empty: str) -> str:
    if not rows:
        return f"<p class='note'>{escape(empty)}</p>"
    more = f"<p class='note'>The newest {len(rows)} of {total}.</p>" if total > len(rows) else ""
    head = "".join(f"<th>{escape(h)}</th>" for h in heads)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>{more}"


def _page(title: str, body: str) -> bytes:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)} · incident-mock</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>\n"
    ).encode()
