"""render_cache.py: a rendering is reused until its record or the catalog changes; the cache is bounded."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from incident_mock.app import DEFAULT_FIXTURES
from incident_mock.domain.records import IncidentRecord, now
from incident_mock.engine.catalog import Catalog
from incident_mock.resources.incidents.render_cache import RenderCache
from tests.mock.seed import INVESTIGATING, MAJOR


@pytest.fixture
def catalog() -> Catalog:
    with open(DEFAULT_FIXTURES, encoding="utf-8") as fh:
        return Catalog.from_fixtures(yaml.safe_load(fh))


def record(n: int = 1) -> IncidentRecord:
    moment = now()
    return IncidentRecord(
        f"01REC{n}", n, n - 1, f"r{n}", "public", "standard", INVESTIGATING, MAJOR, "t", {}, moment, moment
    )


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, catalog: Catalog, rec: IncidentRecord) -> dict[str, Any]:
        self.calls += 1
        return {"name": rec.name, "severity": catalog.severities[rec.severity_id]["name"], "v": rec.version}


def test_a_rendering_is_reused_while_nothing_changes(catalog: Catalog) -> None:
    render = Counting()
    cache = RenderCache(render)
    rec = record()
    first = cache.encoded(rec, catalog)
    assert cache.encoded(rec, catalog) is first and render.calls == 1
    assert json.loads(first) == {"name": "r1", "severity": "Major", "v": 0}


def test_an_edited_record_is_rendered_again(catalog: Catalog) -> None:
    render = Counting()
    cache = RenderCache(render)
    rec = record()
    cache.encoded(rec, catalog)
    rec.name, rec.version = "edited", rec.version + 1
    assert json.loads(cache.encoded(rec, catalog))["name"] == "edited" and render.calls == 2


def test_a_new_catalog_makes_every_rendering_stale(catalog: Catalog) -> None:
    render = Counting()
    cache = RenderCache(render)
    rec = record()
    cache.encoded(rec, catalog)
    renamed = catalog.with_severities(
        {**catalog.severities, MAJOR: {**catalog.severities[MAJOR], "name": "Big"}}
    )
    assert renamed.generation == catalog.generation + 1
    assert json.loads(cache.encoded(rec, renamed))["severity"] == "Big" and render.calls == 2
    assert catalog.severities[MAJOR]["name"] == "Major"  # the old snapshot is untouched


def test_the_cache_is_bounded_and_drops_its_oldest_entry(catalog: Catalog) -> None:
    cache = RenderCache(Counting(), limit=3)
    records = [record(n) for n in range(1, 6)]
    for rec in records:
        cache.encoded(rec, catalog)
    assert len(cache) == 3
    assert list(cache.entries) == [r.id for r in records[2:]]
