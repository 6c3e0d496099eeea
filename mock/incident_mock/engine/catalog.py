"""The organisation's settings tables as one read-only snapshot: what incidents are built from and embed.

Nothing changes a `Catalog` in place. A settings write makes a new one (`with_severities`) carrying the
next `generation`, so whatever was derived from an older snapshot (a rendered incident in the render
cache) can tell it is stale, and the incident rules and list matching read a snapshot without knowing
about the store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from incident_mock.domain import errors
from incident_mock.domain.errors import NotFound

__all__ = ["Catalog", "find", "published_categories"]

Json = dict[str, Any]


def _table(rows: list[Json]) -> dict[str, Json]:
    return {row["id"]: dict(row) for row in rows}


@dataclass(frozen=True)
class Catalog:
    organisation: Json
    severities: Mapping[str, Json]
    types: Mapping[str, Json]
    statuses: Mapping[str, Json]
    custom_fields: Mapping[str, Json]
    options: Mapping[str, Json]
    roles: Mapping[str, Json]
    users: Mapping[str, Json]
    timestamps: Mapping[str, Json]
    generation: int = 0  # changes with every settings write

    @classmethod
    def from_fixtures(cls, fixtures: Json, category_aliases: Mapping[str, str] | None = None) -> Catalog:
        """The fixtures' tables; a status category written by an alias (`active`) is held, and answered, as
        the name it stands for (`live`)."""
        return cls(
            organisation=dict(fixtures["organisation"]),
            severities=_table(fixtures["severities"]),
            types=_table(fixtures["incident_types"]),
            statuses=_table(published_categories(fixtures["incident_statuses"], category_aliases or {})),
            custom_fields=_table(fixtures["custom_fields"]),
            options=_table(fixtures["custom_field_options"]),
            roles=_table(fixtures["incident_roles"]),
            users=_table(fixtures["users"]),
            timestamps=_table(fixtures["incident_timestamps"]),
        )

    def with_severities(self, severities: Mapping[str, Json]) -> Catalog:
        """The next snapshot, with these severities."""
        return dataclasses.replace(self, severities=severities, generation=self.generation + 1)

    def first_status(self, category: str) -> str | None:
        """The id of the lowest-ranked status of a category, if it has any."""
        ranked = sorted(
            (s for s in self.statuses.values() if s["category"] == category), key=lambda s: s["rank"]
        )
        return str(ranked[0]["id"]) if ranked else None

    def default_type(self) -> Json:
        """The incident type a create without `incident_type_id` gets."""
        return next((t for t in self.types.values() if t["is_default"]), next(iter(self.types.values())))

    def options_of(self, custom_field_id: str) -> list[Json]:
        """A custom field's options in their sort order (ties by id)."""
        mine = (o for o in self.options.values() if o["custom_field_id"] == custom_field_id)
        return sorted(mine, key=lambda o: (o["sort_key"], o["id"]))


def published_categories(statuses: list[Json], aliases: Mapping[str, str]) -> list[Json]:
    """Status definitions with each category alias (`active`, `post-incident`) replaced by the name it
    stands for; anything else as it was (a schema check, where there is one, judges it)."""
    return [
        {**s, "category": aliases[s["category"]]}
        if isinstance(s, dict) and isinstance(s.get("category"), str) and s["category"] in aliases
        else s
        for s in statuses
    ]


def find(table: Mapping[str, Json], kind: str, object_id: str) -> Json:
    """The row with this id, or NotFound naming the kind."""
    try:
        return table[object_id]
    except KeyError:
        raise NotFound(errors.NOT_FOUND.format(kind=kind, id=object_id)) from None
