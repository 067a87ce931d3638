"""What a source is, declared once: its files, columns, suite, casting and staging.

A landing source (docs/contracts/sources.md) is one ``Source``: the sub-folder and file
name pattern it arrives under, its columns with their kind, the Great Expectations suite
that validates it, and the function that turns validated rows into its staging tables.
Discovery, validation, casting checks, quarantine details, the sample generator and the
tests all read this declaration; adding a source is adding one (plus its suite and SQL).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import pandas as pd

from rxstaff.transforms.pseudonym import Pseudonymiser

FILE_NO = "_file_no"  # a row's file, by position in its validation chunk
# code: a value from a closed list or a catalog; id: an identifier (never echoed);
# personal: a name or e-mail, dropped as the file is read; text: free text (never echoed).
Kind = Literal["code", "date", "timestamp", "number", "integer", "id", "personal", "text"]
# Kinds whose values may be echoed in a quarantine detail: they help an auditor and
# identify nobody.
ECHOABLE_KINDS = frozenset({"code", "date", "timestamp", "number", "integer"})
# Kinds checked against the calendar when cast (2023-02-30 matches an ISO pattern).
CALENDAR_KINDS = frozenset({"date", "timestamp"})


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = True  # a file without it is rejected by name


@dataclass(frozen=True)
class Reference:
    """What validation and staging need besides the files: the catalog and the id key."""

    job_codes: list[str]
    job_families: list[str]
    pseudonyms: Pseudonymiser
    # Sanity bounds: a date outside them is a bad value (its row is quarantined).
    earliest: date = date(1950, 1, 1)
    latest: date = date(2099, 12, 31)


# Validated rows of a chunk (trimmed strings plus ``row_number``, ``_file_no`` and the
# binding columns) -> staging frames by table name.
StageFunction = Callable[[pd.DataFrame, Reference], dict[str, pd.DataFrame]]


@dataclass(frozen=True)
class Source:
    name: str
    folder: str
    pattern: re.Pattern[str]  # group 1: the date (YYYY-MM-DD) or year (YYYY) in the name
    suite: str  # file name in expectations/
    columns: tuple[Column, ...]
    stage: StageFunction
    tables: tuple[str, ...]  # staging tables it writes; a correction replaces its rows there
    # Answer columns whose names change every year (the survey's qNN), matched by pattern.
    repeating: re.Pattern[str] | None = None
    # A pseudonymised id column: quarantined rows keep its key, so history can tell an
    # employee whose row was set aside from one who vanished.
    key_column: str | None = None
    optional: bool = False  # a landing folder may lack this source altogether
    # Rows of single persons' answers: a correction's replaced rows are kept where no
    # reader (BI or auditor) can see them.
    private: bool = False
    notes: str = ""
    _names: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_names", tuple(c.name for c in self.columns))

    @property
    def column_names(self) -> list[str]:
        """Every declared column in contract order, personal ones included (as exported)."""
        return list(self._names)

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required and c.kind != "personal"]

    def text_columns(self, frame: pd.DataFrame) -> list[str]:
        """The free-text columns present (they may reach BI relations as they are)."""
        return [c.name for c in self.columns if c.kind == "text" and c.name in frame]

    @property
    def personal_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == "personal"]

    @property
    def kept_columns(self) -> list[str]:
        """The columns read into the pipeline: every declared one but the personal."""
        return [c.name for c in self.columns if c.kind != "personal"]

    @property
    def echoable_columns(self) -> frozenset[str]:
        return frozenset(c.name for c in self.columns if c.kind in ECHOABLE_KINDS)

    @property
    def calendar_columns(self) -> list[tuple[str, str]]:
        """(column, kind) of the dates and timestamps checked against the calendar."""
        return [(c.name, c.kind) for c in self.columns if c.kind in CALENDAR_KINDS]

    def repeating_columns(self, columns: list[str]) -> list[str]:
        if self.repeating is None:
            return []
        return [c for c in columns if self.repeating.match(c)]

    def known_columns(self, columns: list[str]) -> list[str]:
        """The declared columns kept, plus this file's repeating ones."""
        return self.kept_columns + self.repeating_columns(columns)
