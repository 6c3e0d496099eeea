"""VIS: private incidents exist only for keys with incidents.view_private.

For any other key they are missing from lists and counts, and show answers 404 exactly as for an id that
does not exist (a 403 would leak that the incident exists). The full key sees them everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from incident_conformance.context import CREATING, EDIT, LIST, SHOW, VIEW_PRIVATE, RunContext
from incident_conformance.marks import NAME_PREFIX
from incident_conformance.rules import Finding, Level, expect, found, rule
from incident_conformance.target import Target

PRIVATE = "private"


def _ids(ctx: RunContext, target: Target, pages: int = 4) -> set[str]:
    """Ids on the first pages of the test-mode list, newest first (our incidents are the newest)."""
    found: set[str] = set()
    after = None
    for _ in range(pages):
        answer = ctx.list_incidents(target, page_size=50, after=after)
        data: dict[str, Any] = answer.json() or {}
        found |= {str(i.get("id")) for i in data.get("incidents", []) if isinstance(i, dict)}
        after = (data.get("pagination_meta") or {}).get("after")
        if answer.status != 200 or not after:
            break
    return found


@rule(
    "VIS-1",
    Level.MUST,
    "private_incident_is_hidden_from_lists_and_counts",
    "A private incident is absent from the list, and from total_record_count, for a key without "
    "incidents.view_private.",
    needs_viewer=True,
    calls=CREATING,
)
def hidden_from_lists(ctx: RunContext) -> Iterator[Finding]:
    viewer = ctx.viewer_target()
    before = ctx.total(viewer)
    incident = ctx.create_ok("private-list", visibility=PRIVATE)
    after = ctx.total(viewer)
    listed = _ids(ctx, viewer)
    yield from found(
        expect(before is not None and before == after, "viewer's test-mode total after a private create",
               f"{before} (unchanged)", f"{after}"),
        expect(incident["id"] not in listed, "viewer's test-mode list", f"no incident {incident['id']}",
               f"incident {incident['id']} listed"),
    )  # fmt: skip


@rule(
    "VIS-2",
    Level.MUST,
    "private_incident_is_not_found_for_other_keys",
    "For a key without incidents.view_private, show of a private incident (by id and by number) answers "
    "404 not_found, and edit answers exactly what it answers for an id that does not exist.",
    needs_viewer=True,
    calls=CREATING,
)
def not_found(ctx: RunContext) -> Iterator[Finding]:
    viewer = ctx.viewer_target()
    incident = ctx.create_ok("private-show", visibility=PRIVATE)
    number = str(incident.get("reference", "")).rpartition("-")[2]
    for ref in [incident["id"], *([number] if number.isdigit() else [])]:
        answer = viewer.request("GET", ctx.path(SHOW, id=ref))
        yield from found(ctx.expect_error(answer, f"viewer shows private incident {ref}", 404, "not_found"))
    body = {"incident": {"name": f"{NAME_PREFIX} leaked"}, "notify_incident_channel": False}
    hidden = viewer.request("POST", ctx.path(EDIT, id=incident["id"]), json_body=body)
    missing = viewer.request("POST", ctx.path(EDIT, id=f"conformance-missing-{ctx.run_id}"), json_body=body)
    codes = [(a.status, (a.json() or {}).get("type")) for a in (hidden, missing)]
    yield from found(expect(
        codes[0] == codes[1] and codes[0][0] in (403, 404),
        "viewer edits a private incident",
        f"the answer for an unknown id: {missing.describe()}",
        hidden.describe(),
        hidden.curl,
    ))  # fmt: skip


@rule(
    "VIS-3",
    Level.MUST,
    "private_incident_is_visible_to_view_private_key",
    "The create answer returns the private incident to its creator, and a key with incidents.view_private "
    "sees it in show, in the list and in total_record_count.",
    calls=(*CREATING, SHOW, LIST),
    extra_scopes=(VIEW_PRIVATE,),
)
def visible_to_full(ctx: RunContext) -> Iterator[Finding]:
    before = ctx.total()
    exchange, incident = ctx.create("private-visible", visibility=PRIVATE)
    if failure := expect(incident.get("visibility") == PRIVATE, "create answer", "the private incident",
                         exchange.describe(), exchange.curl):  # fmt: skip
        yield failure
        return
    shown = ctx.full.request("GET", ctx.path(SHOW, id=incident["id"]))
    listed = incident["id"] in _ids(ctx, ctx.full)
    after = ctx.total()
    yield from found(
        expect(shown.status == 200, "full key shows the private incident", "200", shown.describe(),
               shown.curl),
        expect(listed, "full key's test-mode list", f"incident {incident['id']}", "not listed"),
        expect(before is not None and after == before + 1, "full key's test-mode total",
               f"{(before or 0) + 1}", f"{after} (was {before})"),
    )  # fmt: skip


@rule(
    "VIS-4",
    Level.MUST,
    "visibility_cannot_be_changed_by_edit",
    "Sending visibility in an edit is 422 naming visibility, and the incident stays private.",
    calls=(*CREATING, EDIT, SHOW),
)
def immutable(ctx: RunContext) -> Iterator[Finding]:
    incident = ctx.create_ok("private-edit", visibility=PRIVATE)
    body = {"incident": {"visibility": "public"}, "notify_incident_channel": False}
    answer = ctx.full.request("POST", ctx.path(EDIT, id=incident["id"]), json_body=body)
    shown = ctx.full.request("GET", ctx.path(SHOW, id=incident["id"]))
    now = ((shown.json() or {}).get("incident") or {}).get("visibility")
    yield from found(
        ctx.expect_error(answer, "edit setting visibility to public", 422, None, "visibility"),
        expect(
            now == PRIVATE, "incident after the edit", "visibility private", f"visibility {now!r}", shown.curl
        ),
    )
