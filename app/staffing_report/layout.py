"""What a page is made of, and what every page knows: the frames, the job titles, the
window the data covers and the smallest group the pack rates. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from rxstaff.staffing_report.numbers import missing, plain
from rxstaff.staffing_report.options import ReportOptions


@dataclass
class Section:
    title: str  # the finding, in words, true for the figures below it
    table: pd.DataFrame = field(default_factory=pd.DataFrame)  # cells already as text
    chart: dict[str, Any] | None = None  # a Vega-Lite specification
    alt: str = ""
    note: str = ""
    facts: list[str] = field(default_factory=list)  # page 1: the figures, in sentences
    link: str | None = None  # page 1: the slug of the page with the detail


@dataclass
class Page:
    slug: str
    title: str
    sections: list[Section] = field(default_factory=list)


@dataclass
class Context:
    frames: dict[str, pd.DataFrame]
    options: ReportOptions
    first_snapshot: date | None  # the first roster snapshot (None: not readable here)
    first_month: date | None  # the first month end of the headcount history
    as_of: date | None  # the latest roster snapshot: "open", "now" and "still" mean then
    titles: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        jobs = self.frames["jobs"]
        self.titles = dict(zip(jobs.job_code, jobs.job_title, strict=True))

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.frames[name]

    @property
    def min_n(self) -> int:
        return self.options.min_n

    def title(self, code: Any) -> str:
        """The job's title; a code the catalog does not know stays as it is."""
        return "-" if missing(code) else self.titles.get(str(code), str(code))

    def step(self, from_code: Any, to_code: Any) -> str:
        """A move between two jobs, the shared words said once: 'MAP Coordinator I -> II'."""
        before, after = self.title(from_code).split(), self.title(to_code).split()
        shared = 0
        while shared < min(len(before), len(after)) - 1 and before[shared] == after[shared]:
            shared += 1
        if shared == 0:
            return f"{' '.join(before)} → {' '.join(after)}"
        return f"{' '.join(before)} → {' '.join(after[shared:])}"

    def steps(self, moves: pd.DataFrame) -> list[str]:
        """The step of each row of ``moves`` (from_job_code, to_job_code)."""
        return [
            self.step(a, b) for a, b in zip(moves.from_job_code, moves.to_job_code, strict=True)
        ]

    @property
    def coverage(self) -> str:
        """The window the figures cover, in words."""
        return coverage(self.first_snapshot, self.first_month, self.as_of)

    def covered_year(self, year: int) -> bool:
        """Whether the data saw the whole year from its start (a week's grace: a weekly
        export's first snapshot falls in the year's first days)."""
        start = self.first_snapshot or self.first_month
        if start is None:
            return False
        return year > start.year or (year == start.year and start.timetuple().tm_yday <= 8)


def coverage(first_snapshot: date | None, first_month: date | None, as_of: date | None) -> str:
    """The window the data covers, in words: the first snapshot (where the reader sees
    the audit trail; else the first month of the history) to as_of_date."""
    if first_snapshot:
        start = first_snapshot.isoformat()
    elif first_month:
        start = f"{first_month:%B %Y}"
    else:
        start = "?"
    return f"{start} to {as_of.isoformat() if as_of else '?'}"


def table(frame: pd.DataFrame, columns: dict[str, str]) -> pd.DataFrame:
    """The columns people read, under their labels, each cell as text."""
    present = [c for c in columns if c in frame.columns]
    out = pd.DataFrame({columns[c]: frame[c].map(_name if "year" in c else _text) for c in present})
    return out.reset_index(drop=True)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else plain(value)


def _name(value: Any) -> str:
    """A year is a name, not a quantity: no thousands separator."""
    return "-" if missing(value) else str(int(value)) if not isinstance(value, str) else value
