"""Postmortem documents: attached (a link to a document kept elsewhere) or imported (markdown written
into the incident), kept in the store's `postmortem_documents` table, seeded from the fixtures table of
that name.

A document belongs to its incident and is seen exactly as its incident is: a key that may not see a
private incident finds none of its documents (404 on show, left out of lists). An incident's first
document, when it has no postmortem link either, becomes its main one: the incident's
`postmortem_document_url` is set to it. A document's status moves freely between `in_progress`,
`in_review` and `completed`; the webhook event of a move (x-resources `webhooks.update`) names the statuses
by the lifecycle names upstream's event uses (`created`, `review`, `complete`).
"""

from __future__ import annotations

from typing import Any

from incident_mock.domain import errors
from incident_mock.domain.errors import NotFound
from incident_mock.domain.limits import capacity_reached, text_bytes
from incident_mock.domain.records import IncidentRecord, timestamp
from incident_mock.engine import paging
from incident_mock.engine.store import ResourceStore

__all__ = [
    "EVENT_STATUS",
    "FIELDS",
    "TABLE",
    "answer",
    "attach",
    "content",
    "find",
    "listing",
    "save",
    "start",
]

Json = dict[str, Any]
TABLE = "postmortem_documents"
# PostmortemDocumentV1's properties: what an answer holds (a stored document also keeps its markdown)
FIELDS = (
    "id",
    "incident_id",
    "title",
    "status",
    "type",
    "document_url",
    "exported_urls",
    "editors",
    "created_at",
    "updated_at",
)
# a document's status -> its name in the postmortem_document_status_updated_v1 event
EVENT_STATUS = {"in_progress": "created", "in_review": "review", "completed": "complete"}


def answer(row: Json) -> Json:
    """PostmortemDocumentV1."""
    return {k: row[k] for k in FIELDS if k in row}


def find(store: ResourceStore, incident_of: Any, document_id: str, private_ok: bool) -> Json:
    """The document, if its incident is one the caller may see; 404 otherwise (as for an unknown id)."""
    row = store.table(TABLE).get(document_id)
    incident = incident_of(row["incident_id"]) if row is not None else None
    if row is None or incident is None or (incident.visibility == "private" and not private_ok):
        raise NotFound(errors.NOT_FOUND.format(kind="postmortem document", id=errors.shortened(document_id)))
    return row


def start(store: ResourceStore, incident: IncidentRecord, fields: Json) -> Json:
    """A new document of `incident` from `fields` (title, type, document_url, and markdown for an imported
    one), stored; the incident's first document becomes its main one."""
    with store.lock:
        table = store.table(TABLE)
        cap_name = store.resources[TABLE].cap
        cap = getattr(store.limits, cap_name)
        if len(table) >= cap:
            raise capacity_reached("postmortem documents", cap_name, cap)
        stamp = timestamp(store.clock.now())
        row: Json = {
            "id": store.ids.ulid(),
            "incident_id": incident.id,
            "status": "in_progress",
            "exported_urls": [],
            "editors": [],
            "created_at": stamp,
            "updated_at": stamp,
            **fields,
        }
        main = incident.postmortem_document_url is None and all(
            r["incident_id"] != incident.id for r in table.values()
        )
        held = text_bytes(row["title"], row["document_url"], row.get("markdown"))
        store.hold(held + (text_bytes(row["document_url"]) if main else 0))
        if main:
            incident.postmortem_document_url = row["document_url"]
            incident.version += 1  # its rendering changed
        save(store, row)
        return row


def save(store: ResourceStore, row: Json) -> None:
    store.catalog = store.catalog.with_table(TABLE, {**store.table(TABLE), row["id"]: row})


def attach(store: ResourceStore, incident: IncidentRecord, body: Json) -> Json:
    """PostmortemDocuments V1#Attach: a link to a document kept elsewhere."""
    return start(
        store,
        incident,
        {"title": f"Postmortem: {incident.name}", "type": "external", "document_url": body["permalink"]},
    )


def listing(
    rows: list[Json], sort_by: str, page_size: int, after: str | None
) -> tuple[list[Json], str | None]:
    """One page of `rows` (already filtered, in creation order) and the next page's cursor."""
    if sort_by != "created_at_oldest_first":
        rows = rows[::-1]
    return paging.cut(rows, page_size, after)


def content(row: Json, incident: IncidentRecord) -> str:
    """The document as markdown: an imported one's own text; for any other, a page naming the incident
    and linking the document."""
    if "markdown" in row:
        return str(row["markdown"])
    lines = [f"# {row['title']}", "", f"Incident INC-{incident.number}: {incident.name}", ""]
    if incident.summary:
        lines += ["## Summary", "", incident.summary, ""]
    lines += [f"The document is kept at {row['document_url']}", ""]
    return "\n".join(lines)
