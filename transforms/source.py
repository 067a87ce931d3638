"""What a source is, declared once: its files, its columns, its suite and its staging table.

A landing source (docs/contracts/sources.md) is one ``Source``: the sub-folder and file
name pattern it arrives under, its columns with their kind, the Great Expectations suite
that validates it, and the staging table its rows go to. From the columns come the
staging table's DDL (``staging_tables``), the casts (``transforms/staging.py``, by kind),
which columns a quarantine detail may quote, which are checked against the calendar, and
which are dropped as the file is read; ``tests/test_sources.py`` checks the suite against
them (a not-null rule for each column that may not be empty, a format rule for each date,
timestamp and integer). Discovery, the sample generator and the tests read it too.
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
# code: a value from a closed list or a catalog; text: free text; id: an identifier;
# key: an employee's id, staged as its keyed hash; personal: a name or e-mail, dropped as
# the file is read; flag: true or false; money: an amount to the cent.
Kind = Literal[
    "code", "text", "id", "key", "personal", "date", "timestamp", "number", "money", "integer",
    "flag",
]  # fmt: skip
# How each kind is kept in staging.
SQL_TYPES: dict[str, str] = {
    "code": "TEXT", "text": "TEXT", "id": "TEXT", "key": "TEXT", "date": "DATE",
    "timestamp": "TIMESTAMP", "number": "DOUBLE PRECISION", "money": "NUMERIC(14, 2)",
    "integer": "INTEGER", "flag": "BOOLEAN",
}  # fmt: skip
# Kinds whose values may be quoted in a quarantine detail: they help an auditor and
# identify nobody (never an id, a key, a name, free text or an answer).
ECHOABLE_KINDS = frozenset({"code", "date", "timestamp", "number", "money", "integer", "flag"})
# Kinds checked against the calendar when cast (2023-02-30 matches an ISO pattern).
CALENDAR_KINDS = frozenset({"date", "timestamp"})
# The rule a suite must hold for each column of these kinds, by its name's ending.
FORMAT_RULES = {"date": "_is_iso_date", "timestamp": "_is_iso_timestamp", "integer": "_is_integer"}


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = True  # a file without it is rejected by name
    nullable: bool = False  # may be empty (else its suite quarantines an empty cell)
    staged_as: str | None = None  # its staging column, when not its own name
    # Values normalised before the cast (a codebook's ``Q07`` names column ``q07``).
    clean: Callable[[pd.Series], pd.Series] | None = field(default=None, compare=False)

    @property
    def target(self) -> str:
        """The staging column: a key is staged as ``<name>_key`` (employee_id ->
        employee_key), anything else under its own name unless declared otherwise."""
        if self.staged_as:
            return self.staged_as
        return self.name.removesuffix("_id") + "_key" if self.kind == "key" else self.name


DAY, YEAR = r"(\d{4}-\d{2}-\d{2})", r"(\d{4})"


def named(prefix: str, stamp: str = DAY) -> re.Pattern[str]:
    """A source's file names: ``<prefix><stamp>.csv``, any case; group 1 is the stamp."""
    return re.compile(rf"^{prefix}{stamp}\.csv$", re.IGNORECASE)


def columns(table: str, **clean: Callable[[pd.Series], pd.Series]) -> tuple[Column, ...]:
    """A source's columns from a small table, one a line, in the contract's order: the
    name, its kind, then ``optional`` (a file may lack it) and ``nullable`` (a cell may be
    empty); ``clean`` normalises a column's values before its cast."""
    found = []
    for line in table.strip().splitlines():
        name, kind, *flags = line.split()
        known = kind in SQL_TYPES or kind == "personal"
        if not known or set(flags) - {"optional", "nullable"}:
            raise ValueError(f"column {name}: {kind} {' '.join(flags)} is not a kind and flags")
        found.append(
            Column(
                name, kind,  # type: ignore[arg-type]  # checked against the kinds above
                required="optional" not in flags, nullable="nullable" in flags,
                clean=clean.get(name),
            )
        )  # fmt: skip
    return tuple(found)


@dataclass(frozen=True)
class Bound:
    """A value the file's name gives each of its rows (its date, its year), staged."""

    name: str
    binding: str  # the binding column validation adds (``_file_date``, ``_file_year``)
    kind: Kind


@dataclass(frozen=True)
class StagingColumn:
    name: str
    sql_type: str
    nullable: bool = False


@dataclass(frozen=True)
class StagingTable:
    """A staging table as its DDL declares it: ``batch_id`` first, then these columns."""

    name: str
    columns: tuple[StagingColumn, ...]

    @property
    def all_columns(self) -> tuple[StagingColumn, ...]:
        return (StagingColumn("batch_id", "INTEGER"), *self.columns)

    def create_sql(self) -> str:
        columns = ",\n    ".join(
            f"{c.name} {c.sql_type}{'' if c.nullable else ' NOT NULL'}" for c in self.all_columns
        )
        return f"CREATE TABLE {self.name} (\n    {columns}\n)"


@dataclass(frozen=True)
class Reference:
    """What validation and staging need besides the files: the catalog and the id key."""

    job_codes: list[str]
    job_families: list[str]
    pseudonyms: Pseudonymiser
    # Sanity bounds: a date outside them is a bad value (its row is quarantined).
    earliest: date = date(1950, 1, 1)
    latest: date = date(2099, 12, 31)


@dataclass(frozen=True)
class Derived:
    """A further staging table made from a chunk's validated rows by reshaping them (the
    survey's answers, one row per question): rows keep ``row_number`` and ``_file_no``."""

    table: StagingTable
    derive: Callable[[pd.DataFrame, Source], pd.DataFrame] = field(compare=False)


@dataclass(frozen=True)
class Source:
    name: str
    folder: str
    pattern: re.Pattern[str]  # group 1: the date (YYYY-MM-DD) or year (YYYY) in the name
    suite: str  # file name in expectations/
    columns: tuple[Column, ...]
    table: str  # its staging table: row_number, the bound values, then the columns kept
    bound: tuple[Bound, ...] = ()
    derived: tuple[Derived, ...] = ()
    # Answer columns whose names change every year (the survey's qNN), matched by pattern.
    repeating: re.Pattern[str] | None = None
    # A pseudonymised id column: quarantined rows keep its key, so history can tell an
    # employee whose row was set aside from one who vanished.
    key_column: str | None = None
    optional: bool = False  # a landing folder may lack this source altogether
    # Rows of single persons' answers: a correction's replaced rows are kept where no
    # reader (BI or auditor) can see them.
    private: bool = False
    # A full snapshot (every active employee): a file of no rows is an export that lost
    # them, rejected, never read as everyone gone. A log of changes may be empty.
    snapshot: bool = False
    notes: str = ""

    @property
    def tables(self) -> tuple[str, ...]:
        """Its staging tables; a correction replaces its rows in each."""
        return (self.table, *(d.table.name for d in self.derived))

    @property
    def staging_tables(self) -> tuple[StagingTable, ...]:
        main = StagingTable(
            self.table,
            (
                StagingColumn("row_number", "INTEGER"),
                *(StagingColumn(b.name, SQL_TYPES[b.kind]) for b in self.bound),
                *(StagingColumn(c.target, SQL_TYPES[c.kind], c.nullable) for c in self.kept),
            ),
        )
        return (main, *(d.table for d in self.derived))

    @property
    def kept(self) -> tuple[Column, ...]:
        """The columns read into the pipeline: every declared one but the personal."""
        return tuple(c for c in self.columns if c.kind != "personal")

    @property
    def column_names(self) -> list[str]:
        """Every declared column in contract order, personal ones included (as exported)."""
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.kept if c.required]

    def text_columns(self, frame: pd.DataFrame) -> list[str]:
        """The free-text columns present (they may reach BI relations as they are)."""
        return [c.name for c in self.columns if c.kind == "text" and c.name in frame]

    @property
    def personal_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == "personal"]

    @property
    def kept_columns(self) -> list[str]:
        return [c.name for c in self.kept]

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
