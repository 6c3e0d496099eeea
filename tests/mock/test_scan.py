"""scan.py and listing.matcher with no HTTP: a list is one pass, each incident tested once whatever the
number of filter values, and the same answer whether it runs in one step or in many."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from incident_contract.operations import operations
from incident_contract.query import ListQuery
from incident_mock.app import DEFAULT_FIXTURES
from incident_mock.domain.records import IncidentRecord
from incident_mock.resources.incidents import listing
from incident_mock.resources.incidents.scan import Scan
from incident_mock.resources.organisation import Rules, Store
from tests.mock.seed import CRITICAL, INVESTIGATING, MAJOR, MINOR


@pytest.fixture(scope="module")
def big(spec: dict[str, Any]) -> Store:
    """The fixtures and 300 incidents: severities cycle Minor, Major, Critical; every fifth is private."""
    with open(DEFAULT_FIXTURES, encoding="utf-8") as fh:
        store = Store(yaml.safe_load(fh), Rules.from_spec(spec))
    full = store.key_for("mock-key-full")
    assert full is not None
    for n in range(300):
        severity = (MINOR, MAJOR, CRITICAL)[n % 3]
        body = {
            "idempotency_key": f"s{n}",
            "severity_id": severity,
            "visibility": "private" if n % 5 == 0 else "public",
        }
        store.create_incident(body, full)
    return store


def parsed(raw: str, spec: dict[str, Any]) -> ListQuery:
    return listing.parse(raw, operations(spec)["Incidents V2#List"].parameters)


class Counted:
    """Wraps the compiled predicate and counts its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.compile = listing.matcher

    def __call__(self, query: ListQuery, catalog: Any) -> Any:
        test = self.compile(query, catalog)
        assert test is not None

        def counted(rec: IncidentRecord) -> bool:
            self.calls += 1
            return test(rec)

        return counted


@pytest.mark.parametrize("values", [1, 50, 500])
def test_each_incident_is_tested_once_whatever_the_number_of_values(
    big: Store, spec: dict[str, Any], monkeypatch: pytest.MonkeyPatch, values: int
) -> None:
    counted = Counted()
    monkeypatch.setattr(listing, "matcher", counted)
    raw = "&".join([f"severity[one_of]={MAJOR}"] * values) + f"&status[one_of]={INVESTIGATING}"
    page, _, total = big.list_incidents(parsed(raw, spec), private_ok=True)
    assert counted.calls == len(big.incidents)  # one pass, page and total together
    assert total == sum(1 for r in big.incidents if r.severity_id == MAJOR and r.status_id == INVESTIGATING)
    assert len(page) == min(25, total)


def test_an_unfiltered_page_stops_when_the_page_is_full(big: Store, spec: dict[str, Any]) -> None:
    found = big.scan(parsed("page_size=10", spec), private_ok=True)
    while not found.step(1):
        pass
    assert found.position == 11  # ten for the page, one to know there is more
    page, after, total = found.result()
    assert len(page) == 10 and after == page[-1].id and total == len(big.incidents)


@pytest.mark.parametrize(
    "raw",
    ["", "page_size=7", "sort_by=created_at_oldest_first&page_size=9", f"severity[gte]={MAJOR}&page_size=4",
     f"severity[one_of]={MINOR}&status_category[one_of]=live&filter_mode=any&page_size=30"],
)  # fmt: skip
@pytest.mark.parametrize("private_ok", [True, False])
def test_many_small_steps_give_the_answer_of_one_big_step(
    big: Store, spec: dict[str, Any], raw: str, private_ok: bool
) -> None:
    query = parsed(raw, spec)
    whole = big.scan(query, private_ok)
    assert whole.step(10**9)
    steps = big.scan(query, private_ok)
    count = 1
    while not steps.step(7):
        count += 1
    assert steps.result() == whole.result()
    pages, after = [], None
    while True:  # walking with the cursor visits each match once
        query.after = after
        page, after, total = big.list_incidents(query, private_ok)
        pages.extend(page)
        if after is None:
            break
    assert len(pages) == len({r.id for r in pages}) == total


def test_a_scan_of_a_store_being_freed_stops_without_error(big: Store, spec: dict[str, Any]) -> None:
    shrinking = list(big.incidents)
    found = Scan(shrinking, frozenset({"standard"}), True, lambda rec: True, parsed("", spec))
    found.step(5)
    del shrinking[10:]
    assert found.step(1000)
    assert found.result()[2] <= 10


def test_rank_and_category_filters_compile_to_id_sets(big: Store, spec: dict[str, Any]) -> None:
    test = listing.matcher(parsed(f"severity[gte]={MAJOR}", spec), big.catalog)
    assert test is not None
    assert {r.severity_id for r in big.incidents if test(r)} == {MAJOR, CRITICAL}


class Sliced(list[IncidentRecord]):
    """A list that counts the incidents its slices hand out (each one touched, in or out of cache)."""

    touched = 0

    def __getitem__(self, index: Any) -> Any:
        found = super().__getitem__(index)
        if isinstance(index, slice):
            Sliced.touched += len(found)
        return found


@pytest.mark.parametrize("sort", ["created_at_newest_first", "created_at_oldest_first"])
def test_an_unfiltered_page_looks_at_little_more_than_the_page(
    big: Store, spec: dict[str, Any], sort: str
) -> None:
    incidents = Sliced(big.incidents * 20)  # 6,000: more than a step
    query = parsed(f"page_size=10&sort_by={sort}", spec)
    Sliced.touched = 0
    found = Scan(incidents, frozenset({"standard"}), True, None, query)
    assert found.step()
    page, after, _ = found.result()
    assert len(page) == 10 and after is not None
    assert Sliced.touched < 100  # not a whole step's slice of 4,000
    hidden = Scan(incidents, frozenset({"standard"}), False, None, query)  # every fifth is private
    Sliced.touched = 0
    assert hidden.step()
    assert len(hidden.result()[0]) == 10 and Sliced.touched < 100
