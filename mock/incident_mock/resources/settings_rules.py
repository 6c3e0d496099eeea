"""The settings' rules a declaration cannot express: incident roles, custom fields, their options and
incident statuses are served by the engine from their declarations (x-resources), and `SettingsStore`
adds what upstream states beyond them, before the engine writes:

- roles: the lead and reporter roles are built in and cannot be deleted; V1's `required` is deprecated:
  not kept, and answered false;
- custom fields: the deprecated V1 answers embed the field's options in sort order;
- options: only single_select and multi_select fields have options, and the values of one field are
  unique ignoring case (another field may hold the same value);
- statuses: the organisation configures `live` and `learning` statuses only: every other category
  (triage, paused, closed, declined, merged, canceled) is incident.io's, so a status of it cannot be
  created, changed or deleted; the last `live` status stays; a new status comes last of its category in
  the lifecycle order unless the body gives a rank, and the statuses from its rank on move down one.

What incidents hold (a status, a role, a field's value, an option) cannot be deleted: the incidents'
declaration refuses it, and their store answers `uses`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from incident_mock.domain.errors import ValidationFailed
from incident_mock.engine.store import ResourceStore

__all__ = ["CONFIGURABLE", "LIFECYCLE", "SettingsStore"]

Json = dict[str, Any]
invalid = ValidationFailed.invalid

ROLES = ("incident_roles", "incident_roles_v1")
FIELDS = ("custom_fields", "custom_fields_v1")
OPTIONS, STATUSES = "custom_field_options", "incident_statuses"
BUILT_IN_ROLES = ("lead", "reporter")
SELECT = ("single_select", "multi_select")
CONFIGURABLE = ("live", "learning")  # the status categories an organisation configures
# the status categories in lifecycle order: where a new status of a category goes
LIFECYCLE = ("triage", "live", "paused", "learning", "closed", "declined", "merged", "canceled")


class SettingsStore(ResourceStore):
    """The engine's store with the settings' rules (see the module's docstring)."""

    def create(
        self, name: str, body: Json, *, actor: Json | None = None, fixed: Mapping[str, Any] | None = None
    ) -> Json:
        with self.lock:
            body = self._checked(name, body, None)
            saved = super().create(name, body, actor=actor, fixed=fixed)
            if name == STATUSES:
                saved = self._place(saved, body.get("rank"))
            return saved

    def update(
        self,
        name: str,
        object_id: str,
        body: Json,
        *,
        actor: Json | None = None,
        fixed: Mapping[str, Any] | None = None,
    ) -> Json:
        with self.lock:
            body = self._checked(name, body, self.get(name, object_id, fixed))
            saved = super().update(name, object_id, body, actor=actor, fixed=fixed)
            if name == STATUSES and "rank" in body:
                saved = self._place(saved, body["rank"])
            return saved

    def delete(self, name: str, object_id: str, fixed: Mapping[str, Any] | None = None) -> Json:
        with self.lock:
            current = self.get(name, object_id, fixed)
            if name in ROLES and current.get("role_type") in BUILT_IN_ROLES:
                raise invalid("id", f"the {current['role_type']} role is built in and cannot be deleted")
            if name == STATUSES:
                self._managed(current, "deleted")
                live = [s for s in self.table(STATUSES).values() if s["category"] == "live"]
                if current["category"] == "live" and len(live) == 1:
                    raise invalid("id", "the organisation's last live status cannot be deleted")
            return super().delete(name, object_id, fixed)

    def answer(self, name: str, row: Json) -> Json:
        out = super().answer(name, row)
        if name == "custom_fields_v1":
            out["options"] = [self.answer(OPTIONS, o) for o in self.catalog.options_of(row["id"])]
        elif name == "incident_roles_v1":
            out["required"] = False  # deprecated: always false, for the roles V2 wrote too
        return out

    # --- the rules ---------------------------------------------------------------------------------------
    def _checked(self, name: str, body: Json, current: Json | None) -> Json:
        """The body to write, after the rules of a create (`current` None) or an update."""
        if name in ROLES:
            body = {k: v for k, v in body.items() if k != "required"}  # deprecated: answered false
        if name == OPTIONS:
            self._check_option(body, current)
        if name == STATUSES:
            if current is not None:
                self._managed(current, "changed")
            elif body.get("category") not in CONFIGURABLE:
                raise invalid(
                    "category",
                    f"{body.get('category')} statuses are managed by incident.io: "
                    f"only {' and '.join(CONFIGURABLE)} statuses can be created",
                )
        return body

    @staticmethod
    def _managed(status: Json, what: str) -> None:
        if status["category"] not in CONFIGURABLE:
            raise invalid(
                "id", f"{status['category']} statuses are managed by incident.io and cannot be {what}"
            )

    def _check_option(self, body: Json, current: Json | None) -> None:
        field_id = current["custom_field_id"] if current is not None else body.get("custom_field_id")
        field = self.table("custom_fields").get(field_id) if isinstance(field_id, str) else None
        if field is None:
            return  # an unknown field: the engine's reference check names it
        if current is None and field["field_type"] not in SELECT:
            raise invalid("custom_field_id", f"a {field['field_type']} field has no options")
        value = body.get("value")
        if not isinstance(value, str):
            return
        for option in self.table(OPTIONS).values():
            if (
                option is not current
                and option["custom_field_id"] == field_id
                and option["value"].casefold() == value.casefold()
            ):
                raise invalid("value", f"{field['name']} has an option {value!r} already")

    def _place(self, status: Json, rank: int | None) -> Json:
        """Give a status its rank: the one asked for, or else the rank after the last status of its category
        (or of the categories before it in the lifecycle). When another status holds that rank, every other
        status from it on moves down one."""
        table = self.table(STATUSES)
        others = [s for s in table.values() if s["id"] != status["id"]]
        if rank is None:
            step = LIFECYCLE.index(status["category"])
            rank = max((s["rank"] for s in others if LIFECYCLE.index(s["category"]) <= step), default=0) + 1
        taken = any(s["rank"] == rank for s in others)
        moved = {
            key: ({**s, "rank": s["rank"] + 1} if taken and s is not status and s["rank"] >= rank else s)
            for key, s in table.items()
        }
        placed = moved[status["id"]] = {**status, "rank": rank}
        self.catalog = self.catalog.with_table(self.resources[STATUSES].table, moved)
        return placed
