"""Incident rules: turning a create payload into a record, applying an edit, rendering IncidentV2.

Each function reads the settings from a `Catalog` snapshot and knows nothing of the store. Every
function raises `ValidationFailed` before it changes anything, so a rejected request leaves the store as
it was.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping
from typing import Any

from incident_mock.domain.errors import ValidationFailed
from incident_mock.domain.limits import text_bytes
from incident_mock.domain.records import ApiKey, IncidentRecord, now, timestamp
from incident_mock.engine.catalog import Catalog

__all__ = ["apply_edit", "build", "creator_of", "render", "weight"]

Json = dict[str, Any]
# Status category -> the categories an edit may move an incident to: the contract's
# `x-status-category-moves` on the incident edit operation (incident_contract.facts.status_moves).
Moves = Mapping[str, frozenset[str]]


invalid = ValidationFailed.invalid


def _ref(table: Mapping[str, Json], value: str, field: str, pointer: str | None = None) -> Json:
    if value not in table:
        raise invalid(field, f"no such {field.removesuffix('_id').replace('_', ' ')} {value!r}", pointer)
    return table[value]


def build(
    catalog: Catalog,
    body: Json,
    key: ApiKey,
    incident_id: str,
    seq: int,
    moment: dt.datetime | None = None,
    creator: Json | None = None,
) -> IncidentRecord:
    """A new record from a create payload; `moment` is the store's clock (real time when left out), and
    `creator` the key's creator object, shared by its incidents (`creator_of`)."""
    severity = _ref(catalog.severities, body["severity_id"], "severity_id")
    if "incident_type_id" in body:
        kind = _ref(catalog.types, body["incident_type_id"], "incident_type_id")
    else:
        kind = catalog.default_type()
    if kind["private_incidents_only"] and body["visibility"] != "private":
        raise invalid("visibility", "this incident type only allows private incidents")
    status_id = body.get("incident_status_id")
    if status_id is not None:
        _ref(catalog.statuses, status_id, "incident_status_id")
    triage = catalog.first_status("triage")
    if triage and (kind["create_in_triage"] == "always" or status_id is None):
        status_id = triage
    status_id = status_id or catalog.first_status("live") or next(iter(catalog.statuses))
    moment = moment or now()
    number = seq + 1
    record = IncidentRecord(
        id=incident_id,
        number=number,
        seq=seq,
        name=body.get("name") or f"Incident INC-{number}",
        visibility=body["visibility"],
        mode=body.get("mode", "standard"),
        status_id=status_id,
        severity_id=severity["id"],
        type_id=kind["id"],
        creator=creator or creator_of(key),
        created_at=moment,
        updated_at=moment,
        summary=body.get("summary"),
        slack_channel_name_override=body.get("slack_channel_name_override"),
    )
    if record.mode == "retrospective":
        options = body.get("retrospective_incident_options", {})
        record.postmortem_document_url = options.get("postmortem_document_url")
        record.slack_channel_id = options.get("slack_channel_id", "")
    _set_fields(catalog, record, body, creating=True)
    return record


def weight(record: IncidentRecord) -> int:
    """The bytes of the strings the record holds of its own (ids shared with the catalog not counted)."""
    return text_bytes(
        record.name,
        record.summary,
        record.call_url,
        record.slack_channel_name_override,
        record.postmortem_document_url,
        record.slack_channel_id,
        record.custom_fields,
        record.timestamps,
    )


def creator_of(key: ApiKey) -> Json:
    """The `creator` of the incidents a key creates."""
    return {"api_key": {"id": key.id, "name": key.name}}


def _set_fields(catalog: Catalog, record: IncidentRecord, body: Json, creating: bool) -> None:
    for i, entry in enumerate(body.get("custom_field_entries", [])):
        at = f"/custom_field_entries/{i}"
        field = _ref(
            catalog.custom_fields, entry["custom_field_id"], "custom_field_id", f"{at}/custom_field_id"
        )
        record.custom_fields[field["id"]] = _values(catalog, field, entry["values"], at)
    for i, assignment in enumerate(body.get("incident_role_assignments", [])):
        at = f"/incident_role_assignments/{i}"
        role = _ref(
            catalog.roles, assignment["incident_role_id"], "incident_role_id", f"{at}/incident_role_id"
        )
        if role["role_type"] == "reporter" and not creating:
            raise invalid("incident_role_id", "the reporter can only be set when the incident is created", at)
        if "assignee" in assignment:
            record.roles[role["id"]] = _user(catalog, assignment["assignee"], f"{at}/assignee")
        else:
            record.roles.pop(role["id"], None)
    for i, value in enumerate(body.get("incident_timestamp_values", [])):
        at = f"/incident_timestamp_values/{i}/incident_timestamp_id"
        stamp = _ref(catalog.timestamps, value["incident_timestamp_id"], "incident_timestamp_id", at)
        if "value" in value:
            record.timestamps[stamp["id"]] = value["value"]
        else:
            record.timestamps.pop(stamp["id"], None)


VALUE_MEMBER = {"single_select": "value_option_id", "multi_select": "value_option_id", "text": "value_text",
                "link": "value_link", "numeric": "value_numeric"}  # fmt: skip


def _values(catalog: Catalog, field: Json, values: list[Json], at: str) -> list[Json]:
    member = VALUE_MEMBER.get(field["field_type"], "value_text")
    if field["field_type"] != "multi_select" and len(values) > 1:
        raise invalid("values", f"{field['name']} takes one value", f"{at}/values")
    for j, value in enumerate(values):
        pointer = f"{at}/values/{j}/{member}"
        if member not in value:
            raise invalid(member, f"{field['name']} is a {field['field_type']} field", pointer)
        if member == "value_option_id":
            option = catalog.options.get(value[member])
            if option is None or option["custom_field_id"] != field["id"]:
                raise invalid(member, f"no such option of {field['name']}", pointer)
        if member == "value_numeric":
            try:
                decimal.Decimal(value[member])
            except decimal.InvalidOperation:
                raise invalid(member, "not a decimal number", pointer) from None
    return [{member: v[member]} for v in values]


def _user(catalog: Catalog, ref: Json, at: str) -> str:
    for user in catalog.users.values():
        if any(
            ref.get(k) is not None and ref.get(k) == user.get(k) for k in ("id", "email", "slack_user_id")
        ):
            return str(user["id"])
    raise invalid("assignee", "no such user", at)


def apply_edit(catalog: Catalog, moves: Moves, record: IncidentRecord, changes: Json) -> None:
    for name in ("name", "summary", "call_url", "slack_channel_name_override"):
        if name in changes:
            setattr(record, name, changes[name])
    if "severity_id" in changes:
        record.severity_id = _ref(catalog.severities, changes["severity_id"], "severity_id")["id"]
    if "incident_status_id" in changes:
        target = _ref(catalog.statuses, changes["incident_status_id"], "incident_status_id")
        current = catalog.statuses[record.status_id]["category"]
        if target["category"] != current and target["category"] not in moves.get(current, frozenset()):
            detail = f"an incident cannot move from {current} to {target['category']}"
            raise invalid("incident_status_id", detail, "/incident/incident_status_id")
        record.status_id = target["id"]
    _set_fields(catalog, record, changes, creating=False)


def _embedded(obj: Json, drop: tuple[str, ...] = ()) -> Json:
    return {k: v for k, v in obj.items() if k not in drop}


def render(catalog: Catalog, rec: IncidentRecord) -> Json:
    """IncidentV2, embedding the current state of every referenced setting."""
    base = catalog.organisation["dashboard_url"]
    out: Json = {
        "id": rec.id,
        "reference": f"INC-{rec.number}",
        "name": rec.name,
        "visibility": rec.visibility,
        "mode": rec.mode,
        "incident_status": catalog.statuses[rec.status_id],
        "severity": catalog.severities[rec.severity_id],
        "incident_type": _embedded(catalog.types[rec.type_id], ("owning_team_ids",)),
        "creator": rec.creator,
        "custom_field_entries": [
            {"custom_field": _field_info(catalog, fid), "values": [_value(catalog, v) for v in values]}
            for fid, values in rec.custom_fields.items()
            if fid in catalog.custom_fields
        ],
        "incident_role_assignments": [
            {"role": role, **({"assignee": catalog.users[rec.roles[rid]]} if rid in rec.roles else {})}
            for rid, role in catalog.roles.items()
        ],
        "incident_timestamp_values": [
            {
                "incident_timestamp": ts,
                **({"value": {"value": rec.timestamps[tid]}} if tid in rec.timestamps else {}),
            }
            for tid, ts in catalog.timestamps.items()
        ],
        "slack_channel_id": rec.slack_channel_id,
        "slack_team_id": catalog.organisation["slack_team_id"],
        "permalink": f"{base}/incidents/{rec.number}",
        "team_ids": [],
        "last_activity_at": timestamp(rec.updated_at),
        "created_at": timestamp(rec.created_at),
        "updated_at": timestamp(rec.updated_at),
    }
    for name in ("summary", "call_url", "postmortem_document_url"):
        if getattr(rec, name) is not None:
            out[name] = getattr(rec, name)
    if rec.slack_channel_name_override:
        out["slack_channel_name"] = rec.slack_channel_name_override
    return out


def _field_info(catalog: Catalog, field_id: str) -> Json:
    field = catalog.custom_fields[field_id]
    options = catalog.options_of(field_id)
    return {k: field[k] for k in ("id", "name", "description", "field_type")} | {"options": options}


def _value(catalog: Catalog, value: Json) -> Json:
    if "value_option_id" in value:
        return {"value_option": catalog.options[value["value_option_id"]]}
    return dict(value)
