"""The one rule for a landing file against the warehouse: new, unchanged or a correction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rxstaff.warehouse.arrivals import KnownFile, judge


@dataclass(frozen=True)
class File:
    source: str
    file_name: str
    sha256: str
    file_date: date = date(2024, 1, 5)


def test_unknown_file_is_new() -> None:
    [arrival] = judge([File("roster", "roster/roster_2024-01-05.csv", "a")], {})
    assert (arrival.verdict, arrival.prior, arrival.due) == ("new", None, True)


def test_same_content_is_unchanged_and_not_read_again() -> None:
    known = {("roster", "roster/roster_2024-01-05.csv"): KnownFile(3, "a", "loaded")}
    [arrival] = judge([File("roster", "roster/roster_2024-01-05.csv", "a")], known)
    assert (arrival.verdict, arrival.prior, arrival.due) == (
        "unchanged",
        known[next(iter(known))],
        False,
    )


def test_same_name_new_content_is_a_correction_of_the_live_batch() -> None:
    prior = KnownFile(3, "a", "loaded")
    known = {("budget", "budget/budget_releases_2024-01-05.csv"): prior}
    [arrival] = judge([File("budget", "budget/budget_releases_2024-01-05.csv", "b")], known)
    assert (arrival.verdict, arrival.prior, arrival.due) == ("correction", prior, True)


def test_a_rejected_file_sent_again_unchanged_stays_skipped_and_changed_is_retried() -> None:
    prior = KnownFile(4, "a", "rejected")
    known = {("roster", "roster/roster_2024-01-05.csv"): prior}
    same, fixed = judge(
        [
            File("roster", "roster/roster_2024-01-05.csv", "a"),
            File("roster", "roster/roster_2024-01-05.csv", "b"),
        ],
        known,
    )
    assert (same.verdict, fixed.verdict) == ("unchanged", "correction")


def test_files_are_known_by_source_and_name_together() -> None:
    known = {("survey", "survey/survey_items_2024.csv"): KnownFile(1, "a", "loaded")}
    [arrival] = judge([File("survey_items", "survey/survey_items_2024.csv", "a")], known)
    assert arrival.verdict == "new"
