"""The organisation's tables as one read-only snapshot: what the engine serves, and what incidents are built
from and embed.

Nothing changes a `Catalog` in place. A write makes a new one (`with_table`) carrying the next
`generation`, so whatever was derived from an older snapshot (a rendered incident in the render cache)
can tell it is stale, and the incident rules and list matching read a snapshot without knowing about the
store. `tables` holds one table per declared resource (x-resources), by name, each id -> object in the
order the objects were created; the named attributes (`severities`, `types`, ...) are the tables incidents
read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from incident_contract.resources import packaged
from incident_mock.domain import errors
from incident_mock.domain.errors import NotFound

__all__ = ["Catalog", "find", "published_categories"]

Json = dict[str, Any]
Table = Mapping[str, Json]
# attribute -> the declared resource whose table it is
NAMED = {
    "severities": "severities",
    "types": "incident_types",
    "statuses": "incident_statuses",
    "custom_fields": "custom_fields",
    "options": "custom_field_options",
    "roles": "incident_roles",
    "users": "users",
    "timestamps": "incident_timestamps",
}


def _table(rows: list[Json]) -> dict[str, Json]:
    return {row["id"]: dict(row) for row in rows}


def _default_tables() -> dict[str, str]:
    return {r.name: r.fixtures for r in packaged().values() if r.storage == "engine" and r.table == r.name}


@dataclass(frozen=True)
class Catalog:
    organisation: Json
    tables: Mapping[str, Table]
    generation: int = 0  # changes with every write
    # the tables incidents read, as plain attributes (read on every incident create and render)
    severities: Table = field(init=False, repr=False)
    types: Table = field(init=False, repr=False)
    statuses: Table = field(init=False, repr=False)
    custom_fields: Table = field(init=False, repr=False)
    options: Table = field(init=False, repr=False)
    roles: Table = field(init=False, repr=False)
    users: Table = field(init=False, repr=False)
    timestamps: Table = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for attribute, name in NAMED.items():
            object.__setattr__(self, attribute, self.tables.get(name, {}))

    @classmethod
    def from_fixtures(
        cls,
        fixtures: Json,
        tables: Mapping[str, str] | None = None,
        category_aliases: Mapping[str, str] | None = None,
    ) -> Catalog:
        """From the fixtures: `tables` maps each resource to its fixtures table (the declared ones when
        not given); a table the fixtures lack starts empty. A status category written by an alias
        (`active`) is held, and answered, as the name it stands for (`live`)."""
        names = _default_tables() if tables is None else tables
        rows = dict(fixtures)
        if isinstance(rows.get("incident_statuses"), list):
            rows["incident_statuses"] = published_categories(
                rows["incident_statuses"], category_aliases or {}
            )
        return cls(
            organisation=dict(fixtures["organisation"]),
            tables={name: _table(rows.get(table, [])) for name, table in names.items()},
        )

    def with_table(self, name: str, table: Table) -> Catalog:
        """The next snapshot, with this table."""
        return replace(self, tables={**self.tables, name: table}, generation=self.generation + 1)

    def with_tables(self, changed: Iterable[tuple[str, Table]]) -> Catalog:
        """The next snapshot, with these tables (one generation for all of them)."""
        return replace(self, tables={**self.tables, **dict(changed)}, generation=self.generation + 1)

    def with_severities(self, severities: Table) -> Catalog:
        return self.with_table("severities", severities)

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


def find(table: Table, kind: str, object_id: str) -> Json:
    """The row with this id, or NotFound naming the kind."""
    try:
        return table[object_id]
    except KeyError:
        raise NotFound(errors.NOT_FOUND.format(kind=kind, id=object_id)) from None
