"""The deprecated Incidents V1 over the same incidents as V2: a V1 rendering of the records, and a V1
create turned into a V2 create payload (the same rules, idempotency keys and events apply).

V1 knows six statuses and two modes where V2 has an organisation's own statuses and four modes:
- a V2 status is answered as the V1 status of its category: `triage`; `live` and `paused` statuses as
  `investigating`, `fixing` or `monitoring` when the status is so named (ignoring case), otherwise
  `investigating`; `learning` and `closed` as `closed`; `declined`, `merged` and `canceled` as `declined`;
- a V1 status in a create or a list filter names the V2 statuses answered as it (a create takes the
  lowest-ranked one; the incident type's triage rule still applies, as in V2);
- modes: V1 `real` is V2 `standard` (a retrospective incident is answered as `real`);
- a V1 create without `severity_id` gets the lowest-ranked severity; `slack_team_id` and the
  `source_message_*` fields are accepted and not kept.
"""

from __future__ import annotations

from typing import Any

from incident_mock.domain.errors import ValidationFailed
from incident_mock.domain.records import IncidentRecord, timestamp
from incident_mock.engine.catalog import Catalog
from incident_mock.resources.incidents import rules

__all__ = ["CREATE_FIELDS", "STATUSES", "render", "status_ids", "to_v2_payload", "v1_status"]

Json = dict[str, Any]
STATUSES = ("triage", "investigating", "fixing", "monitoring", "closed", "declined")
NAMED = ("investigating", "fixing", "monitoring")
BY_CATEGORY = {
    "triage": "triage",
    "learning": "closed",
    "closed": "closed",
    "declined": "declined",
    "merged": "declined",
    "canceled": "declined",
}
MODE_V1 = {"standard": "real", "retrospective": "real", "test": "test", "tutorial": "tutorial"}
# V1 create fields taken over as they are
CREATE_FIELDS = (
    "idempotency_key",
    "visibility",
    "name",
    "summary",
    "incident_type_id",
    "custom_field_entries",
    "incident_role_assignments",
)


def v1_status(status: Json) -> str:
    """The V1 status a V2 status is answered as."""
    found = BY_CATEGORY.get(status["category"])
    if found is not None:
        return found
    name = str(status["name"]).casefold()
    return name if name in NAMED else "investigating"


def status_ids(catalog: Catalog, wanted: set[str]) -> list[str]:
    """The ids of the V2 statuses answered as one of the `wanted` V1 statuses, lowest rank first."""
    ranked = sorted(catalog.statuses.values(), key=lambda s: (s["rank"], s["id"]))
    return [s["id"] for s in ranked if v1_status(s) in wanted]


def to_v2_payload(catalog: Catalog, body: Json) -> Json:
    """The V2 create payload a V1 create stands for."""
    payload = {k: body[k] for k in CREATE_FIELDS if k in body}
    payload["mode"] = "test" if body.get("mode") == "test" else "standard"
    if "severity_id" in body:
        payload["severity_id"] = body["severity_id"]
    else:
        ranked = sorted(catalog.severities.values(), key=lambda s: (s["rank"], s["id"]))
        if not ranked:
            raise ValidationFailed.invalid("severity_id", "the organisation has no severity to default to")
        payload["severity_id"] = ranked[0]["id"]
    if "status" in body:
        ids = status_ids(catalog, {body["status"]})
        if not ids:
            raise ValidationFailed.invalid("status", f"the organisation has no {body['status']} status")
        payload["incident_status_id"] = ids[0]
    return payload


def render(catalog: Catalog, rec: IncidentRecord) -> Json:
    """IncidentV1."""
    v2 = rules.render(catalog, rec)
    out: Json = {
        "id": rec.id,
        "reference": v2["reference"],
        "name": rec.name,
        "status": v1_status(catalog.statuses[rec.status_id]),
        "visibility": rec.visibility,
        "mode": MODE_V1[rec.mode],
        "creator": rec.creator,
        "severity": catalog.severities[rec.severity_id],
        "incident_type": catalog.types[rec.type_id],
        "incident_role_assignments": v2["incident_role_assignments"],
        "custom_field_entries": v2["custom_field_entries"],
        "timestamps": [
            {
                "name": ts["name"],
                **({"last_occurred_at": rec.timestamps[tid]} if tid in rec.timestamps else {}),
            }
            for tid, ts in catalog.timestamps.items()
        ],
        "slack_team_id": v2["slack_team_id"],
        "slack_channel_id": rec.slack_channel_id,
        "permalink": v2["permalink"],
        "created_at": timestamp(rec.created_at),
        "updated_at": timestamp(rec.updated_at),
    }
    for name in ("summary", "call_url", "postmortem_document_url", "slack_channel_name"):
        if name in v2:
            out[name] = v2[name]
    return out
