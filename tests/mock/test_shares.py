"""limits.Shares: fair shares of a mock-wide budget, refused (text, incidents) or reclaimed (journals), with
no HTTP. The attacks over sockets are in test_attacks_sharing.py."""

from __future__ import annotations

import datetime as dt

import pytest

from incident_mock.domain.errors import ValidationFailed
from incident_mock.domain.limits import Account, Limits, Shares, Totals
from incident_mock.kit.journal import Journal, JournalBudget


def test_each_holder_keeps_its_floor_and_may_borrow_what_no_floor_holds() -> None:
    shares: Shares[str] = Shares(100, 4)  # floor 25
    a, b = shares.join("a"), shares.join("b")
    assert shares.floor == 25 and shares.reserved == 50
    assert shares.admits(a, 75)  # 100 less b's unused floor
    assert not shares.admits(a, 76)
    shares.add(a, 75)
    assert shares.admits(b, 25) and not shares.admits(b, 26)  # b's floor is whole; nothing more is free
    assert not shares.can_join()  # a new holder's floor is borrowed by a: it must wait
    shares.add(a, -50)
    assert shares.can_join()
    c = shares.join("c")
    assert shares.admits(a, 25) and not shares.admits(a, 26)  # c's floor is reserved now
    shares.leave(c)
    shares.leave(a)
    assert (shares.used, shares.reserved) == (0, 25) and list(shares) == [b]


def test_the_floor_does_not_shrink_as_holders_join() -> None:
    shares: Shares[int] = Shares(1000, 10)
    holders = [shares.join(n) for n in range(10)]
    assert all(h.floor == 100 for h in holders) and not shares.can_join()
    for holder in holders:
        assert shares.admits(holder, 100)
        shares.add(holder, 100)
    assert shares.used == shares.total and shares.reserved == 0


def test_the_biggest_borrower_is_found_and_a_zero_floor_only_borrows() -> None:
    shares: Shares[str] = Shares(90, 3)  # floor 30
    a, b, anonymous = shares.join("a"), shares.join("b"), shares.join("anonymous", floor=0)
    shares.add(a, 40)
    shares.add(anonymous, 5)
    assert shares.borrower() is a and shares.borrower(other_than=a) is anonymous
    shares.add(a, -15)
    assert shares.borrower() is anonymous and shares.borrower(other_than=anonymous) is None
    assert b.over == 0 and anonymous.over == 5


def test_an_account_refuses_past_its_share_naming_the_floor() -> None:
    totals = Totals(Limits(max_sandboxes=4, max_total_incidents=8, max_text_bytes=4_000))
    mine, theirs = totals.account("mine"), totals.account("theirs")
    for _ in range(6):  # 8 less the floor of 2 that theirs holds
        mine.admit_incident()
        mine.add_incidents(1)
    with pytest.raises(ValidationFailed) as refused:
        mine.admit_incident()
    assert refused.value.code == "capacity_reached" and "2 incidents per sandbox" in str(refused.value)
    theirs.admit_incident()  # within its floor: never refused because of another
    theirs.add_incidents(2)
    mine.close()
    assert totals.incidents == 2
    alone = Account.alone(Limits(max_total_incidents=3))
    for _ in range(3):
        alone.admit_incident()
        alone.add_incidents(1)
    with pytest.raises(ValidationFailed):
        alone.admit_incident()


def record(journal: Journal, size: int) -> None:
    journal.record(
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "op", "POST", "/", "", 200, "k", "r", False, 0.0,
        b"x" * size, b"",
    )  # fmt: skip


def test_a_journal_within_its_floor_takes_room_back_from_the_biggest_borrower() -> None:
    budget = JournalBudget(30_000, slots=3)  # floor 10,000
    quiet, loud = Journal(1000, 10**6, 10**4, budget), Journal(1000, 10**6, 10**4, budget)
    for _ in range(40):
        record(loud, 1_000)  # about 1.5 KB each: it borrows everything
    assert budget.used <= 30_000 and loud.bytes > 20_000 and loud.dropped > 0
    before = loud.dropped
    for _ in range(6):
        record(quiet, 1_000)
    assert len(quiet) == 6 and quiet.dropped == 0 and not any(e.omitted for e in quiet.entries)
    assert loud.dropped > before and budget.used == quiet.bytes + loud.bytes <= 30_000
    loud.close()
    assert budget.used == quiet.bytes and budget.reserved == 10_000 - quiet.bytes
